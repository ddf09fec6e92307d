// Activation layers: hand-computed values, finite-difference gradients, identical results
// on one and two threads, and config round trips.
#include "felis/nn/activation.h"

#include "felis/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace felis {
namespace {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

Tensor<double> tensor_of(Shape shape, std::vector<double> values) {
  Tensor<double> t(std::move(shape));
  assert(t.size() == static_cast<int64_t>(values.size()));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = values[static_cast<size_t>(i)];
  return t;
}

// Uniform values in [-2, 2], moved to at least `gap` away from 0.
Tensor<double> random_tensor(Shape shape, uint64_t seed, double gap = 0.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);
  Tensor<double> t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = uniform(rng);
    t[i] = v < 0 ? std::min(v, -gap) : std::max(v, gap);
  }
  return t;
}

// Largest |analytic - numeric| of dL/dx for L = sum(y * r) with a fixed random r, so
// that dL/dy = r.
double max_input_error(Layer<double>& layer, Tensor<double> x) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
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
  return worst;
}

Tensor<double> forward_of(Layer<double>& layer, const Tensor<double>& x) {
  ThreadPool pool(1);
  Tensor<double> y;
  layer.forward(x, y, {.pool = &pool, .training = false});
  return y;
}

TEST(Activation, ReLUByHand) {
  ReLU<double> relu;
  const Tensor<double> x = tensor_of({1, 3}, {-1.0, 0.0, 2.0});
  const Tensor<double> y = forward_of(relu, x);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y[0], 0.0);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[2], 2.0);

  ThreadPool pool(1);
  Tensor<double> dx;
  relu.backward(tensor_of({1, 3}, {5.0, 6.0, 7.0}), &dx, {.pool = &pool, .training = false});
  EXPECT_EQ(dx[0], 0.0);
  EXPECT_EQ(dx[1], 0.0);  // the subgradient at 0 is taken as 0
  EXPECT_EQ(dx[2], 7.0);
}

TEST(Activation, LeakyReLUByHand) {
  LeakyReLU<double> leaky(0.1);
  const Tensor<double> y = forward_of(leaky, tensor_of({1, 3}, {-1.0, 0.0, 2.0}));
  EXPECT_DOUBLE_EQ(y[0], -0.1);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[2], 2.0);
  EXPECT_EQ(LeakyReLU<double>().alpha(), 0.01);
}

TEST(Activation, TanhByHand) {
  Tanh<double> tanh_layer;
  const Tensor<double> y = forward_of(tanh_layer, tensor_of({1, 2}, {0.5, -0.5}));
  // tanh(0.5) = (e - 1) / (e + 1) with e = e^(2 * 0.5)
  EXPECT_NEAR(y[0], (std::exp(1.0) - 1) / (std::exp(1.0) + 1), 1e-15);
  EXPECT_NEAR(y[0], 0.46211715726000974, 1e-15);
  EXPECT_NEAR(y[1], -0.46211715726000974, 1e-15);
}

TEST(Activation, SigmoidByHand) {
  Sigmoid<double> sigmoid;
  const Tensor<double> y = forward_of(sigmoid, tensor_of({1, 3}, {0.0, 1.0, -1.0}));
  EXPECT_EQ(y[0], 0.5);
  EXPECT_NEAR(y[1], 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(y[2], 1 / (1 + std::exp(1.0)), 1e-15);
}

TEST(Activation, SigmoidSaturatesFinite) {
  Sigmoid<double> sigmoid;
  const Tensor<double> y = forward_of(sigmoid, tensor_of({1, 2}, {800.0, -800.0}));
  ASSERT_TRUE(std::isfinite(y[0]));
  ASSERT_TRUE(std::isfinite(y[1]));
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(y[1], 0.0);

  Sigmoid<float> sigmoid_float;
  Tensor<float> x({1, 2});
  x[0] = 800.0f;
  x[1] = -800.0f;
  ThreadPool pool(1);
  Tensor<float> y_float;
  sigmoid_float.forward(x, y_float, {.pool = &pool, .training = false});
  EXPECT_EQ(y_float[0], 1.0f);
  EXPECT_EQ(y_float[1], 0.0f);
}

TEST(Activation, SoftmaxByHand) {
  Softmax<double> softmax;
  // Row 2 is row 1 plus 1000: without subtracting the row maximum, exp would overflow.
  const Tensor<double> y =
      forward_of(softmax, tensor_of({2, 3}, {1.0, 2.0, 3.0, 1001.0, 1002.0, 1003.0}));
  const double sum = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(y[j], std::exp(j + 1.0) / sum, 1e-15) << "feature " << j;
    EXPECT_NEAR(y[3 + j], std::exp(j + 1.0) / sum, 1e-15) << "feature " << j;
  }
  EXPECT_NEAR(y[0], 0.09003057317038046, 1e-15);
  EXPECT_NEAR(y[2], 0.6652409557748219, 1e-15);
}

TEST(Activation, SoftmaxNormalisesEachSampleOverAllDims) {
  Softmax<double> softmax;
  const Tensor<double> y = forward_of(softmax, random_tensor({3, 2, 2, 2}, 5));
  ASSERT_EQ(y.shape(), (Shape{3, 2, 2, 2}));
  for (int64_t n = 0; n < 3; ++n) {
    EXPECT_NEAR(y.matrix().row(n).sum(), 1.0, 1e-15) << "sample " << n;
  }
}

TEST(Activation, InputGradients) {
  const Shape shape = {3, 2, 2, 2};
  struct Case {
    const char* name;
    std::unique_ptr<Layer<double>> layer;
  };
  std::vector<Case> cases;
  cases.push_back({"relu", std::make_unique<ReLU<double>>()});
  cases.push_back({"leaky_relu", std::make_unique<LeakyReLU<double>>(0.1)});
  cases.push_back({"tanh", std::make_unique<Tanh<double>>()});
  cases.push_back({"sigmoid", std::make_unique<Sigmoid<double>>()});
  cases.push_back({"softmax", std::make_unique<Softmax<double>>()});
  for (auto& [name, layer] : cases) {
    // Inputs stay 0.1 away from the kink at 0, which is 1e5 finite-difference steps.
    const double worst = max_input_error(*layer, random_tensor(shape, 11, /*gap=*/0.1));
    EXPECT_LT(worst, kTolerance) << name << ": largest |analytic - numeric| = " << worst;
  }
}

// Several chunks plus a partial one must give the same bits on one thread and on two.
TEST(Activation, TwoThreadsMatchOne) {
  const int64_t d = 1000;
  const int64_t n = 3 * kActivationChunkElements / d + 7;
  const Tensor<double> x = random_tensor({n, d}, 21);
  const Tensor<double> dy = random_tensor({n, d}, 22);
  std::vector<std::unique_ptr<Layer<double>>> layers;
  layers.push_back(std::make_unique<ReLU<double>>());
  layers.push_back(std::make_unique<LeakyReLU<double>>(0.2));
  layers.push_back(std::make_unique<Tanh<double>>());
  layers.push_back(std::make_unique<Sigmoid<double>>());
  layers.push_back(std::make_unique<Softmax<double>>());
  ThreadPool one(1);
  ThreadPool two(2);
  for (auto& layer : layers) {
    const std::string type = layer->config()["type"];
    Tensor<double> y1, y2, dx1, dx2;
    layer->forward(x, y1, {.pool = &one, .training = true});
    layer->backward(dy, &dx1, {.pool = &one, .training = true});
    layer->forward(x, y2, {.pool = &two, .training = true});
    layer->backward(dy, &dx2, {.pool = &two, .training = true});
    EXPECT_TRUE(y1.matrix() == y2.matrix()) << type;
    EXPECT_TRUE(dx1.matrix() == dx2.matrix()) << type;
  }
}

TEST(Activation, OutputShapeEqualsInputShape) {
  const Shape sample = {3, 4, 5};
  EXPECT_EQ(ReLU<float>().output_shape(sample), sample);
  EXPECT_EQ(LeakyReLU<float>().output_shape(sample), sample);
  EXPECT_EQ(Tanh<float>().output_shape(sample), sample);
  EXPECT_EQ(Sigmoid<float>().output_shape(sample), sample);
  EXPECT_EQ(Softmax<float>().output_shape(sample), sample);
}

TEST(Activation, ConfigRoundTrip) {
  EXPECT_EQ(ReLU<float>::from_config(ReLU<float>().config())->config(),
            nlohmann::json({{"type", "relu"}}));
  EXPECT_EQ(Tanh<float>::from_config(Tanh<float>().config())->config(),
            nlohmann::json({{"type", "tanh"}}));
  EXPECT_EQ(Sigmoid<float>::from_config(Sigmoid<float>().config())->config(),
            nlohmann::json({{"type", "sigmoid"}}));
  EXPECT_EQ(Softmax<float>::from_config(Softmax<float>().config())->config(),
            nlohmann::json({{"type", "softmax"}}));
  const nlohmann::json leaky = LeakyReLU<double>(0.25).config();
  EXPECT_EQ(leaky, nlohmann::json({{"type", "leaky_relu"}, {"alpha", 0.25}}));
  EXPECT_EQ(LeakyReLU<double>::from_config(leaky)->config(), leaky);
}

TEST(Activation, LeakyReLUAlphaDefaultsTo001) {
  const auto layer = LeakyReLU<double>::from_config({{"type", "leaky_relu"}});
  EXPECT_EQ(layer->config()["alpha"], 0.01);
}

TEST(Activation, InvalidConfigsRejected) {
  using json = nlohmann::json;
  EXPECT_THROW(LeakyReLU<double>::from_config({{"type", "leaky_relu"}, {"alpha", -0.1}}), Error);
  EXPECT_THROW(LeakyReLU<double>::from_config({{"type", "leaky_relu"}, {"alpha", 1.5}}), Error);
  EXPECT_THROW(LeakyReLU<double>::from_config({{"type", "leaky_relu"}, {"alpha", "0.1"}}), Error);
  EXPECT_THROW(LeakyReLU<double>(-0.01), Error);
  EXPECT_THROW(LeakyReLU<double>(std::nan("")), Error);
  EXPECT_THROW(ReLU<double>::from_config({{"type", "tanh"}}), Error);
  EXPECT_THROW(ReLU<double>::from_config(json::array()), Error);
  EXPECT_THROW(Tanh<double>::from_config(json::object()), Error);
  EXPECT_THROW(Sigmoid<double>::from_config({{"type", "sigmoid"}, {"alpha", 0.1}}), Error);
  EXPECT_THROW(Softmax<double>::from_config({{"type", "softmax"}, {"axis", 1}}), Error);
}

TEST(Activation, InvalidAlphaMessageNamesFieldAndRange) {
  try {
    LeakyReLU<double>::from_config({{"type", "leaky_relu"}, {"alpha", -1}});
    FAIL() << "alpha -1 was accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("alpha"), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 1]"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace felis
