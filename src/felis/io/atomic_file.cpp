#include "felis/io/atomic_file.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <unistd.h>

namespace felis {

namespace fs = std::filesystem;

void check_output_path(const fs::path& path, const std::string& option) {
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    throw UsageError(fmt::format("{} {}: directory {} does not exist; create it or choose "
                                 "another path",
                                 option, path.string(), directory.string()));
  }
  if (fs::is_directory(path, error)) {
    throw UsageError(fmt::format("{} {} is a directory; give a file name", option, path.string()));
  }
  if (access(directory.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{} {}: directory {} is not writable", option, path.string(),
                                 directory.string()));
  }
}

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path temporary = path;
  temporary += fmt::format(".tmp-{}", getpid());
  try {
    write(temporary);
    fs::rename(temporary, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

void write_json_file(const fs::path& path, const nlohmann::json& value) {
  write_atomically(path, [&](const fs::path& temporary) {
    std::ofstream out(temporary);
    out << value.dump(2) << '\n';
    out.flush();
    if (!out) throw Error(fmt::format("failed to write {}", temporary.string()));
  });
}

}  // namespace felis
