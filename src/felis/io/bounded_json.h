// JSON text from files, parsed with a bound on its nesting.
#pragma once

#include "felis/error.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <string>

namespace felis {

// Deepest nesting of arrays and objects accepted in JSON read from a file; felis writes a
// few levels. Printing a value recurses once per level, so a file nesting 100,000 levels
// crashed `felis info` with a stack overflow.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text` read from `source` (its name in messages), or returns a discarded value
// when it is not valid JSON. Throws felis::Error when it nests deeper than kMaxJsonDepth.
template <typename Text>
nlohmann::json parse_bounded_json(const Text& text, const std::string& source) {
  auto check_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) {
      throw Error(fmt::format("{} nests JSON deeper than {} levels", source, kMaxJsonDepth));
    }
    return true;
  };
  return nlohmann::json::parse(text, check_depth, /*allow_exceptions=*/false);
}

}  // namespace felis
