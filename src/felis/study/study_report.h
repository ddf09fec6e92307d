// The study's report: findings written from the measured numbers, tables and figures,
// assembled into one self-contained index.html.
#pragma once

#include "felis/study/plot.h"
#include "felis/study/report.h"
#include "felis/study/study.h"

#include <filesystem>
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

// Builds the report of `results` on `data`, reading the runs' models from DIR/runs, and
// writes every figure to DIR/figures as well. Throws felis::Error when a run's model file
// cannot be read or a chart cannot be drawn.
Report build_study_report(const StudyResults& results, const DataSplits& data,
                          const std::string& data_path, const std::filesystem::path& out,
                          ThreadPool& pool);

}  // namespace felis
