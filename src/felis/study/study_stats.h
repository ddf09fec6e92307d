// Summaries of a study's runs for its report: the runs of one (model, augmentation) cell,
// their mean, min and max over seeds, probe accuracies, and the runs the controls are
// compared with. Every function only reads the StudyResults it is given.
#pragma once

#include "felis/study/probe.h"
#include "felis/study/study.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace felis {

// Mean, min and max of one number over the seeds of a (model, augmentation) cell.
struct Summary {
  double mean = 0.0;
  double min = 0.0;
  double max = 0.0;
  int64_t count = 0;
};

// Computes the mean, min and max of `values`, or returns all zeros when `values` is empty.
Summary summarize(const std::vector<double>& values);

// Returns the runs of `results` that trained `model` with `augmentation`, in the order of
// results.runs. The control runs are not included.
std::vector<const RunRecord*> cell(const StudyResults& results, const std::string& model,
                                   const std::string& augmentation);

// Summarizes the train or the test accuracy of `runs` over their seeds, as fractions.
Summary train_summary(const std::vector<const RunRecord*>& runs);
Summary test_summary(const std::vector<const RunRecord*>& runs);

// Mean accuracy at `magnitude` of probe `perturbation` over the runs, or NaN.
double probe_accuracy(const std::vector<const RunRecord*>& runs, Perturbation perturbation,
                      double magnitude);

// Lists the models or the augmentations of results.runs, each once, in the order of their
// first run.
std::vector<std::string> studied_models(const StudyResults& results);
std::vector<std::string> studied_augmentations(const StudyResults& results);

// The augmentation the others are compared with: "none", or the first one studied.
std::string baseline_augmentation(const std::vector<std::string>& augmentations);

// The seed-1 run of `model` without augmentation on the whole training set, if any.
const RunRecord* plain_seed_one(const StudyResults& results, const std::string& model);

// Test accuracy by model and training-set fraction: the fraction controls, and 1.0 from
// the plain seed-1 run.
std::map<std::string, std::map<double, double>> accuracy_by_fraction(const StudyResults& results);

}  // namespace felis
