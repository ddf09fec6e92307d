// Reproduces the Deep Learning Specialization's logistic regression on the cat / non-cat
// data: zero weights, learning rate 0.005, 2000 full-batch iterations. Published costs:
// 0.693147 at iteration 0, 0.584508 at 100, 0.214820 at 1000, 0.140872 at 1900; train
// accuracy 99.04 % (207 of 209), test accuracy 70.00 % (35 of 50).
#include "felis/data/loaders.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <map>

namespace felis {
namespace {

struct CourseRun {
  std::map<int64_t, double> costs;
  int64_t train_correct = 0;
  int64_t test_correct = 0;
};

// With allow_gram false the run trains on the pixels. With it true, float64 runs train on
// the Gram matrix of the 209 training images (span_descent.h).
CourseRun run_course(Precision precision, const std::string& preset = "logreg",
                     int64_t iterations = 2000, double learning_rate = 0.005,
                     bool allow_gram = true) {
  const DataSplits data = load_data(fixtures::shared_data("catvnoncat"));
  const Init init = preset == "logreg" ? Init::zeros : Init::course;
  Model model = build_model({.preset = preset, .precision = precision, .init = init, .seed = 1},
                            {data.train.channels, data.train.height, data.train.width},
                            data.train.class_names);
  const auto result = train(model, data.train, &*data.test,
                            {.iterations = iterations,
                               .learning_rate = learning_rate,
                               .threads = 2,
                               .allow_gram = allow_gram});
  EXPECT_EQ(result.gram, allow_gram && precision == Precision::float64);
  CourseRun run;
  for (const auto& record : result.costs) run.costs[record.iteration] = record.cost;
  ThreadPool pool(2);
  auto correct = [&](const Dataset& set) {
    return score(set.labels, predicted_classes(predict_probabilities(model, set, pool)),
                 set.class_count())
        .correct;
  };
  run.train_correct = correct(data.train);
  run.test_correct = correct(*data.test);
  return run;
}

class Course : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(fixtures::shared_data("catvnoncat/train_catvnoncat.h5"))) {
      GTEST_SKIP() << "cat data missing: " << fixtures::shared_data("catvnoncat").string();
    }
  }
};

TEST_F(Course, Float64ReproducesPublishedCosts) {
  const CourseRun run = run_course(Precision::float64);
  // The printed six decimals must match, so the cost must lie within half a unit of the
  // sixth decimal; float64 is far inside that.
  EXPECT_NEAR(run.costs.at(0), 0.693147, 5e-7);
  EXPECT_NEAR(run.costs.at(100), 0.584508, 5e-7);
  EXPECT_NEAR(run.costs.at(1000), 0.214820, 5e-7);
  EXPECT_NEAR(run.costs.at(1900), 0.140872, 5e-7);
  // The course's numpy run (float64) gives 0.159305 at 1600, which float32 misses.
  EXPECT_NEAR(run.costs.at(1600), 0.159305, 5e-7);
  EXPECT_EQ(run.train_correct, 207);
  EXPECT_EQ(run.test_correct, 35);
}

TEST_F(Course, Float64OnThePixelsReproducesPublishedCosts) {
  const CourseRun run = run_course(Precision::float64, "logreg", 2000, 0.005, false);
  EXPECT_NEAR(run.costs.at(0), 0.693147, 5e-7);
  EXPECT_NEAR(run.costs.at(1000), 0.214820, 5e-7);
  EXPECT_NEAR(run.costs.at(1600), 0.159305, 5e-7);
  EXPECT_NEAR(run.costs.at(1900), 0.140872, 5e-7);
  EXPECT_EQ(run.train_correct, 207);
  EXPECT_EQ(run.test_correct, 35);
}

TEST_F(Course, Float32StaysClose) {
  const CourseRun run = run_course(Precision::float32);
  EXPECT_NEAR(run.costs.at(1900), 0.140872, 1e-5);
  EXPECT_EQ(run.train_correct, 207);
  EXPECT_EQ(run.test_correct, 35);
}

// The course's two-layer network (7 ReLU units), initialized with np.random.seed(1) and
// randn * 0.01: published costs 0.693050 at iteration 0 and 0.048555 at 2400; train
// accuracy 100 %, test 72 %.
TEST_F(Course, TwoLayerReproducesPublishedCosts) {
  const CourseRun run = run_course(Precision::float64, "course-2layer", 2500, 0.0075);
  EXPECT_NEAR(run.costs.at(0), 0.693050, 5e-7);
  EXPECT_NEAR(run.costs.at(2400), 0.048555, 5e-7);
  EXPECT_EQ(run.train_correct, 209);
  EXPECT_EQ(run.test_correct, 36);
}

// The course's L-layer network (20, 7, 5 ReLU units), initialized with np.random.seed(1)
// and randn / sqrt(n_prev): published costs 0.771749 at iteration 0 and 0.092878 at 2400;
// train accuracy 98.56 %, test 80 %.
TEST_F(Course, FourLayerReproducesPublishedCosts) {
  const CourseRun run = run_course(Precision::float64, "course-4layer", 2500, 0.0075);
  EXPECT_NEAR(run.costs.at(0), 0.771749, 5e-7);
  EXPECT_NEAR(run.costs.at(2400), 0.092878, 5e-7);
  EXPECT_EQ(run.train_correct, 206);
  EXPECT_EQ(run.test_correct, 40);
}

// In float32, which trains on the pixels, the same network drifts from the published curve
// (cost 0.088314 at 2400) but keeps the course's accuracies.
TEST_F(Course, FourLayerInFloat32KeepsTheAccuracies) {
  const CourseRun run = run_course(Precision::float32, "course-4layer", 2500, 0.0075);
  EXPECT_NEAR(run.costs.at(0), 0.771749, 1e-6);
  EXPECT_NEAR(run.costs.at(2400), 0.088314, 1e-5);
  EXPECT_EQ(run.train_correct, 206);
  EXPECT_EQ(run.test_correct, 40);
}

}  // namespace
}  // namespace felis
