// The study grid: every (model, augmentation, seed) trained on one data set, scored on
// the clean test split and under the invariance probes.
//
// Runs are written to DIR/runs/<id>.json and DIR/runs/<id>.h5 as they finish, so a study
// interrupted and started again with the same DIR reuses every finished run whose
// settings match.
#pragma once

#include "felis/data/dataset.h"
#include "felis/study/probe.h"
#include "felis/train/trainer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace felis {

// The augmentations a study compares, by name: none, shift, rotate, tint, and all (the
// three together). Returns the spec for images of `shape`: shifts of about a sixteenth of
// the side, rotations up to 15 degrees, tints up to 20 %; gray images get constant
// (black) borders, RGB images reflected ones. Throws felis::UsageError for another name.
std::string study_augmentation_spec(const std::string& name, const ImageShape& shape);
const std::vector<std::string>& study_augmentation_names();

// The models a study compares by default: logistic (logreg for 2 classes, softmax for
// more), course-4layer for 2 classes or mlp for more, hier3 and cnn.
std::vector<std::string> default_study_models(int64_t classes);

struct StudyRun {
  std::string model;         // a preset
  std::string augmentation;  // a name from study_augmentation_names()
  uint64_t seed = 1;
  bool permuted = false;         // pixel positions shuffled by the permutation of `seed`
  double train_fraction = 1.0;   // share of the training set, a seeded subsample
  std::string id() const;    // e.g. "cnn-shift-s2" or "logreg-none-s1-permuted", for file names
};

struct RunRecord {
  StudyRun run;
  std::string augment_spec;
  double train_accuracy = 0.0;
  double test_accuracy = 0.0;
  double train_seconds = 0.0;
  bool reused = false;           // loaded from an earlier study in the same directory
  std::string model_digest;      // of DIR/runs/<id>.h5 as written; empty when reused
  std::vector<ProbeResult> probes;
  nlohmann::json details;        // epoch curves, costs, test metrics with the confusion matrix
};

struct StudyProgress {
  int64_t runs_done = 0;
  int64_t runs_planned = 0;           // with the seeds the budget allows so far
  std::vector<std::string> current;   // the runs in progress; empty when finished
  double elapsed_seconds = 0.0;
};

struct StudyOptions {
  std::filesystem::path out;  // DIR
  std::vector<std::string> models;         // empty: default_study_models
  std::vector<std::string> augmentations;  // empty: all of study_augmentation_names
  int64_t seeds = 5;
  double budget_seconds = 0.0;  // 0: no budget; otherwise seeds after the first start
                                // only while the estimate of one more pass fits
  int64_t train_images = 0;     // 0: the whole training split; else a seeded subsample
  int64_t test_images = 0;      // 0: the whole test split; else a seeded subsample
  int threads = 1;              // runs trained at once, one thread each
  // Called from the worker threads, one call at a time.
  std::function<void(const StudyProgress&)> on_progress = {};
  std::function<void(const RunRecord&)> on_run = {};
  std::function<void(const std::string& run_id, const StepRecord&)> on_step = {};
};

struct StudyResults {
  // Linear separability of the training set (at most kStudySeparabilityImages images,
  // class 1 or class 0 against the rest) with true labels and with shuffled ones.
  nlohmann::json separability;
  std::vector<RunRecord> runs;
  // Seed 1 of the first model and of cnn, when studied, without augmentation: with
  // pixels permuted, and on 25 % and 50 % of the training set.
  std::vector<RunRecord> control_runs;
  int64_t seeds_completed = 0;
  int64_t seeds_requested = 0;
  double budget_seconds = 0.0;
  int64_t train_images = 0;            // images the runs trained on
  int64_t train_images_available = 0;  // in the data set's training split
  int64_t test_images = 0;
  int64_t test_images_available = 0;
  double seconds = 0.0;
};

// Largest training subsample the separability control tests.
inline constexpr int64_t kStudySeparabilityImages = 2000;

// The probes every run gets: shift, rotate, tint and brightness, with magnitudes that
// fit images of `shape`.
std::vector<std::pair<Perturbation, std::vector<double>>> study_probes(const ImageShape& shape);

// The splits a study trains and scores on: `data`, or the subsamples that
// options.train_images and options.test_images ask for, drawn with a fixed seed so every
// run and the report see the same images. Throws felis::UsageError when `data` has no
// test split or a count is negative.
DataSplits study_splits(const DataSplits& data, const StudyOptions& options);

// Runs the grid on study_splits(data, options) seed by seed: every (model, augmentation)
// for seed 1, then the controls, then seed 2 and on while the budget allows. Trains
// options.threads runs at once. Throws felis::UsageError for an unknown model or
// augmentation and felis::Error when a run fails.
StudyResults run_study(const DataSplits& data, const std::string& data_path,
                       const StudyOptions& options);

nlohmann::json to_json(const RunRecord& record);
nlohmann::json to_json(const StudyResults& results);

}  // namespace felis
