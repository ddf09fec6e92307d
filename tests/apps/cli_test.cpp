// The felis program as a user runs it: exit codes, one-line errors, and no file written
// when a run fails.
#include "data/fixtures.h"
#include "support/cli.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::line_count;
using fixtures::read_text;
using fixtures::run_felis;
using fixtures::RunResult;

// A course-layout directory: 12 train and 4 test images of 4x4x3, two or three classes.
std::filesystem::path write_course_dir(const fixtures::TempDir& dir, int classes) {
  const auto data = dir / "data";
  std::filesystem::create_directory(data);
  std::vector<int64_t> train_labels;
  for (int i = 0; i < 12; ++i) train_labels.push_back(i % classes);
  {
    fixtures::H5Writer writer(data / "train_small.h5");
    fixtures::write_split(writer, "train", 12, 4, 3, train_labels);
  }
  {
    fixtures::H5Writer writer(data / "test_small.h5");
    fixtures::write_split(writer, "test", 4, 4, 3, {0, 1, 0, 1});
  }
  return data;
}

class Cli : public ::testing::Test {
protected:
  fixtures::TempDir dir;
  // Expects exit code `code`, one line on stderr containing every part, and no leftovers
  // in the temporary directory besides `keep`.
  void expect_error(const std::string& arguments, int code, std::vector<std::string> parts) {
    const RunResult r = run_felis(dir, arguments);
    EXPECT_EQ(r.exit_code, code) << arguments << "\n" << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << arguments << "\n" << r.err;
    for (const auto& part : parts) EXPECT_TRUE(contains(r.err, part)) << arguments << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.h5")) << arguments;
    EXPECT_FALSE(std::filesystem::exists(dir / "metrics.json")) << arguments;
  }
};

TEST_F(Cli, HelpAndUsageErrors) {
  EXPECT_EQ(run_felis(dir, "--help").exit_code, 0);
  for (const char* command : {"train", "evaluate", "predict", "info"}) {
    const RunResult r = run_felis(dir, std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_TRUE(contains(r.out, "--help")) << command;
  }
  expect_error("", 2, {"felis: error"});
  expect_error("train", 2, {"--data"});
  expect_error("train --data x --bogus", 2, {"--bogus"});
}

TEST_F(Cli, TrainWritesModelAndMetrics) {
  const auto data = write_course_dir(dir, 2);
  const RunResult r = run_felis(dir, "train --data " + data.string() + " --model logreg "
                                     "--iterations 5 --print-cost-every 2 --out " +
                                         (dir / "out.h5").string() + " --metrics " +
                                         (dir / "metrics.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "cost after iteration 0: 0.693147")) << r.out;
  EXPECT_TRUE(contains(r.out, "cost after iteration 4: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "test accuracy: ")) << r.out;
  const auto metrics = nlohmann::json::parse(read_text(dir / "metrics.json"));
  EXPECT_EQ(metrics["model"], "logreg");
  EXPECT_EQ(metrics["costs"].size(), 3u);
  EXPECT_EQ(metrics["costs"][0]["iteration"], 0);
  EXPECT_NEAR(metrics["costs"][0]["cost"].get<double>(), 0.6931471805599453, 1e-12);
  EXPECT_EQ(metrics["learning_rate"], 0.005);
  EXPECT_TRUE(metrics["train_accuracy"].is_number());
  EXPECT_TRUE(metrics["test_accuracy"].is_number());
  EXPECT_TRUE(metrics["train_seconds"].is_number());
  EXPECT_EQ(metrics["seed"], 1);

  const RunResult info = run_felis(dir, "info " + (dir / "out.h5").string());
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_TRUE(contains(info.out, "felis model 'logreg', 49 parameters")) << info.out;

  const RunResult evaluation = run_felis(
      dir, "evaluate --model " + (dir / "out.h5").string() + " --data " + data.string());
  EXPECT_EQ(evaluation.exit_code, 0) << evaluation.err;
  EXPECT_TRUE(contains(evaluation.out, "confusion matrix")) << evaluation.out;
}

TEST_F(Cli, BadOptionsFailBeforeWriting) {
  const auto data = write_course_dir(dir, 2).string();
  const auto out = " --out " + (dir / "out.h5").string();
  expect_error("train --data " + data + " --learning-rate -1" + out, 2, {"-1", "positive"});
  expect_error("train --data " + data + " --learning-rate nan" + out, 2, {"nan"});
  expect_error("train --data " + data + " --learning-rate inf" + out, 2, {"inf"});
  expect_error("train --data " + data + " --batch-size zero" + out, 2, {"zero"});
  expect_error("train --data " + data + " --precision float16" + out, 2, {"float16"});
  expect_error("train --data " + data + " --out " + (dir / "missing" / "m.h5").string(), 2,
               {"missing", "does not exist"});
  expect_error("train --data " + (dir / "nowhere").string() + out, 1, {"nowhere", "no such"});
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
  expect_error("train --data " + data + " --threads 0" + out, 2, {"--threads 0"});
  expect_error("train --data " + data + " --threads 100000" + out, 2, {"--threads 100000"});
  expect_error("train --data " + data + " --seed -1" + out, 2, {"--seed -1"});
  expect_error("train --data " + data + " --seed ''" + out, 2, {"--seed", "not an empty value"});
  expect_error("train --data " + data + " --permute-pixels ''" + out, 2, {"not an empty value"});
  expect_error("train --data " + data + " --print-cost-every -3" + out, 2, {"-3"});
  expect_error("train --data " + data + " --out ''", 2, {"--out needs a file name"});
  expect_error("train --data " + data + out + " --metrics " + (dir / "out.h5").string(), 2,
               {"give two different files"});
}

TEST_F(Cli, GradcheckPassesAndRejectsBadShape) {
  const RunResult r = run_felis(dir, "gradcheck --model 'conv:2:3:p=1, relu, maxpool:2, flatten, "
                                     "dense:3' --input-shape 6x6x1 --classes 3");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "passed: worst relative error")) << r.out;
  expect_error("gradcheck --input-shape 0x0x3", 2, {"--input-shape 0x0x3 is invalid"});
  expect_error("gradcheck --model 'flatten, dense:4'", 2, {"4 units, but the data set has 2"});
}

TEST_F(Cli, EvaluateChecksThreadsAndMetricsPath) {
  const auto data = write_course_dir(dir, 2).string();
  const auto model = (dir / "model.h5").string();
  ASSERT_EQ(run_felis(dir, "train --data " + data + " --iterations 2 --out " + model).exit_code, 0);
  expect_error("evaluate --model " + model + " --data " + data + " --threads 0", 2, {"--threads 0"});
  expect_error("evaluate --model " + model + " --data " + data + " --metrics " + model, 2,
               {"is the model file"});
  EXPECT_TRUE(std::filesystem::exists(model));
}

TEST_F(Cli, LogregOnThreeClassesSuggestsSoftmax) {
  const auto data = write_course_dir(dir, 3).string();
  expect_error("train --data " + data + " --model logreg --out " + (dir / "out.h5").string(), 2,
               {"3 classes", "--model softmax"});
}

TEST_F(Cli, DivergingRunWritesNoModel) {
  const auto data = write_course_dir(dir, 2).string();
  expect_error("train --data " + data + " --learning-rate 1e308 --iterations 50 --out " +
                   (dir / "out.h5").string() + " --metrics " + (dir / "metrics.json").string(),
               1, {"became", "learning rate 1e+308", "no model was written", "smaller"});
}

TEST_F(Cli, BadFilesGiveOneLineErrors) {
  fixtures::write_text(dir / "page.h5", "<!DOCTYPE html>\n<html><body>Not found</body></html>\n");
  expect_error("train --data " + (dir / "page.h5").string(), 1, {"page.h5"});
  expect_error("evaluate --model " + (dir / "page.h5").string() + " --data x", 1, {"page.h5"});
  expect_error("info " + (dir / "page.h5").string(), 1, {"page.h5"});
  fixtures::write_text(dir / "photo.png", "not really a png");
  const auto data = write_course_dir(dir, 2);
  ASSERT_EQ(run_felis(dir, "train --data " + data.string() + " --iterations 2 --out " +
                               (dir / "model.h5").string())
                .exit_code,
            0);
  const RunResult r = run_felis(dir, "predict --model " + (dir / "model.h5").string() + " " +
                                         (dir / "photo.png").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "photo.png")) << r.err;
}

}  // namespace
}  // namespace felis
