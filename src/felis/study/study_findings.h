// The study's findings, written as sentences from the measured numbers, and the learning
// curves of its baseline runs, with the text helpers that the report's tables share.
#pragma once

#include "felis/study/plot.h"
#include "felis/study/report.h"
#include "felis/study/study.h"
#include "felis/study/study_stats.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace felis {

// The findings of `results`, one sentence each, with the seed count and, for more than one
// seed, the min-max spread over seeds. The baseline is the runs without augmentation, or those of the first
// augmentation when "none" was not studied. In order:
// - per model: train and test accuracy of the baseline, and its test accuracy under the
//   largest probed shift of at most 4 pixels and under 20 % and 40 % tints;
// - after it, per other augmentation: the clean test accuracy and that under the shift, a
//   10-degree rotation and a 20 % tint, baseline -> augmented;
// - the separability of the training set, then the permutation and training-set size
//   controls.
// A probe point that no run measured is left out of its sentence.
std::vector<ReportFinding> study_findings(const StudyResults& results);

// Learning curves of the baseline runs, one series per model, mean over seeds at each x.
struct LearningCurves {
  // "test accuracy by epoch" for models trained by mini-batch SGD, whose runs' details
  // contain epoch_curves, then "cost by iteration" for full-batch models, whose runs
  // contain costs and no epoch_curves. A chart is left out when no model has points for it.
  std::vector<LineChart> charts;
  std::vector<std::string> models_without_curves;  // with neither kind of point
};
LearningCurves learning_curves(const StudyResults& results);

namespace detail {

// A fraction as a percent with one decimal, or "-" when it was not measured (NaN).
std::string pct(double fraction);

// Formats the min-max range of `s` in percent, e.g. "84.0-88.0 %".
std::string spread(const Summary& s);

// Joins `items` as "a", "a and b" or "a, b and c".
std::string join_list(const std::vector<std::string>& items);

// Formats the test accuracy at `fraction` in `accuracies`, a row of accuracy_by_fraction,
// as pct() does, or returns "-" when no run trained on that fraction.
std::string fraction_accuracy(const std::map<double, double>& accuracies, double fraction);

// Every chart draws a model in the same color: the model's position in the study.
int model_line_type(size_t model_index);

}  // namespace detail

}  // namespace felis
