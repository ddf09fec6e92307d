// Output files that appear whole or not at all: written under a temporary name in the
// target's directory, then renamed over the target.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace felis {

// Throws felis::UsageError unless `path` can be created: its directory exists and it is
// not itself a directory. `option` names the option in the message, e.g. "--out".
void check_output_path(const std::filesystem::path& path, const std::string& option);

// Calls write(temporary_path), then renames the temporary file to `path`. When write
// throws, removes the temporary file and rethrows, so `path` keeps its old content.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path&)>& write);

// Writes `value` as indented JSON, atomically.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value);

}  // namespace felis
