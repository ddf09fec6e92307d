// Checks that keep an output file from replacing an input or another output.
#pragma once

#include <filesystem>
#include <string>

namespace felis::cli {

// True when `a` and `b` name one file: their canonical paths are equal, or both exist
// and are the same file (a hard link, for example).
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Throws felis::UsageError when `output` is the file `input`, or, when `input` is a
// directory, an existing file directly inside it, such as a split of a course-layout
// data set.
// `option` names the output's option in the message, e.g. "--out".
void check_not_input(const std::filesystem::path& output, const std::string& option,
                     const std::filesystem::path& input);

// Throws felis::UsageError when two outputs name one file.
void check_distinct_outputs(const std::filesystem::path& a, const std::string& a_option,
                            const std::filesystem::path& b, const std::string& b_option);

}  // namespace felis::cli
