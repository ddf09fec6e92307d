// The training loop: a hand-computed step, determinism across thread counts, and
// divergence detection.
#include "felis/io/model_file.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

namespace felis {
namespace {

// Three 1x1 gray images with pixels 0, 255 and 51 (x = 0, 1, 0.2), labels 1, 0, 1.
Dataset three_pixels() {
  Dataset data;
  data.count = 3;
  data.height = data.width = data.channels = 1;
  data.pixels = {0, 255, 51};
  data.labels = {1, 0, 1};
  data.class_names = {"no", "yes"};
  data.source = "three pixels";
  return data;
}

TEST(Trainer, ThreeImagesByHand) {
  // From zero weights the cost is log 2 and a = 0.5 for every image, so
  // dw = ((0.5 - 1) * 0 + 0.5 * 1 + (0.5 - 1) * 0.2) / 3 = 0.4 / 3 and db = -0.5 / 3.
  // One step at learning rate 1 gives w = -2/15, b = 1/6, z = (1/6, 1/30, 0.14).
  const Dataset data = three_pixels();
  Model model = build_model({.preset = "logreg"}, {1, 1, 1}, data.class_names);
  const auto result = train(model, data, nullptr,
                            {.iterations = 2, .learning_rate = 1.0, .cost_every = 1});
  ASSERT_EQ(result.costs.size(), 2u);
  EXPECT_NEAR(result.costs[0].cost, std::log(2.0), 1e-15);
  const auto softplus = [](double z) { return std::log1p(std::exp(z)); };
  const double expected = (softplus(1.0 / 6) - 1.0 / 6 + softplus(1.0 / 30) +
                           softplus(0.14) - 0.14) / 3;
  EXPECT_NEAR(result.costs[1].cost, expected, 1e-15);
  EXPECT_NEAR(result.costs[1].cost, 0.6496099900409082, 1e-15);
}

TEST(Trainer, L2PenaltyAddsToCost) {
  // After one step w = -2/15, so the second cost grows by lambda / (2 m) * w^2.
  const Dataset data = three_pixels();
  auto second_cost = [&](double l2) {
    Model model = build_model({.preset = "logreg"}, {1, 1, 1}, data.class_names);
    return train(model, data, nullptr,
                 {.iterations = 2, .learning_rate = 1.0, .l2 = l2, .cost_every = 1})
        .costs[1]
        .cost;
  };
  const double w = -2.0 / 15;
  EXPECT_NEAR(second_cost(0.3) - second_cost(0.0), 0.3 / 6 * w * w, 1e-12);
}

// Every parameter byte of a model trained with the given thread count.
std::vector<unsigned char> trained_bytes(int threads, Precision precision, int64_t batch) {
  const Dataset data = fixtures::synthetic_dataset(300, 8, 1, 3, 5);
  Model model = build_model({.preset = "softmax", .precision = precision, .init = Init::he},
                            {1, 8, 8}, data.class_names);
  train(model, data, nullptr,
        {.epochs = 3, .batch_size = batch, .learning_rate = 0.1, .seed = 9, .threads = threads});
  std::vector<unsigned char> bytes;
  model.visit([&](auto& network) {
    for (auto& parameter : network.parameters()) {
      const auto* begin = reinterpret_cast<const unsigned char*>(parameter.value->data());
      bytes.insert(bytes.end(), begin,
                   begin + parameter.value->size() * sizeof(*parameter.value->data()));
    }
  });
  return bytes;
}

TEST(Trainer, OneAndTwoThreadsAgreeBitForBit) {
  for (Precision precision : {Precision::float32, Precision::float64}) {
    for (int64_t batch : {int64_t{100}, int64_t{0}}) {
      SCOPED_TRACE(to_string(precision) + " batch " + std::to_string(batch));
      EXPECT_EQ(trained_bytes(1, precision, batch), trained_bytes(2, precision, batch));
    }
  }
}

// Adam through convolution, pooling and batch normalization: two runs, one and two
// threads, give the same bytes.
TEST(Trainer, ConvAdamRunsAgreeBitForBit) {
  const Dataset data = fixtures::synthetic_dataset(90, 8, 3, 3, 5);
  auto run = [&](int threads) {
    Model model = build_model({.preset = "conv:4:3:p=1, batchnorm, relu, maxpool:2, flatten, "
                                         "dense:3",
                               .precision = Precision::float32, .init = Init::he},
                              {3, 8, 8}, data.class_names);
    train(model, data, nullptr,
          {.epochs = 2, .batch_size = 20, .learning_rate = 0.01,
           .optimizer = OptimizerKind::adam, .threads = threads});
    std::vector<float> values;
    model.visit([&](auto& network) {
      for (auto& parameter : network.parameters()) {
        for (int64_t i = 0; i < parameter.value->size(); ++i) {
          values.push_back(static_cast<float>((*parameter.value)[i]));
        }
      }
    });
    return values;
  };
  const auto first = run(1);
  EXPECT_EQ(first, run(1));
  EXPECT_EQ(first, run(2));
}

TEST(Trainer, SameRunWritesSameFileBytes) {
  // Model files record no modification times, so runs a second apart write equal bytes.
  const Dataset data = fixtures::synthetic_dataset(60, 8, 1, 3, 5);
  auto file_bytes = [&] {
    Model model = build_model({.preset = "conv:2:3, relu, maxpool:2, flatten, dense:3",
                               .precision = Precision::float32, .init = Init::he},
                              {1, 8, 8}, data.class_names);
    train(model, data, nullptr, {.epochs = 1, .batch_size = 20, .learning_rate = 0.05});
    return model_file_bytes(model);
  };
  const auto first = file_bytes();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(first, file_bytes());
}

TEST(Trainer, SeedChangesTheShuffle) {
  const Dataset data = fixtures::synthetic_dataset(200, 4, 1, 2, 1);
  auto first_weight = [&](uint64_t seed) {
    Model model = build_model({.preset = "logreg"}, {1, 4, 4}, data.class_names);
    train(model, data, nullptr, {.epochs = 1, .batch_size = 10, .learning_rate = 0.5, .seed = seed});
    return model.visit([](auto& n) { return static_cast<double>((*n.parameters()[0].value)[0]); });
  };
  EXPECT_EQ(first_weight(1), first_weight(1));
  EXPECT_NE(first_weight(1), first_weight(2));
}

TEST(Trainer, SgdLearnsSyntheticClasses) {
  const Dataset train_set = fixtures::synthetic_dataset(600, 8, 1, 4, 11);
  const Dataset test_set = fixtures::synthetic_dataset(200, 8, 1, 4, 12);
  Model model = build_model({.preset = "softmax"}, {1, 8, 8}, train_set.class_names);
  const auto result = train(model, train_set, &test_set,
                            {.epochs = 5, .batch_size = 32, .learning_rate = 0.1});
  ASSERT_EQ(result.epochs.size(), 5u);
  EXPECT_GT(*result.epochs.back().test_accuracy, 0.9);
  EXPECT_LT(result.epochs.back().loss, result.epochs.front().loss);
}

TEST(Trainer, ScoreEveryScoresThoseEpochsAndTheLast) {
  // Scoring does not touch the weights, so the scored epochs match an every-epoch run.
  const Dataset train_set = fixtures::synthetic_dataset(100, 8, 1, 4, 11);
  const Dataset test_set = fixtures::synthetic_dataset(40, 8, 1, 4, 12);
  const TrainOptions every{.epochs = 7, .batch_size = 32, .learning_rate = 0.1};
  TrainOptions sparse = every;
  sparse.score_every = 3;
  Model a = build_model({.preset = "softmax"}, {1, 8, 8}, train_set.class_names);
  Model b = build_model({.preset = "softmax"}, {1, 8, 8}, train_set.class_names);
  const auto all = train(a, train_set, &test_set, every);
  const auto some = train(b, train_set, &test_set, sparse);
  ASSERT_EQ(all.epochs.size(), 7u);
  ASSERT_EQ(some.epochs.size(), 3u);
  const int64_t scored[] = {3, 6, 7};
  for (size_t i = 0; i < 3; ++i) {
    const auto& full = all.epochs[static_cast<size_t>(scored[i] - 1)];
    EXPECT_EQ(some.epochs[i].epoch, scored[i]);
    EXPECT_EQ(some.epochs[i].loss, full.loss);
    EXPECT_EQ(*some.epochs[i].test_accuracy, *full.test_accuracy);
  }
  EXPECT_TRUE(some.epochs[0].train_accuracy.has_value());

  // Without the training split, the test scores stay the same.
  Model c = build_model({.preset = "softmax"}, {1, 8, 8}, train_set.class_names);
  sparse.score_train = false;
  const auto test_only = train(c, train_set, &test_set, sparse);
  ASSERT_EQ(test_only.epochs.size(), 3u);
  EXPECT_FALSE(test_only.epochs[2].train_accuracy.has_value());
  EXPECT_EQ(*test_only.epochs[2].test_accuracy, *all.epochs[6].test_accuracy);
  sparse.score_every = 0;
  EXPECT_THROW(train(b, train_set, &test_set, sparse), UsageError);
}

TEST(Trainer, DivergenceNamesIterationAndRate) {
  // The loss from logits stays finite for any finite logit, so divergence needs logits
  // that overflow: 256 white pixels of class 1 give w = 5e307 per pixel after one step at
  // rate 1e308, and z = 256 * 5e307 = inf at the next.
  Dataset data = fixtures::synthetic_dataset(4, 16, 1, 2, 3);
  std::fill(data.pixels.begin(), data.pixels.end(), 255);
  std::fill(data.labels.begin(), data.labels.end(), 1);
  Model model = build_model({.preset = "logreg"}, {1, 16, 16}, data.class_names);
  try {
    train(model, data, nullptr, {.iterations = 50, .learning_rate = 1e308});
    FAIL() << "expected a DivergenceError";
  } catch (const DivergenceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("became NaN at iteration 1 with learning rate 1e+308"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("100 times smaller, 1e+306"), std::string::npos) << message;
  }
}

TEST(Trainer, RejectsInvalidOptions) {
  const Dataset data = three_pixels();
  Model model = build_model({.preset = "logreg"}, {1, 1, 1}, data.class_names);
  for (double rate : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(train(model, data, nullptr, {.iterations = 1, .learning_rate = rate}), UsageError)
        << rate;
  }
  EXPECT_THROW(train(model, data, nullptr, {.iterations = 0, .epochs = 0}), UsageError);
}

TEST(Trainer, LogregRejectsThreeClasses) {
  try {
    build_model({.preset = "logreg"}, {1, 1, 1}, {"a", "b", "c"});
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--model softmax"), std::string::npos) << e.what();
  }
}

TEST(Metrics, PrecisionRecallConfusionByHand) {
  const std::vector<int32_t> labels = {0, 0, 1, 1, 2};
  const std::vector<int32_t> predicted = {0, 1, 1, 1, 0};
  const auto m = score(labels, predicted, 3);
  EXPECT_EQ(m.correct, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_EQ(m.confusion[0][1], 1);
  EXPECT_EQ(m.confusion[2][0], 1);
  EXPECT_DOUBLE_EQ(m.precision[0], 0.5);   // predicted 0 twice, right once
  EXPECT_DOUBLE_EQ(m.precision[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall[0], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[1], 1.0);
  EXPECT_DOUBLE_EQ(m.recall[2], 0.0);
}

}  // namespace
}  // namespace felis
