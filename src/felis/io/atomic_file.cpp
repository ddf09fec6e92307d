#include "felis/io/atomic_file.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace felis {

namespace fs = std::filesystem;

void check_output_path(const fs::path& path, const std::string& option) {
  if (path.empty()) throw UsageError(fmt::format("{} needs a file name", option));
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code error;
  if (!fs::exists(directory, error)) {
    throw UsageError(fmt::format("{} {}: directory {} does not exist; create it or choose "
                                 "another path",
                                 option, path.string(), directory.string()));
  }
  if (!fs::is_directory(directory, error)) {
    throw UsageError(fmt::format("{} {}: {} is not a directory; choose another path", option,
                                 path.string(), directory.string()));
  }
  if (fs::is_directory(path, error)) {
    throw UsageError(fmt::format("{} {} is a directory; give a file name", option, path.string()));
  }
  if (access(directory.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{} {}: directory {} is not writable; choose another path",
                                 option, path.string(), directory.string()));
  }
}

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)) {
  temporary_ = path_;
  temporary_ += fmt::format(".tmp-{}", getpid());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void AtomicFile::write(const std::vector<char>& bytes) {
  auto fail = [&](const char* step) {
    const int code = errno;
    const char* fix = code == ENOSPC || code == EDQUOT ? "free space or choose another path"
                      : code == ENAMETOOLONG          ? "choose a shorter file name"
                                                      : "choose another path";
    throw Error(fmt::format("cannot write {}: {} failed: {}; {}", path_.string(), step,
                            std::strerror(code), fix));
  };
  // A file left under the temporary name by a killed run is removed first. O_EXCL and
  // O_NOFOLLOW then make sure the bytes go to a new file, never through a planted symlink.
  ::unlink(temporary_.c_str());
  const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0644);
  if (fd < 0) fail("open");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int code = errno;
      ::close(fd);
      errno = code;
      fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int code = errno;
    ::close(fd);
    errno = code;
    fail("fsync");
  }
  if (::close(fd) != 0) fail("close");
}

void AtomicFile::commit() {
  std::error_code error;
  fs::rename(temporary_, path_, error);
  if (error) {
    throw Error(fmt::format("cannot write {}: rename failed: {}", path_.string(), error.message()));
  }
  committed_ = true;
}

std::vector<char> json_bytes(const nlohmann::json& value) {
  const std::string text = value.dump(2) + "\n";
  return {text.begin(), text.end()};
}

void write_json_file(const fs::path& path, const nlohmann::json& value) {
  AtomicFile file(path);
  file.write(json_bytes(value));
  file.commit();
}

}  // namespace felis
