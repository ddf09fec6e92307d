// Batch normalization: hand-computed outputs and running statistics, finite-difference
// gradients of the input, gamma and beta in both modes, inference with the running
// statistics, identical results on one and two threads, and config checks.
#include "felis/nn/batchnorm.h"

#include "felis/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace felis {
namespace {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;
constexpr double kEpsilon = 1e-5;

Tensor<double> tensor_of(Shape shape, std::vector<double> values) {
  Tensor<double> t(std::move(shape));
  assert(t.size() == static_cast<int64_t>(values.size()));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = values[static_cast<size_t>(i)];
  return t;
}

Tensor<double> random_tensor(Shape shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);
  Tensor<double> t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = uniform(rng);
  return t;
}

struct Passes {
  ThreadPool pool{1};
  PassContext training{.pool = &pool, .training = true};
  PassContext inference{.pool = &pool, .training = false};
};

// Sets gamma, beta and the running statistics to values away from their defaults, so that
// a test notices when one of them is ignored.
void perturb(BatchNorm<double>& layer) {
  const int64_t f = layer.features();
  for (int64_t c = 0; c < f; ++c) {
    const double step = static_cast<double>(c);
    (*layer.parameters()[0].value)[c] = 1.5 - 0.25 * step;  // gamma
    (*layer.parameters()[1].value)[c] = -0.5 + 0.3 * step;  // beta
    (*layer.buffers()[0].value)[c] = 0.2 * step - 0.1;       // running_mean
    (*layer.buffers()[1].value)[c] = 0.5 + 0.4 * step;       // running_var
  }
}

// Largest |analytic - numeric| over dL/dx, dL/dgamma and dL/dbeta for L = sum(y * r) with a
// fixed random r, so that dL/dy = r.
double max_gradient_error(BatchNorm<double>& layer, Tensor<double> x, const PassContext& context) {
  const Tensor<double> r = random_tensor(x.shape(), 99);
  auto loss = [&] {
    Tensor<double> y;
    layer.forward(x, y, context);
    return y.matrix().cwiseProduct(r.matrix()).sum();
  };
  Tensor<double> y;
  Tensor<double> dx;
  layer.forward(x, y, context);
  layer.backward(r, &dx, context);

  // Every value the loss depends on, with its analytic gradient.
  struct Variable {
    Tensor<double>* value;
    Tensor<double> analytic;
  };
  std::vector<Variable> variables = {{&x, dx}};
  for (auto& parameter : layer.parameters()) {
    variables.push_back({parameter.value, *parameter.gradient});
  }

  double worst = 0.0;
  for (auto& [value, analytic] : variables) {
    for (int64_t i = 0; i < value->size(); ++i) {
      double& v = (*value)[i];
      const double saved = v;
      v = saved + kStep;
      const double plus = loss();
      v = saved - kStep;
      const double minus = loss();
      v = saved;
      worst = std::max(worst, std::abs(analytic[i] - (plus - minus) / (2 * kStep)));
    }
  }
  return worst;
}

TEST(BatchNorm, FourSamplesByHand) {
  Passes passes;
  BatchNorm<double> norm(2);
  // Feature 0 is (1, 2, 3, 6): mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
  // Feature 1 is constant, so its variance is 0 and y = beta = 0.
  const Tensor<double> x = tensor_of({4, 2}, {1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 6.0, 7.0});
  Tensor<double> y;
  norm.forward(x, y, passes.training);
  ASSERT_EQ(y.shape(), x.shape());
  const double inverse_std = 1.0 / std::sqrt(3.5 + kEpsilon);
  const double expected[] = {-2.0 * inverse_std, -1.0 * inverse_std, 0.0, 3.0 * inverse_std};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(y[2 * i], expected[i], 1e-15) << "sample " << i;
    EXPECT_EQ(y[2 * i + 1], 0.0) << "sample " << i;
  }
}

TEST(BatchNorm, GammaAndBetaScaleAndShift) {
  Passes passes;
  BatchNorm<double> norm(1);
  (*norm.parameters()[0].value)[0] = 2.0;   // gamma
  (*norm.parameters()[1].value)[0] = 0.5;   // beta
  const Tensor<double> x = tensor_of({4, 1}, {1.0, 2.0, 3.0, 6.0});
  Tensor<double> y;
  norm.forward(x, y, passes.training);
  const double inverse_std = 1.0 / std::sqrt(3.5 + kEpsilon);
  EXPECT_NEAR(y[0], 2.0 * -2.0 * inverse_std + 0.5, 1e-15);
  EXPECT_NEAR(y[3], 2.0 * 3.0 * inverse_std + 0.5, 1e-15);
}

TEST(BatchNorm, RunningStatisticsAfterOneUpdate) {
  Passes passes;
  BatchNorm<double> norm(2);
  const Tensor<double> x = tensor_of({4, 2}, {1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 6.0, 7.0});
  Tensor<double> y;
  norm.forward(x, y, passes.training);
  const Tensor<double>& running_mean = *norm.buffers()[0].value;
  const Tensor<double>& running_var = *norm.buffers()[1].value;
  // running = 0.9 * running + 0.1 * batch, from mean 0 and variance 1, with the unbiased
  // batch variance 14 / 3 for feature 0 and 0 for feature 1.
  EXPECT_NEAR(running_mean[0], 0.1 * 3.0, 1e-15);
  EXPECT_NEAR(running_var[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-15);
  EXPECT_NEAR(running_mean[1], 0.1 * 7.0, 1e-15);
  EXPECT_NEAR(running_var[1], 0.9, 1e-15);
}

TEST(BatchNorm, ImageChannelsOverSamplesAndPixels) {
  Passes passes;
  BatchNorm<double> norm(2);
  // (N=2, C=2, H=1, W=2). Channel 0 has values 0, 2 and 4, 6: mean 3, variance 5.
  // Channel 1 has values 1, 1 and 3, 3: mean 2, variance 1.
  const Tensor<double> x = tensor_of({2, 2, 1, 2}, {0.0, 2.0, 1.0, 1.0, 4.0, 6.0, 3.0, 3.0});
  Tensor<double> y;
  norm.forward(x, y, passes.training);
  ASSERT_EQ(y.shape(), x.shape());
  const double inverse_std0 = 1.0 / std::sqrt(5.0 + kEpsilon);
  const double inverse_std1 = 1.0 / std::sqrt(1.0 + kEpsilon);
  const double expected[] = {-3.0 * inverse_std0, -1.0 * inverse_std0, -inverse_std1, -inverse_std1,
                             1.0 * inverse_std0,  3.0 * inverse_std0,  inverse_std1,  inverse_std1};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(y[i], expected[i], 1e-15) << "element " << i;
  EXPECT_NEAR((*norm.buffers()[0].value)[0], 0.1 * 3.0, 1e-15);
  EXPECT_NEAR((*norm.buffers()[1].value)[0], 0.9 + 0.1 * 5.0 * 4.0 / 3.0, 1e-15);
}

TEST(BatchNorm, InferenceUsesRunningStatistics) {
  Passes passes;
  BatchNorm<double> norm(3);
  perturb(norm);
  const Tensor<double> x = random_tensor({5, 3}, 4);
  Tensor<double> first;
  Tensor<double> second;
  norm.forward(x, first, passes.inference);
  norm.forward(x, second, passes.inference);
  EXPECT_TRUE(first.matrix() == second.matrix());
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t c = 0; c < 3; ++c) {
      const double mean = 0.2 * static_cast<double>(c) - 0.1;
      const double var = 0.5 + 0.4 * static_cast<double>(c);
      const double gamma = 1.5 - 0.25 * static_cast<double>(c);
      const double beta = -0.5 + 0.3 * static_cast<double>(c);
      const double expected = gamma * (x[i * 3 + c] - mean) / std::sqrt(var + kEpsilon) + beta;
      EXPECT_NEAR(first[i * 3 + c], expected, 1e-14) << "sample " << i << ", feature " << c;
    }
  }
  // Inference leaves the running statistics alone.
  EXPECT_EQ((*norm.buffers()[0].value)[2], 0.2 * 2.0 - 0.1);
  EXPECT_EQ((*norm.buffers()[1].value)[2], 0.5 + 0.4 * 2.0);
}

TEST(BatchNorm, TrainingGradientFeatures) {
  Passes passes;
  BatchNorm<double> norm(3);
  perturb(norm);
  const double worst = max_gradient_error(norm, random_tensor({4, 3}, 5), passes.training);
  EXPECT_LT(worst, kTolerance) << "largest |analytic - numeric| = " << worst;
}

TEST(BatchNorm, TrainingGradientImages) {
  Passes passes;
  BatchNorm<double> norm(2);
  perturb(norm);
  const double worst = max_gradient_error(norm, random_tensor({3, 2, 2, 3}, 6), passes.training);
  EXPECT_LT(worst, kTolerance) << "largest |analytic - numeric| = " << worst;
}

TEST(BatchNorm, InferenceGradientImages) {
  Passes passes;
  BatchNorm<double> norm(2);
  perturb(norm);
  const double worst = max_gradient_error(norm, random_tensor({3, 2, 2, 3}, 7), passes.inference);
  EXPECT_LT(worst, kTolerance) << "largest |analytic - numeric| = " << worst;
}

TEST(BatchNorm, SingleValuePerFeatureKeepsRunningStatistics) {
  Passes passes;
  BatchNorm<double> norm(3);
  perturb(norm);
  const Tensor<double> x = tensor_of({1, 3}, {4.0, -2.0, 9.0});
  Tensor<double> y;
  norm.forward(x, y, passes.training);
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(y[c], (*norm.parameters()[1].value)[c]) << "feature " << c;  // y = beta
    EXPECT_EQ((*norm.buffers()[0].value)[c], 0.2 * static_cast<double>(c) - 0.1);
    EXPECT_EQ((*norm.buffers()[1].value)[c], 0.5 + 0.4 * static_cast<double>(c));
  }
  Tensor<double> dx;
  norm.backward(tensor_of({1, 3}, {1.0, 2.0, 3.0}), &dx, passes.training);
  for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(dx[c], 0.0) << "feature " << c;
}

// Feature groups of several tasks must give the same bits on one thread and on two.
TEST(BatchNorm, TwoThreadsMatchOne) {
  ThreadPool one(1);
  ThreadPool two(2);
  for (const Shape& shape : {Shape{512, 100}, Shape{8, 6, 40, 40}}) {
    const int64_t f = shape[1];
    const Tensor<double> x = random_tensor(shape, 8);
    const Tensor<double> dy = random_tensor(shape, 9);
    BatchNorm<double> a(f);
    BatchNorm<double> b(f);
    Tensor<double> ya, yb, dxa, dxb;
    a.forward(x, ya, {.pool = &one, .training = true});
    a.backward(dy, &dxa, {.pool = &one, .training = true});
    b.forward(x, yb, {.pool = &two, .training = true});
    b.backward(dy, &dxb, {.pool = &two, .training = true});
    EXPECT_TRUE(ya.matrix() == yb.matrix()) << "features " << f;
    EXPECT_TRUE(dxa.matrix() == dxb.matrix()) << "features " << f;
    EXPECT_TRUE(a.parameters()[0].gradient->matrix() == b.parameters()[0].gradient->matrix());
    EXPECT_TRUE(a.buffers()[1].value->matrix() == b.buffers()[1].value->matrix());
  }
}

TEST(BatchNorm, ParametersAndBuffers) {
  BatchNorm<float> norm(4);
  const auto parameters = norm.parameters();
  ASSERT_EQ(parameters.size(), 2u);
  EXPECT_EQ(parameters[0].name, "gamma");
  EXPECT_EQ(parameters[1].name, "beta");
  EXPECT_FALSE(parameters[0].decays);
  EXPECT_FALSE(parameters[1].decays);
  EXPECT_EQ(parameters[0].value->shape(), (Shape{4}));
  EXPECT_EQ(parameters[0].gradient->shape(), (Shape{4}));
  const auto buffers = norm.buffers();
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers[0].name, "running_mean");
  EXPECT_EQ(buffers[1].name, "running_var");
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_EQ((*parameters[0].value)[c], 1.0f);
    EXPECT_EQ((*parameters[1].value)[c], 0.0f);
    EXPECT_EQ((*buffers[0].value)[c], 0.0f);
    EXPECT_EQ((*buffers[1].value)[c], 1.0f);
  }
}

TEST(BatchNorm, OutputShapeChecksFeatures) {
  BatchNorm<float> norm(3);
  EXPECT_EQ(norm.output_shape({3}), (Shape{3}));
  EXPECT_EQ(norm.output_shape({3, 8, 8}), (Shape{3, 8, 8}));
  EXPECT_THROW(norm.output_shape({}), Error);
  EXPECT_THROW(norm.output_shape({4}), Error);
  try {
    norm.output_shape({1, 8, 8});
    FAIL() << "a shape of 1 channel was accepted by a layer of 3";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("batchnorm"), std::string::npos) << message;
    EXPECT_NE(message.find("(1, 8, 8)"), std::string::npos) << message;
  }
}

TEST(BatchNorm, ConfigRoundTrip) {
  const BatchNorm<float> norm(16, {.momentum = 0.8, .epsilon = 1e-3});
  const nlohmann::json config = norm.config();
  EXPECT_EQ(config, nlohmann::json({{"type", "batchnorm"},
                                    {"features", 16},
                                    {"momentum", 0.8},
                                    {"epsilon", 1e-3}}));
  EXPECT_EQ(BatchNorm<float>::from_config(config)->config(), config);
  EXPECT_EQ(BatchNorm<float>::from_config(nlohmann::json::parse(config.dump()))->config(), config);
}

TEST(BatchNorm, MomentumAndEpsilonDefaults) {
  const auto layer = BatchNorm<double>::from_config({{"type", "batchnorm"}, {"features", 5}});
  EXPECT_EQ(layer->config()["momentum"], 0.9);
  EXPECT_EQ(layer->config()["epsilon"], 1e-5);
}

TEST(BatchNorm, InvalidConfigsRejected) {
  using json = nlohmann::json;
  const auto with = [](const char* field, json value) {
    json config = {{"type", "batchnorm"}, {"features", 4}};
    config[field] = std::move(value);
    return config;
  };
  EXPECT_THROW(BatchNorm<double>::from_config(with("features", 0)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("features", -3)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("features", 2.5)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("features", "4")), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(json::parse(
                   R"({"type": "batchnorm", "features": 18446744073709551615})")),
               Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("momentum", 1.5)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("momentum", -0.1)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("momentum", "high")), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("epsilon", 0.0)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("epsilon", -1e-5)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(with("eps", 1e-5)), Error);
  EXPECT_THROW(BatchNorm<double>::from_config({{"type", "batchnorm"}}), Error);
  EXPECT_THROW(BatchNorm<double>::from_config({{"type", "dense"}, {"features", 4}}), Error);
  EXPECT_THROW(BatchNorm<double>::from_config(json::array()), Error);
}

TEST(BatchNorm, InvalidFeaturesMessageNamesFieldAndRange) {
  try {
    BatchNorm<double>::from_config({{"type", "batchnorm"}, {"features", 0}});
    FAIL() << "features 0 was accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("features"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, 2^30]"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace felis
