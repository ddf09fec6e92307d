// Text output shared by the subcommands.
#pragma once

#include "felis/train/evaluate.h"

#include <string>
#include <vector>

namespace felis::cli {

// Prints accuracy, precision and recall per class, then the confusion matrix with true
// classes as rows and predicted classes as columns.
void print_metrics(const ClassificationMetrics& metrics, const std::vector<std::string>& class_names);

// "99.04 %" for 0.990430.
std::string percent(double fraction);

}  // namespace felis::cli
