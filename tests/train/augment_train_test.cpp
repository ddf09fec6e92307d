// Training with augmentation and with a fixed pixel permutation: determinism, and the
// permutation control that a pixel-wise model cannot see.
#include "felis/data/pixel_permutation.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>

namespace felis {
namespace {

std::vector<double> parameter_values(Model& model) {
  std::vector<double> values;
  model.visit([&](auto& network) {
    for (auto& parameter : network.parameters()) {
      for (int64_t i = 0; i < parameter.value->size(); ++i) {
        values.push_back(static_cast<double>((*parameter.value)[i]));
      }
    }
  });
  return values;
}

// Also a guard on buffer alignment: before tensors were allocated aligned, two runs in
// one process differed in the last bit of float32 weights.
TEST(AugmentTraining, SameBytesOnOneAndTwoThreads) {
  const Dataset data = fixtures::synthetic_dataset(80, 12, 3, 3, 5);
  auto run = [&](int threads) {
    Model model = build_model({.preset = "conv:4:3:p=1, relu, maxpool:2, flatten, dense:3",
                               .precision = Precision::float32, .init = Init::he},
                              {3, 12, 12}, data.class_names);
    TrainOptions options{.epochs = 2, .batch_size = 16, .learning_rate = 0.01,
                         .optimizer = OptimizerKind::adam, .threads = threads};
    options.augment = Pipeline::parse("shift:2, rotate:10, tint:0.2, noise:4");
    train(model, data, nullptr, options);
    return parameter_values(model);
  };
  const auto one = run(1);
  EXPECT_EQ(one, run(1));
  EXPECT_EQ(one, run(2));
}

TEST(AugmentTraining, ChangesTheResultAndEveryIterationDraws) {
  const Dataset data = fixtures::synthetic_dataset(40, 8, 1, 2, 3);
  auto run = [&](const std::string& spec) {
    Model model = build_model({.preset = "logreg"}, {1, 8, 8}, data.class_names);
    TrainOptions options{.iterations = 20, .learning_rate = 0.05, .cost_every = 1};
    options.augment = Pipeline::parse(spec);
    const auto result = train(model, data, nullptr, options);
    return std::make_pair(parameter_values(model), result.costs);
  };
  const auto plain = run("none");
  const auto shifted = run("shift:2");
  EXPECT_NE(plain.first, shifted.first);
  // Zero weights give cost log 2 for any image, so iteration 0 agrees. Iteration 1 trains on
  // freshly shifted images, because a full-batch run augments every iteration.
  EXPECT_EQ(plain.second[0].cost, shifted.second[0].cost);
  EXPECT_NE(plain.second[1].cost, shifted.second[1].cost);
}

TEST(AugmentTraining, EmptyPipelineMatchesPlainRun) {
  const Dataset data = fixtures::synthetic_dataset(50, 6, 3, 2, 8);
  auto run = [&](bool with_empty_pipeline) {
    Model model = build_model({.preset = "logreg"}, {3, 6, 6}, data.class_names);
    TrainOptions options{.epochs = 3, .batch_size = 10, .learning_rate = 0.1};
    if (with_empty_pipeline) options.augment = Pipeline::parse("none");
    train(model, data, nullptr, options);
    return parameter_values(model);
  };
  EXPECT_EQ(run(false), run(true));
}

// Logistic regression from zero weights by full-batch gradient descent is equivariant
// under a pixel permutation: the weights come out permuted and every prediction is the
// same, up to the order of summation in the dot products.
TEST(PermutationControl, LogisticRegressionCannotTell) {
  const Dataset train_set = fixtures::synthetic_dataset(60, 6, 3, 2, 21);
  const Dataset test_set = fixtures::synthetic_dataset(30, 6, 3, 2, 22);
  auto run = [&](bool permuted) {
    Model model = build_model({.preset = "logreg"}, {3, 6, 6}, train_set.class_names);
    if (permuted) model.input_permutation = pixel_permutation(5, 36);
    train(model, train_set, nullptr, {.iterations = 300, .learning_rate = 0.01});
    ThreadPool pool(1);
    return std::make_pair(predict_probabilities(model, test_set, pool), parameter_values(model));
  };
  const auto [plain_p, plain_w] = run(false);
  const auto [permuted_p, permuted_w] = run(true);
  EXPECT_LT((plain_p - permuted_p).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(predicted_classes(plain_p), predicted_classes(permuted_p));

  // Weight of input (c, p) in the permuted model is the plain model's weight of (c, perm[p]).
  const auto permutation = pixel_permutation(5, 36);
  double largest = 0;
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t p = 0; p < 36; ++p) {
      const double a = permuted_w[static_cast<size_t>(c * 36 + p)];
      const double b = plain_w[static_cast<size_t>(c * 36 + permutation[p])];
      largest = std::max(largest, std::abs(a - b));
    }
  }
  EXPECT_LT(largest, 1e-12);
  EXPECT_NE(plain_w, permuted_w);
}

TEST(PermutationControl, ScoringAppliesThePermutation) {
  // A model trained on permuted pixels scores its own training set as well as the plain
  // one does; scoring without the permutation would lose that.
  const Dataset data = fixtures::synthetic_dataset(200, 8, 1, 4, 7);
  auto final_accuracy = [&](bool permuted) {
    Model model = build_model({.preset = "softmax"}, {1, 8, 8}, data.class_names);
    if (permuted) model.input_permutation = pixel_permutation(9, 64);
    const auto result = train(model, data, &data, {.epochs = 4, .batch_size = 20, .learning_rate = 0.1});
    return *result.epochs.back().train_accuracy;
  };
  EXPECT_GT(final_accuracy(false), 0.9);
  EXPECT_NEAR(final_accuracy(true), final_accuracy(false), 0.02);
}

}  // namespace
}  // namespace felis
