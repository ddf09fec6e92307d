// Output files that appear whole or not at all: written under a temporary name in the
// target's directory, then renamed over the target.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace felis {

// Throws felis::UsageError unless `path` can be created: it is not empty, its directory
// exists and is writable, and it is not itself a directory. `option` names the option in
// the message, e.g. "--out".
void check_output_path(const std::filesystem::path& path, const std::string& option);

// A file written in full to `<path>.tmp-<pid>`, then renamed to `path` by commit().
// The temporary file is removed if commit() is never reached, so `path` keeps its old
// content whenever writing fails.
class AtomicFile {
public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Writes `bytes` to the temporary file and flushes them to disk. Throws felis::Error
  // naming `path` and the system's reason (for example, no space left on device).
  void write(const std::vector<char>& bytes);
  // Renames the temporary file to `path`. Throws felis::Error on failure.
  void commit();

  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

// Writes `value` as indented JSON, atomically.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value);

// The bytes of `value` as indented JSON with a final newline.
std::vector<char> json_bytes(const nlohmann::json& value);

}  // namespace felis
