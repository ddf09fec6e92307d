// The study grid: every cell run and stored, reuse of finished runs, and the budget.
#include "felis/study/study.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <fstream>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

DataSplits small_splits() {
  DataSplits data;
  data.train = fixtures::synthetic_dataset(40, 8, 1, 2, 1);
  data.test = fixtures::synthetic_dataset(20, 8, 1, 2, 2);
  return data;
}

StudyOptions small_options(const fixtures::TempDir& dir) {
  StudyOptions options;
  options.out = dir / "study";
  options.models = {"logreg"};
  options.augmentations = {"none", "shift"};
  options.seeds = 2;
  return options;
}

TEST(StudyAugmentation, SpecsFollowTheImages) {
  EXPECT_EQ(study_augmentation_spec("shift", {.height = 64, .width = 64, .channels = 3}), "shift:4");
  EXPECT_EQ(study_augmentation_spec("shift", {.height = 28, .width = 28, .channels = 1}),
            "shift:2:border=constant");
  EXPECT_EQ(study_augmentation_spec("all", {.height = 64, .width = 64, .channels = 3}),
            "shift:4, rotate:15, tint:0.2");
  EXPECT_EQ(study_augmentation_spec("none", {.height = 8, .width = 8, .channels = 1}), "none");
  EXPECT_THROW(study_augmentation_spec("zoom", {.height = 8, .width = 8, .channels = 1}), UsageError);
}

TEST(StudyGrid, RunsEveryCellThenReusesThem) {
  fixtures::TempDir dir;
  const DataSplits data = small_splits();
  const StudyResults first = run_study(data, "synthetic", small_options(dir));
  ASSERT_EQ(first.runs.size(), 4u);
  EXPECT_EQ(first.seeds_completed, 2);
  EXPECT_EQ(first.runs[0].run.id(), "logreg-none-s1");
  EXPECT_EQ(first.runs[3].run.id(), "logreg-shift-s2");
  EXPECT_EQ(first.runs[1].augment_spec, "shift:1:border=constant");
  for (const auto& run : first.runs) {
    EXPECT_FALSE(run.reused);
    EXPECT_TRUE(std::filesystem::exists(dir / "study" / "runs" / (run.run.id() + ".json")));
    EXPECT_TRUE(std::filesystem::exists(dir / "study" / "runs" / (run.run.id() + ".h5")));
    ASSERT_EQ(run.probes.size(), 4u);
    // Magnitude 0 of every probe is the clean test set.
    for (const auto& probe : run.probes) EXPECT_EQ(probe.points[0].accuracy, run.test_accuracy);
  }
  EXPECT_GT(first.runs[0].test_accuracy, 0.7);
  // Controls: logreg with permuted pixels, and on 25 % and 50 % of the training set.
  ASSERT_EQ(first.control_runs.size(), 3u);
  EXPECT_EQ(first.control_runs[0].run.id(), "logreg-none-s1-permuted");
  EXPECT_EQ(first.control_runs[1].run.id(), "logreg-none-s1-f25");
  EXPECT_EQ(first.control_runs[2].run.id(), "logreg-none-s1-f50");
  // Full-batch logistic regression cannot tell permuted pixels from intact ones.
  EXPECT_EQ(first.control_runs[0].test_accuracy, first.runs[0].test_accuracy);
  // 40 images in 64 dimensions: separable with true and with shuffled labels.
  EXPECT_EQ(first.separability["true_labels"]["verdict"], "separable");
  EXPECT_EQ(first.separability["shuffled_labels"]["verdict"], "separable");

  const StudyResults second = run_study(data, "synthetic", small_options(dir));
  ASSERT_EQ(second.runs.size(), 4u);
  for (size_t i = 0; i < second.runs.size(); ++i) {
    EXPECT_TRUE(second.runs[i].reused) << i;
    EXPECT_EQ(second.runs[i].test_accuracy, first.runs[i].test_accuracy) << i;
    EXPECT_EQ(to_json(second.runs[i].probes[0]), to_json(first.runs[i].probes[0])) << i;
  }
}

TEST(StudyGrid, OtherDataTrainsAgain) {
  fixtures::TempDir dir;
  DataSplits data = small_splits();
  StudyOptions options = small_options(dir);
  options.seeds = 1;
  options.augmentations = {"none"};
  run_study(data, "synthetic", options);
  data.test = fixtures::synthetic_dataset(21, 8, 1, 2, 3);
  const StudyResults again = run_study(data, "synthetic", options);
  ASSERT_EQ(again.runs.size(), 1u);
  EXPECT_FALSE(again.runs[0].reused);
}

TEST(StudyGrid, BudgetKeepsTheFirstSeedOnly) {
  fixtures::TempDir dir;
  StudyOptions options = small_options(dir);
  options.seeds = 5;
  options.budget_seconds = 1e-6;
  const StudyResults results = run_study(small_splits(), "synthetic", options);
  EXPECT_EQ(results.seeds_completed, 1);
  EXPECT_EQ(results.seeds_requested, 5);
  EXPECT_EQ(results.runs.size(), 2u);
  EXPECT_EQ(results.control_runs.size(), 3u);
}

TEST(StudyGrid, TwoRunsAtOnceGiveTheSameRecords) {
  // Each run trains on one thread whichever worker takes it, so the records, kept in
  // the grid's order, match a one-thread study.
  fixtures::TempDir one_dir;
  fixtures::TempDir two_dir;
  StudyOptions one_worker = small_options(one_dir);
  one_worker.models = {"logreg", "mlp"};
  StudyOptions two = small_options(two_dir);
  two.models = one_worker.models;
  two.threads = 2;
  std::vector<std::string> steps_seen;
  two.on_step = [&](const std::string& id, const StepRecord& step) {
    if (step.step == 1) steps_seen.push_back(id);
  };
  const StudyResults a = run_study(small_splits(), "synthetic", one_worker);
  const StudyResults b = run_study(small_splits(), "synthetic", two);
  ASSERT_EQ(a.runs.size(), 8u);
  ASSERT_EQ(b.runs.size(), 8u);
  for (size_t i = 0; i < a.runs.size(); ++i) {
    EXPECT_EQ(b.runs[i].run.id(), a.runs[i].run.id()) << i;
    EXPECT_EQ(b.runs[i].test_accuracy, a.runs[i].test_accuracy) << i;
    EXPECT_EQ(b.runs[i].details["costs"], a.runs[i].details["costs"]) << i;
    EXPECT_EQ(to_json(b.runs[i].probes[1]), to_json(a.runs[i].probes[1])) << i;
  }
  ASSERT_EQ(b.control_runs.size(), 3u);
  EXPECT_EQ(b.control_runs[2].run.id(), "logreg-none-s1-f50");
  EXPECT_EQ(b.control_runs[2].test_accuracy, a.control_runs[2].test_accuracy);
  // Every run of both seeds and the three controls reported its first step.
  EXPECT_EQ(steps_seen.size(), 11u);
}

TEST(StudyGrid, SubsamplesTheSplitsWhenAsked) {
  fixtures::TempDir dir;
  StudyOptions options = small_options(dir);
  options.train_images = 25;
  options.test_images = 10;
  const DataSplits splits = study_splits(small_splits(), options);
  EXPECT_EQ(splits.train.count, 25);
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->count, 10);
  EXPECT_EQ(splits.train.pixels.size(), 25u * 64u);
  // The same draw every time, so a rerun reuses its runs and the report shows those images.
  EXPECT_EQ(study_splits(small_splits(), options).train.pixels, splits.train.pixels);
  options.seeds = 1;
  options.augmentations = {"none"};
  const StudyResults results = run_study(small_splits(), "synthetic", options);
  EXPECT_EQ(results.train_images, 25);
  EXPECT_EQ(results.train_images_available, 40);
  EXPECT_EQ(results.test_images, 10);
  EXPECT_EQ(results.test_images_available, 20);
  // Counts above the split's size keep every image.
  options.train_images = 1000;
  EXPECT_EQ(study_splits(small_splits(), options).train.count, 40);
  options.train_images = -1;
  EXPECT_TRUE(contains(error_message([&] { study_splits(small_splits(), options); }),
                       "must not be negative"));
}

TEST(StudyGrid, DamagedModelOrChangedDataTrainsAgain) {
  fixtures::TempDir dir;
  StudyOptions options = small_options(dir);
  options.seeds = 1;
  options.augmentations = {"none"};
  const DataSplits data = small_splits();
  run_study(data, "synthetic", options);
  const auto model_file = dir / "study" / "runs" / "logreg-none-s1.h5";
  ASSERT_TRUE(run_study(data, "synthetic", options).runs[0].reused);

  // One byte changed in the model file: its digest no longer matches the record.
  {
    std::fstream file(model_file, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(std::filesystem::file_size(model_file) / 2));
    file.put('\x5a');
  }
  EXPECT_FALSE(run_study(data, "synthetic", options).runs[0].reused);
  std::filesystem::remove(model_file);
  EXPECT_FALSE(run_study(data, "synthetic", options).runs[0].reused);
  EXPECT_TRUE(std::filesystem::exists(model_file));

  // The same counts and shapes with one label changed in place.
  DataSplits changed = small_splits();
  changed.train.labels[0] = 1 - changed.train.labels[0];
  EXPECT_FALSE(run_study(changed, "synthetic", options).runs[0].reused);
}

TEST(StudyGrid, UnknownModelFailsBeforeTraining) {
  fixtures::TempDir dir;
  StudyOptions options = small_options(dir);
  options.models = {"mlp", "bogus"};
  int steps = 0;
  options.on_step = [&](const std::string&, const StepRecord&) { ++steps; };
  EXPECT_THROW(run_study(small_splits(), "synthetic", options), UsageError);
  EXPECT_EQ(steps, 0);
  options.models = {"logreg"};
  DataSplits three_classes;
  three_classes.train = fixtures::synthetic_dataset(30, 8, 1, 3, 1);
  three_classes.test = fixtures::synthetic_dataset(9, 8, 1, 3, 2);
  EXPECT_TRUE(contains(error_message([&] { run_study(three_classes, "synthetic", options); }),
                       "softmax"));
  EXPECT_EQ(steps, 0);
}

TEST(StudyGrid, RejectsMissingTestSplitAndUnknownNames) {
  fixtures::TempDir dir;
  DataSplits no_test;
  no_test.train = fixtures::synthetic_dataset(10, 8, 1, 2, 1);
  EXPECT_TRUE(contains(error_message([&] { run_study(no_test, "train-only", small_options(dir)); }),
                       "has no test split"));
  StudyOptions options = small_options(dir);
  options.augmentations = {"twist"};
  EXPECT_TRUE(contains(error_message([&] { run_study(small_splits(), "synthetic", options); }),
                       "unknown study augmentation 'twist'"));
}

}  // namespace
}  // namespace felis
