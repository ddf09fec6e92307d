// Dropout: masks by hand, the finite-difference gradient, the identity in inference mode,
// the kept fraction and mean over many units, reproducible masks and config round trips.
#include "felis/nn/dropout.h"

#include "felis/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace felis {
namespace {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

// Uniform values in [0.5, 1.5], so none is zero and a dropped unit is recognisable.
Tensor<double> random_tensor(Shape shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.5, 1.5);
  Tensor<double> t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = uniform(rng);
  return t;
}

Tensor<double> filled(Shape shape, double value) {
  Tensor<double> t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = value;
  return t;
}

struct Passes {
  ThreadPool pool{1};
  PassContext training{.pool = &pool, .training = true};
  PassContext inference{.pool = &pool, .training = false};
};

TEST(Dropout, TrainingKeepsOrZeroesEachUnit) {
  Passes passes;
  Dropout<double> dropout(/*rate=*/0.5, /*seed=*/1);
  const Tensor<double> x = random_tensor({4, 2, 3, 3}, 2);
  Tensor<double> y;
  dropout.forward(x, y, passes.training);
  ASSERT_EQ(y.shape(), x.shape());
  int64_t kept_count = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    if (y[i] == 0.0) continue;
    EXPECT_EQ(y[i], 2.0 * x[i]) << "element " << i;  // 1 / (1 - 0.5) = 2
    ++kept_count;
  }
  EXPECT_GT(kept_count, 0);
  EXPECT_LT(kept_count, x.size());
}

TEST(Dropout, BackwardAppliesForwardMask) {
  Passes passes;
  Dropout<double> dropout(0.3, 4);
  const Tensor<double> x = random_tensor({5, 7}, 5);
  const Tensor<double> dy = random_tensor({5, 7}, 6);
  Tensor<double> y;
  Tensor<double> dx;
  dropout.forward(x, y, passes.training);
  dropout.backward(dy, &dx, passes.training);
  ASSERT_EQ(dx.shape(), x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    EXPECT_DOUBLE_EQ(dx[i], dy[i] * y[i] / x[i]) << "element " << i;
  }
}

// Every loss evaluation runs a copy of the layer taken before the first forward, so all
// of them draw the same mask.
TEST(Dropout, InputGradient) {
  Passes passes;
  const Dropout<double> original(0.4, 8);
  Tensor<double> x = random_tensor({3, 2, 2, 2}, 9);
  const Tensor<double> r = random_tensor(x.shape(), 10);
  auto loss = [&] {
    Dropout<double> copy = original;
    Tensor<double> y;
    copy.forward(x, y, passes.training);
    return y.matrix().cwiseProduct(r.matrix()).sum();
  };

  Dropout<double> layer = original;
  Tensor<double> y;
  Tensor<double> dx;
  layer.forward(x, y, passes.training);
  layer.backward(r, &dx, passes.training);
  double worst = 0.0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + kStep;
    const double plus = loss();
    x[i] = saved - kStep;
    const double minus = loss();
    x[i] = saved;
    worst = std::max(worst, std::abs(dx[i] - (plus - minus) / (2 * kStep)));
  }
  EXPECT_LT(worst, kTolerance) << "largest |analytic - numeric| = " << worst;
}

TEST(Dropout, InferenceIsIdentity) {
  Passes passes;
  Dropout<double> dropout(0.5, 3);
  const Tensor<double> x = random_tensor({6, 10}, 11);
  Tensor<double> first;
  Tensor<double> second;
  dropout.forward(x, first, passes.inference);
  dropout.forward(x, second, passes.inference);
  ASSERT_EQ(first.shape(), x.shape());
  EXPECT_TRUE(first.matrix() == x.matrix());
  EXPECT_TRUE(second.matrix() == first.matrix());

  Tensor<double> dx;
  dropout.backward(x, &dx, passes.inference);
  EXPECT_TRUE(dx.matrix() == x.matrix());
}

TEST(Dropout, InferenceLeavesGeneratorAlone) {
  Passes passes;
  Dropout<double> used(0.5, 12);
  Dropout<double> fresh(0.5, 12);
  const Tensor<double> x = random_tensor({4, 25}, 13);
  Tensor<double> y_used;
  Tensor<double> y_fresh;
  used.forward(x, y_used, passes.inference);
  used.forward(x, y_used, passes.training);
  fresh.forward(x, y_fresh, passes.training);
  EXPECT_TRUE(y_used.matrix() == y_fresh.matrix());
}

TEST(Dropout, KeepsAboutOneMinusRate) {
  Passes passes;
  for (const double rate : {0.2, 0.5}) {
    Dropout<double> dropout(rate, 14);
    const Tensor<double> x = filled({100, 1000}, 1.0);
    Tensor<double> y;
    dropout.forward(x, y, passes.training);
    int64_t kept_count = 0;
    for (int64_t i = 0; i < y.size(); ++i) kept_count += y[i] != 0.0;
    const double kept_fraction = static_cast<double>(kept_count) / static_cast<double>(y.size());
    // The standard deviation of the fraction is at most 0.0016, so 1 % is over 6 of them.
    EXPECT_NEAR(kept_fraction, 1.0 - rate, 0.01) << "rate " << rate;
    // Kept units are scaled by 1 / (1 - rate), so the mean stays near the input's 1.
    EXPECT_NEAR(y.matrix().mean(), 1.0, 0.02) << "rate " << rate;
  }
}

TEST(Dropout, RateZeroKeepsEverything) {
  Passes passes;
  Dropout<double> dropout(0.0, 15);
  const Tensor<double> x = random_tensor({3, 50}, 16);
  Tensor<double> y;
  dropout.forward(x, y, passes.training);
  EXPECT_TRUE(y.matrix() == x.matrix());
}

TEST(Dropout, SeedReproducesMasks) {
  Passes passes;
  const Tensor<double> x = filled({10, 20}, 1.0);
  Dropout<double> a(0.5, 42);
  Dropout<double> b(0.5, 42);
  Dropout<double> other_seed(0.5, 43);
  Tensor<double> ya, yb, y_other;
  a.forward(x, ya, passes.training);
  b.forward(x, yb, passes.training);
  other_seed.forward(x, y_other, passes.training);
  EXPECT_TRUE(ya.matrix() == yb.matrix());
  EXPECT_FALSE(ya.matrix() == y_other.matrix());

  // Each training forward advances the generator, so the next mask differs.
  Tensor<double> ya_next;
  a.forward(x, ya_next, passes.training);
  EXPECT_FALSE(ya_next.matrix() == ya.matrix());

  // reseed restarts the sequence.
  a.reseed(42);
  Tensor<double> ya_again;
  a.forward(x, ya_again, passes.training);
  EXPECT_TRUE(ya_again.matrix() == ya.matrix());
}

TEST(Dropout, ConfigRoundTrip) {
  const Dropout<float> dropout(0.25, 77);
  const nlohmann::json config = dropout.config();
  EXPECT_EQ(config, nlohmann::json({{"type", "dropout"}, {"rate", 0.25}, {"seed", 77}}));
  EXPECT_EQ(Dropout<float>::from_config(config)->config(), config);
  // Through text, as a model file stores it.
  EXPECT_EQ(Dropout<float>::from_config(nlohmann::json::parse(config.dump()))->config(), config);
  const uint64_t top_seed = UINT64_MAX;
  const nlohmann::json large = Dropout<float>(0.5, top_seed).config();
  EXPECT_EQ(Dropout<float>::from_config(nlohmann::json::parse(large.dump()))->config(), large);
}

TEST(Dropout, SeedDefaultsToZero) {
  const auto layer = Dropout<double>::from_config({{"type", "dropout"}, {"rate", 0.5}});
  EXPECT_EQ(layer->config()["seed"], 0);
}

TEST(Dropout, InvalidConfigsRejected) {
  using json = nlohmann::json;
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", 1.0}}), Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", -0.1}}), Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", "0.5"}}), Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}}), Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", 0.5}, {"seed", -1}}),
               Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", 0.5}, {"seed", 1.5}}),
               Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "dropout"}, {"rate", 0.5}, {"p", 0.5}}),
               Error);
  EXPECT_THROW(Dropout<double>::from_config({{"type", "relu"}, {"rate", 0.5}}), Error);
  EXPECT_THROW(Dropout<double>::from_config(json::array()), Error);
  EXPECT_THROW(Dropout<double>(1.0, 0), Error);
  EXPECT_THROW(Dropout<double>(std::nan(""), 0), Error);
}

TEST(Dropout, InvalidRateMessageNamesFieldAndRange) {
  try {
    Dropout<double>::from_config({{"type", "dropout"}, {"rate", 1.0}});
    FAIL() << "rate 1.0 was accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("rate"), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 1)"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace felis
