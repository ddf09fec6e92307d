// Hand-built study results with known numbers, for the tests of the study's report.
#pragma once

#include "felis/study/study.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace felis::fixtures {

// The probe accuracies of one run, by magnitude. The clean point (magnitude 0) is added
// with the run's test accuracy.
struct ProbeAccuracies {
  std::vector<std::pair<double, double>> shift = {};   // (pixels, accuracy)
  std::vector<std::pair<double, double>> rotate = {};  // (degrees, accuracy)
  std::vector<std::pair<double, double>> tint = {};    // (gain, accuracy)
};

inline ProbeResult probe_result(Perturbation perturbation, double clean_accuracy,
                                const std::vector<std::pair<double, double>>& points) {
  ProbeResult result{.perturbation = perturbation, .points = {}};
  result.points.push_back({.magnitude = 0, .variants = 1, .accuracy = clean_accuracy});
  for (const auto& [magnitude, accuracy] : points) {
    result.points.push_back({.magnitude = magnitude, .variants = 2, .accuracy = accuracy});
  }
  return result;
}

inline RunRecord run_record(const std::string& model, const std::string& augmentation,
                            uint64_t seed, double train_accuracy, double test_accuracy,
                            const ProbeAccuracies& probes,
                            const nlohmann::json& details = nlohmann::json::object()) {
  RunRecord record;
  record.run.model = model;
  record.run.augmentation = augmentation;
  record.run.seed = seed;
  record.train_accuracy = train_accuracy;
  record.test_accuracy = test_accuracy;
  record.probes = {probe_result(Perturbation::shift, test_accuracy, probes.shift),
                   probe_result(Perturbation::rotate, test_accuracy, probes.rotate),
                   probe_result(Perturbation::tint, test_accuracy, probes.tint)};
  record.details = details;
  return record;
}

// Two seeds of cnn and logreg, each without augmentation and with shift augmentation, on
// images large enough for a 4-pixel shift probe. The means over the seeds, in percent:
//
//   cell           train  test (range)    4 px  10 deg  tint 20 %  tint 40 %
//   cnn none        99.5  86.0 (84-88)    80.1    70.0       75.0       60.0
//   cnn shift       98.5  86.2 (85-87.4)  85.9    72.0       76.0          -
//   logreg none    100.0  70.0 (68-72)    52.0       -       64.0       58.0
//   logreg shift   100.0  71.0 (70-72)    60.0       -          -          -
//
// cnn's runs contain epoch curves (SGD), and logreg's runs contain costs (full batch).
inline StudyResults hand_built_study() {
  const nlohmann::json cnn_curves_1 = {
      {"epoch_curves",
       {{{"epoch", 1}, {"loss", 0.6}, {"train_accuracy", 0.6}, {"test_accuracy", 0.60}},
        {{"epoch", 2}, {"loss", 0.5}, {"train_accuracy", 0.7}, {"test_accuracy", nullptr}},
        {{"epoch", 3}, {"loss", 0.4}, {"train_accuracy", 0.8}, {"test_accuracy", 0.80}}}},
      {"costs", {{{"iteration", 100}, {"cost", 0.5}}}}};
  const nlohmann::json cnn_curves_2 = {
      {"epoch_curves",
       {{{"epoch", 1}, {"loss", 0.6}, {"train_accuracy", 0.6}, {"test_accuracy", 0.70}},
        {{"epoch", 3}, {"loss", 0.4}, {"train_accuracy", 0.8}, {"test_accuracy", 0.90}}}},
      {"costs", nlohmann::json::array()}};
  const nlohmann::json logreg_costs_1 = {
      {"epoch_curves", nlohmann::json::array()},
      {"costs", {{{"iteration", 0}, {"cost", 0.7}}, {{"iteration", 100}, {"cost", 0.4}}}}};
  const nlohmann::json logreg_costs_2 = {
      {"epoch_curves", nlohmann::json::array()},
      {"costs", {{{"iteration", 0}, {"cost", 0.7}}, {{"iteration", 100}, {"cost", 0.2}}}}};

  StudyResults results;
  results.seeds_requested = 5;
  results.seeds_completed = 2;
  results.seconds = 12;
  results.runs = {
      run_record("cnn", "none", 1, 0.99, 0.84,
                 {.shift = {{1, 0.83}, {2, 0.82}, {4, 0.800}, {8, 0.6}},
                  .rotate = {{5, 0.8}, {10, 0.69}, {20, 0.5}},
                  .tint = {{0.1, 0.8}, {0.2, 0.74}, {0.4, 0.59}}},
                 cnn_curves_1),
      run_record("cnn", "shift", 1, 0.98, 0.85,
                 {.shift = {{4, 0.858}}, .rotate = {{10, 0.71}}, .tint = {{0.2, 0.75}}}),
      run_record("logreg", "none", 1, 1.0, 0.68,
                 {.shift = {{4, 0.50}}, .tint = {{0.2, 0.63}, {0.4, 0.57}}}, logreg_costs_1),
      run_record("logreg", "shift", 1, 1.0, 0.70, {.shift = {{4, 0.59}}}),
      run_record("cnn", "none", 2, 1.0, 0.88,
                 {.shift = {{1, 0.85}, {2, 0.84}, {4, 0.802}, {8, 0.6}},
                  .rotate = {{5, 0.8}, {10, 0.71}, {20, 0.5}},
                  .tint = {{0.1, 0.8}, {0.2, 0.76}, {0.4, 0.61}}},
                 cnn_curves_2),
      run_record("cnn", "shift", 2, 0.99, 0.874,
                 {.shift = {{4, 0.860}}, .rotate = {{10, 0.73}}, .tint = {{0.2, 0.77}}}),
      run_record("logreg", "none", 2, 1.0, 0.72,
                 {.shift = {{4, 0.54}}, .tint = {{0.2, 0.65}, {0.4, 0.59}}}, logreg_costs_2),
      run_record("logreg", "shift", 2, 1.0, 0.72, {.shift = {{4, 0.61}}}),
  };
  results.separability = {
      {"true_labels",
       {{"images_used", 40}, {"dimensions", 192}, {"positive_count", 17}, {"verdict", "separable"}}},
      {"shuffled_labels", {{"images_used", 40}, {"dimensions", 192}, {"verdict", "separable"}}}};
  return results;
}

}  // namespace felis::fixtures
