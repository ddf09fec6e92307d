// Fuzz inputs as files, for the loaders that read from a path.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace felis::fuzz {

// A directory of this process's own under the temporary directory, so that fuzzers run
// side by side do not share files. It is removed when the process exits.
inline const std::filesystem::path& scratch_directory() {
  static const std::filesystem::path directory = [] {
    const auto path = std::filesystem::temp_directory_path() /
                      ("felis-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  static const bool removed_at_exit = std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }) == 0;
  (void)removed_at_exit;
  return directory;
}

// Writes `size` bytes to `name` in the scratch directory and returns its path.
inline std::filesystem::path write_input(const std::string& name, const uint8_t* data,
                                         size_t size) {
  const auto path = scratch_directory() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace felis::fuzz
