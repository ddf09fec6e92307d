// Conv2d: hand-computed outputs, finite-difference gradients for W, b and x, shape errors,
// bit-identical results with 1 and 2 threads, and the config round trip.
//
// Legend: N samples, C input channels, H x W pixels, F filters, k kernel, s stride,
// p padding.
#include "felis/nn/conv2d.h"

#include "felis/nn/activation.h"
#include "felis/nn/network.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

template <typename T>
Tensor<T> tensor_of(Shape shape, const std::vector<T>& values) {
  Tensor<T> tensor(std::move(shape));
  assert(static_cast<int64_t>(values.size()) == tensor.size());
  std::copy(values.begin(), values.end(), tensor.data());
  return tensor;
}

template <typename T>
void fill_uniform(Tensor<T>& tensor, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int64_t i = 0; i < tensor.size(); ++i) tensor[i] = static_cast<T>(uniform(rng));
}

template <typename T>
void set_parameters(Conv2d<T>& conv, const Tensor<T>& weights, const Tensor<T>& bias) {
  auto parameters = conv.parameters();
  ASSERT_EQ(parameters[0].value->shape(), weights.shape());
  ASSERT_EQ(parameters[1].value->shape(), bias.shape());
  *parameters[0].value = weights;
  *parameters[1].value = bias;
}

void expect_values(const Tensor<double>& actual, const Shape& shape,
                   const std::vector<double>& expected) {
  ASSERT_EQ(actual.shape(), shape);
  for (int64_t i = 0; i < actual.size(); ++i) {
    EXPECT_DOUBLE_EQ(actual[i], expected[static_cast<size_t>(i)]) << "at flat index " << i;
  }
}

// x (1, 1, 3, 3) = 1..9 and W (1, 1, 2, 2) = [[1, 2], [3, 4]], b = 0.5.
struct SmallCase {
  Tensor<double> x = tensor_of<double>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor<double> weights = tensor_of<double>({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor<double> bias = tensor_of<double>({1}, {0.5});
};

TEST(Conv2d, ForwardWithoutPadding) {
  ThreadPool pool(1);
  SmallCase c;
  Conv2d<double> conv(1, 1, /*kernel=*/2, /*stride=*/1, /*padding=*/0);
  set_parameters(conv, c.weights, c.bias);
  Tensor<double> y;
  conv.forward(c.x, y, {.pool = &pool, .training = true});
  // y[i, j] = 1 x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1] + 0.5
  expect_values(y, {1, 1, 2, 2}, {37.5, 47.5, 67.5, 77.5});
}

TEST(Conv2d, ForwardWithPaddingOne) {
  ThreadPool pool(1);
  SmallCase c;
  Conv2d<double> conv(1, 1, /*kernel=*/2, /*stride=*/1, /*padding=*/1);
  set_parameters(conv, c.weights, c.bias);
  Tensor<double> y;
  conv.forward(c.x, y, {.pool = &pool, .training = true});
  // The same sum over x framed by one ring of zeros, 5 x 5, so Ho = Wo = 4.
  expect_values(y, {1, 1, 4, 4},
                {4.5, 11.5, 18.5, 9.5,     //
                 18.5, 37.5, 47.5, 21.5,   //
                 36.5, 67.5, 77.5, 33.5,   //
                 14.5, 23.5, 26.5, 9.5});
}

TEST(Conv2d, ForwardWithStrideTwo) {
  ThreadPool pool(1);
  Tensor<double> x({1, 1, 5, 5});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);  // x[r, c] = 5r + c
  Conv2d<double> conv(1, 1, /*kernel=*/3, /*stride=*/2, /*padding=*/0);
  set_parameters(conv, tensor_of<double>({1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                 tensor_of<double>({1}, {0.0}));
  Tensor<double> y;
  conv.forward(x, y, {.pool = &pool, .training = true});
  // A 3 x 3 window of x sums to 9 times its center: centers 6, 8, 16 and 18.
  expect_values(y, {1, 1, 2, 2}, {54, 72, 144, 162});
}

TEST(Conv2d, ForwardTwoChannelsTwoFilters) {
  ThreadPool pool(1);
  // Sample 0 has channels [[1, 2], [3, 4]] and [[5, 6], [7, 8]]. Sample 1 is twice
  // sample 0.
  const Tensor<double> x = tensor_of<double>(
      {2, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 6, 8, 10, 12, 14, 16});
  // Filter 0 sums channel 0 and adds 1. Filter 1 takes channel 0's top left pixel minus
  // channel 1's bottom right pixel.
  const Tensor<double> weights = tensor_of<double>(
      {2, 2, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, -1});
  Conv2d<double> conv(2, 2, /*kernel=*/2, /*stride=*/1, /*padding=*/0);
  set_parameters(conv, weights, tensor_of<double>({2}, {1.0, 0.0}));
  Tensor<double> y;
  conv.forward(x, y, {.pool = &pool, .training = true});
  expect_values(y, {2, 2, 1, 1}, {11, -7, 21, -14});
}

struct GradientCase {
  int64_t samples, in_channels, out_channels, kernel, stride, padding, height, width;
};

// Largest |analytic - central difference| over every element of W, b and x, for the loss
// L = sum of y * r with a fixed random r, so that dL/dy = r.
double max_gradient_error(const GradientCase& g) {
  std::mt19937_64 rng(11);
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  Conv2d<double> conv(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding);
  for (auto& parameter : conv.parameters()) fill_uniform(*parameter.value, rng);
  Tensor<double> x({g.samples, g.in_channels, g.height, g.width});
  fill_uniform(x, rng);
  Tensor<double> y;
  conv.forward(x, y, context);
  Tensor<double> r(y.shape());
  fill_uniform(r, rng);

  Tensor<double> dx;
  conv.backward(r, &dx, context);
  auto loss = [&] {
    Tensor<double> out;
    conv.forward(x, out, context);
    return out.matrix().cwiseProduct(r.matrix()).sum();
  };
  auto worst_over = [&](Tensor<double>& value, const Tensor<double>& analytic) {
    double worst = 0.0;
    for (int64_t i = 0; i < value.size(); ++i) {
      const double saved = value[i];
      value[i] = saved + kStep;
      const double plus = loss();
      value[i] = saved - kStep;
      const double minus = loss();
      value[i] = saved;
      worst = std::max(worst, std::abs(analytic[i] - (plus - minus) / (2 * kStep)));
    }
    return worst;
  };

  double worst = worst_over(x, dx);
  for (auto& parameter : conv.parameters()) {
    const Tensor<double> analytic = *parameter.gradient;
    worst = std::max(worst, worst_over(*parameter.value, analytic));
  }
  return worst;
}

TEST(Conv2d, GradientsMatchFiniteDifferences) {
  const std::vector<GradientCase> cases = {
      {.samples = 3, .in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 1,
       .padding = 0, .height = 5, .width = 5},
      {.samples = 3, .in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 2,
       .padding = 1, .height = 6, .width = 5},
      {.samples = 3, .in_channels = 1, .out_channels = 2, .kernel = 2, .stride = 2,
       .padding = 1, .height = 4, .width = 4},
      {.samples = 3, .in_channels = 3, .out_channels = 2, .kernel = 1, .stride = 1,
       .padding = 0, .height = 3, .width = 4},
      // More samples than one chunk, so that dW and db are summed over chunks.
      {.samples = 9, .in_channels = 2, .out_channels = 2, .kernel = 3, .stride = 2,
       .padding = 2, .height = 5, .width = 7},
  };
  for (const auto& g : cases) {
    const double worst = max_gradient_error(g);
    EXPECT_LT(worst, kTolerance) << "worst error " << worst << " for N=" << g.samples
                                 << " C=" << g.in_channels << " F=" << g.out_channels
                                 << " k=" << g.kernel << " s=" << g.stride
                                 << " p=" << g.padding << " H=" << g.height
                                 << " W=" << g.width;
  }
}

TEST(Conv2d, OutputShape) {
  const Conv2d<float> conv(3, 8, /*kernel=*/5, /*stride=*/2, /*padding=*/1);
  EXPECT_EQ(conv.output_shape({3, 28, 27}), (Shape{8, 13, 13}));
  EXPECT_EQ(conv.output_shape({3, 3, 3}), (Shape{8, 1, 1}));
}

TEST(Conv2d, KernelLargerThanPaddedInput) {
  const Conv2d<float> conv(1, 4, /*kernel=*/5, /*stride=*/1, /*padding=*/1);
  const std::string message = error_message([&] { (void)conv.output_shape({1, 2, 6}); });
  EXPECT_TRUE(contains(message, "conv2d layer (1 -> 4 channels, kernel 5, stride 1, "
                                "padding 1)"))
      << message;
  EXPECT_TRUE(contains(message, "(1, 2, 6)")) << message;
  EXPECT_TRUE(contains(message, "smaller than the kernel")) << message;
}

TEST(Conv2d, ChannelMismatch) {
  const Conv2d<float> conv(3, 4, /*kernel=*/3, /*stride=*/1, /*padding=*/0);
  const std::string message = error_message([&] { (void)conv.output_shape({1, 28, 28}); });
  EXPECT_TRUE(contains(message, "conv2d layer")) << message;
  EXPECT_TRUE(contains(message, "expects 3 input channels")) << message;
  EXPECT_TRUE(contains(message, "(1, 28, 28)")) << message;
}

TEST(Conv2d, SampleNotThreeDimensional) {
  const Conv2d<float> conv(1, 4, /*kernel=*/3, /*stride=*/1, /*padding=*/0);
  const std::string message = error_message([&] { (void)conv.output_shape({784}); });
  EXPECT_TRUE(contains(message, "expects a sample of shape (C, H, W) but gets (784)"))
      << message;
}

struct PassResults {
  Tensor<float> y, dx, weights_grad, bias_grad;
};

PassResults run_with_threads(int threads, const GradientCase& g) {
  std::mt19937_64 rng(5);
  ThreadPool pool(threads);
  const PassContext context{.pool = &pool, .training = true};
  Conv2d<float> conv(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding);
  for (auto& parameter : conv.parameters()) fill_uniform(*parameter.value, rng);
  Tensor<float> x({g.samples, g.in_channels, g.height, g.width});
  fill_uniform(x, rng);
  PassResults run;
  conv.forward(x, run.y, context);
  Tensor<float> dy(run.y.shape());
  fill_uniform(dy, rng);
  conv.backward(dy, &run.dx, context);
  run.weights_grad = *conv.parameters()[0].gradient;
  run.bias_grad = *conv.parameters()[1].gradient;
  return run;
}

bool bit_identical(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

TEST(Conv2d, SameBitsWithOneAndTwoThreads) {
  // 11 samples make two full chunks and a short one. The second case has 1 x 1 outputs,
  // where Eigen picks matrix-vector and coefficient-wise products instead of its GEMM.
  const std::vector<GradientCase> cases = {
      {.samples = 11, .in_channels = 3, .out_channels = 4, .kernel = 3, .stride = 1,
       .padding = 1, .height = 8, .width = 8},
      {.samples = 11, .in_channels = 2, .out_channels = 3, .kernel = 2, .stride = 2,
       .padding = 0, .height = 3, .width = 3},
  };
  for (const auto& g : cases) {
    const PassResults one = run_with_threads(1, g);
    const PassResults two = run_with_threads(2, g);
    EXPECT_TRUE(bit_identical(one.y, two.y)) << "y, k=" << g.kernel;
    EXPECT_TRUE(bit_identical(one.dx, two.dx)) << "dx, k=" << g.kernel;
    EXPECT_TRUE(bit_identical(one.weights_grad, two.weights_grad)) << "dW, k=" << g.kernel;
    EXPECT_TRUE(bit_identical(one.bias_grad, two.bias_grad)) << "db, k=" << g.kernel;
  }
}

// The fused conv + ReLU path, which a Network takes for a conv followed by a ReLU, gives
// the same bits as the two layers run one after the other: outputs, dx and gradients.
TEST(Conv2d, FusedReluSameBitsAsTwoLayers) {
  std::mt19937_64 rng(7);
  ThreadPool pool(2);
  const PassContext context{.pool = &pool, .training = true};
  Conv2d<float> fused(3, 4, /*kernel=*/3, /*stride=*/1, /*padding=*/1);
  for (auto& parameter : fused.parameters()) fill_uniform(*parameter.value, rng);
  Conv2d<float> conv = fused;
  ReLU<float> relu;
  Tensor<float> x({9, 3, 6, 6});
  fill_uniform(x, rng);
  // Exact zeros and a negative zero in x make ties at the ReLU's kink.
  x[0] = 0.0f;
  x[1] = -0.0f;

  Tensor<float> fused_y;
  fused.forward_relu(x, fused_y, context);
  Tensor<float> conv_y;
  Tensor<float> relu_y;
  conv.forward(x, conv_y, context);
  relu.forward(conv_y, relu_y, context);
  EXPECT_TRUE(bit_identical(fused_y, relu_y));

  Tensor<float> dy(fused_y.shape());
  fill_uniform(dy, rng);
  Tensor<float> fused_dx;
  fused.backward_relu(dy, &fused_dx, context);
  Tensor<float> relu_dx;
  Tensor<float> conv_dx;
  relu.backward(dy, &relu_dx, context);
  conv.backward(relu_dx, &conv_dx, context);
  EXPECT_TRUE(bit_identical(fused_dx, conv_dx));
  EXPECT_TRUE(bit_identical(*fused.parameters()[0].gradient, *conv.parameters()[0].gradient));
  EXPECT_TRUE(bit_identical(*fused.parameters()[1].gradient, *conv.parameters()[1].gradient));
}

// A Network runs a conv and the ReLU after it as one fused pass. Its logits and every
// parameter gradient match the same layers called one by one.
TEST(Conv2d, NetworkFusedReluSameBitsAsLayers) {
  std::mt19937_64 rng(3);
  ThreadPool pool(2);
  const PassContext context{.pool = &pool, .training = true};
  const nlohmann::json architecture = {
      {"input_shape", {1, 5, 5}},
      {"output", "softmax"},
      {"layers",
       {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 3}, {"kernel", 3},
         {"stride", 1}, {"padding", 1}},
        {{"type", "relu"}},
        {{"type", "conv2d"}, {"in_channels", 3}, {"out_channels", 2}, {"kernel", 3},
         {"stride", 1}, {"padding", 0}},
        {{"type", "relu"}},
        {{"type", "flatten"}},
        {{"type", "dense"}, {"inputs", 18}, {"units", 4}}}}};
  Network<float> fused = Network<float>::from_architecture(architecture, 1 << 20);
  Network<float> layered = Network<float>::from_architecture(architecture, 1 << 20);
  auto fused_parameters = fused.parameters();
  auto layered_parameters = layered.parameters();
  for (size_t p = 0; p < fused_parameters.size(); ++p) {
    fill_uniform(*fused_parameters[p].value, rng);
    *layered_parameters[p].value = *fused_parameters[p].value;
  }
  Tensor<float> x({6, 1, 5, 5});
  fill_uniform(x, rng);

  const Tensor<float>& fused_logits = fused.forward(x, context);
  std::vector<Tensor<float>> outputs(layered.layer_count());
  const Tensor<float>* input = &x;
  for (size_t i = 0; i < layered.layer_count(); ++i) {
    layered.layer(i).forward(*input, outputs[i], context);
    input = &outputs[i];
  }
  ASSERT_TRUE(bit_identical(fused_logits, outputs.back()));

  Tensor<float> dlogits(fused_logits.shape());
  fill_uniform(dlogits, rng);
  fused.backward(dlogits, context);
  std::vector<Tensor<float>> gradients(layered.layer_count());
  const Tensor<float>* dy = &dlogits;
  for (size_t i = layered.layer_count(); i-- > 0;) {
    layered.layer(i).backward(*dy, &gradients[i], context);
    dy = &gradients[i];
  }
  for (size_t p = 0; p < fused_parameters.size(); ++p) {
    EXPECT_TRUE(bit_identical(*fused_parameters[p].gradient, *layered_parameters[p].gradient))
        << "parameter " << p;
  }
}

TEST(Conv2d, ConfigRoundTrip) {
  const Conv2d<float> conv(3, 16, /*kernel=*/5, /*stride=*/2, /*padding=*/2);
  const nlohmann::json config = conv.config();
  EXPECT_EQ(config, (nlohmann::json{{"type", "conv2d"}, {"in_channels", 3},
                                    {"out_channels", 16}, {"kernel", 5}, {"stride", 2},
                                    {"padding", 2}}));
  EXPECT_EQ(Conv2d<float>::from_config(config)->config(), config);
  EXPECT_EQ(Conv2d<double>::from_config(config)->config(), config);
}

TEST(Conv2d, FromConfigRejectsBadFields) {
  const nlohmann::json good = Conv2d<float>(1, 2, 3, 1, 0).config();
  struct BadField {
    const char* key;
    nlohmann::json value;
    const char* expected;
  };
  const std::vector<BadField> cases = {
      {"kernel", 0, "'kernel' is 0, expected 1 to 64"},
      {"kernel", 65, "'kernel' is 65, expected 1 to 64"},
      {"in_channels", 65537, "'in_channels' is 65537, expected 1 to 65536"},
      {"out_channels", -1, "'out_channels' is -1, expected 1 to 65536"},
      {"stride", 0, "'stride' is 0, expected 1 to 64"},
      {"padding", -1, "'padding' is -1, expected 0 to 64"},
      {"padding", 1.5, "has no integer 'padding'"},
      {"stride", "2", "has no integer 'stride'"},
  };
  for (const auto& bad : cases) {
    nlohmann::json config = good;
    config[bad.key] = bad.value;
    const std::string message = error_message([&] { Conv2d<float>::from_config(config); });
    EXPECT_TRUE(contains(message, bad.expected)) << message;
  }
  nlohmann::json missing = good;
  missing.erase("out_channels");
  const std::string message = error_message([&] { Conv2d<float>::from_config(missing); });
  EXPECT_TRUE(contains(message, "has no integer 'out_channels'")) << message;
}

}  // namespace
}  // namespace felis
