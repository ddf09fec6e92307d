#include "print.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdio>

namespace felis::cli {

std::string percent(double fraction) { return fmt::format("{:.2f} %", 100.0 * fraction); }

void print_metrics(const ClassificationMetrics& metrics,
                   const std::vector<std::string>& class_names) {
  fmt::print("accuracy: {} ({} of {})\n\n", percent(metrics.accuracy), metrics.correct,
             metrics.count);
  size_t width = 5;
  for (const auto& name : class_names) width = std::max(width, name.size());
  fmt::print("{:<{}}  precision  recall\n", "class", width);
  for (size_t c = 0; c < class_names.size(); ++c) {
    fmt::print("{:<{}}  {:>9}  {:>6}\n", class_names[c], width, percent(metrics.precision[c]),
               percent(metrics.recall[c]));
  }
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted class)\n");
  fmt::print("{:<{}}", "", width + 2);
  for (size_t c = 0; c < class_names.size(); ++c) fmt::print(" {:>6}", c);
  fmt::print("\n");
  for (size_t r = 0; r < class_names.size(); ++r) {
    fmt::print("{:<{}}", fmt::format("{} {}", r, class_names[r]), width + 2);
    for (size_t c = 0; c < class_names.size(); ++c) fmt::print(" {:>6}", metrics.confusion[r][c]);
    fmt::print("\n");
  }
  std::fflush(stdout);
}

}  // namespace felis::cli
