#include "felis/data/codecs.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace felis {

namespace {

constexpr const char* kModuleName = "libfelis_codecs.so";

using ReadFunction = void (*)(const std::string*, int, cv::Mat*);
using EncodeFunction = bool (*)(const std::string*, const cv::Mat*, std::vector<uchar>*);

struct Codecs {
  ReadFunction read = nullptr;
  EncodeFunction encode = nullptr;
};

// Loads the module once per process; the handle stays open until the process ends.
const Codecs& codecs() {
  static Codecs loaded;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    // Where the build put it, else beside the program, for a felis copied elsewhere
    // together with the module. Each failed candidate adds its reason to the message.
    std::vector<std::string> candidates{FELIS_CODECS_MODULE};
    std::error_code error;
    const auto program = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) candidates.push_back((program.parent_path() / kModuleName).string());
    for (const auto& candidate : candidates) {
      void* module = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (module == nullptr) {
        failure += fmt::format("{}{}", failure.empty() ? "" : "; ", dlerror());
        continue;
      }
      loaded.read = reinterpret_cast<ReadFunction>(dlsym(module, "felis_read_image_file"));
      loaded.encode = reinterpret_cast<EncodeFunction>(dlsym(module, "felis_encode_image"));
      if (loaded.read != nullptr && loaded.encode != nullptr) {
        failure.clear();
        return;
      }
      failure += fmt::format("{}{}: not felis's codecs module", failure.empty() ? "" : "; ",
                             candidate);
    }
  });
  if (!failure.empty()) {
    throw Error(fmt::format("cannot load felis's image codecs ({}); rebuild felis with "
                            "./build.sh, or put {} beside the felis program",
                            failure, kModuleName));
  }
  return loaded;
}

}  // namespace

cv::Mat read_image_file(const std::string& path, int flags) {
  cv::Mat image;
  codecs().read(&path, flags, &image);
  return image;
}

bool encode_image(const std::string& extension, const cv::Mat& image, std::vector<uchar>& bytes) {
  return codecs().encode(&extension, &image, &bytes);
}

}  // namespace felis
