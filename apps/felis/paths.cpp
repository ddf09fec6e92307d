#include "paths.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

namespace felis::cli {

namespace fs = std::filesystem;

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  if (fs::equivalent(a, b, error) && !error) return true;
  std::error_code ignored;
  return fs::weakly_canonical(a, ignored) == fs::weakly_canonical(b, ignored);
}

void check_not_input(const fs::path& output, const std::string& option, const fs::path& input) {
  bool clash = same_file(output, input);
  std::error_code error;
  if (!clash && fs::is_directory(input, error) && fs::exists(output, error)) {
    clash = same_file(output.parent_path().empty() ? fs::path(".") : output.parent_path(), input);
  }
  if (clash) {
    throw UsageError(fmt::format("{} {} would replace an input file of {}; give another file name",
                                 option, output.string(), input.string()));
  }
}

void check_distinct_outputs(const fs::path& a, const std::string& a_option, const fs::path& b,
                            const std::string& b_option) {
  if (same_file(a, b)) {
    throw UsageError(fmt::format("{} and {} both name {}; give two different files", a_option,
                                 b_option, a.string()));
  }
}

}  // namespace felis::cli
