// Conv2d's oneDNN engine: the same outputs and gradients as the im2col engine on random
// inputs, gradients against finite differences, and the same bits with 1 and 2 threads.
//
// Legend: N samples, C input channels, H x W pixels, F filters, k kernel, s stride,
// p padding.
#include "felis/nn/conv2d.h"

#include "felis/nn/network.h"
#include "felis/nn/pool2d.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace felis {
namespace {

struct ConvCase {
  int64_t samples;       // N
  int64_t in_channels;   // C
  int64_t out_channels;  // F
  int64_t kernel;        // k
  int64_t stride;        // s
  int64_t padding;       // p
  int64_t height;        // H
  int64_t width;         // W
};

std::string describe(const ConvCase& g) {
  return "N=" + std::to_string(g.samples) + " C=" + std::to_string(g.in_channels) +
         " F=" + std::to_string(g.out_channels) + " k=" + std::to_string(g.kernel) +
         " s=" + std::to_string(g.stride) + " p=" + std::to_string(g.padding) +
         " H=" + std::to_string(g.height) + " W=" + std::to_string(g.width);
}

// conv2 of the Fashion-MNIST CNN (Winograd kernels, nChw16c) with a short last chunk,
// conv1 (one input channel), a padded stride-2 conv with few filters (direct kernels,
// NCHW), and a 5 x 5 kernel with padding.
const std::vector<ConvCase> kCases = {
    {.samples = 37, .in_channels = 32, .out_channels = 64, .kernel = 3, .stride = 1,
     .padding = 0, .height = 13, .width = 13},
    {.samples = 20, .in_channels = 1, .out_channels = 32, .kernel = 3, .stride = 1,
     .padding = 0, .height = 12, .width = 12},
    {.samples = 5, .in_channels = 3, .out_channels = 8, .kernel = 3, .stride = 2,
     .padding = 1, .height = 9, .width = 8},
    {.samples = 17, .in_channels = 16, .out_channels = 16, .kernel = 5, .stride = 1,
     .padding = 2, .height = 7, .width = 7},
};

void fill_uniform(Tensor<float>& tensor, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int64_t i = 0; i < tensor.size(); ++i) tensor[i] = static_cast<float>(uniform(rng));
}

struct PassResults {
  Tensor<float> y, dx, weights_grad, bias_grad;
};

// Forward and backward of one layer on inputs drawn from a fixed seed.
PassResults run_pass(const ConvCase& g, ConvEngine engine, bool relu, int threads) {
  std::mt19937_64 rng(11);
  ThreadPool pool(threads);
  const PassContext context{.pool = &pool, .training = true};
  Conv2d<float> conv(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding);
  conv.set_engine(engine);
  for (auto& parameter : conv.parameters()) fill_uniform(*parameter.value, rng);
  Tensor<float> x({g.samples, g.in_channels, g.height, g.width});
  fill_uniform(x, rng);

  PassResults run;
  if (relu) {
    conv.forward_relu(x, run.y, context);
  } else {
    conv.forward(x, run.y, context);
  }
  Tensor<float> dy(run.y.shape());
  fill_uniform(dy, rng);
  if (relu) {
    conv.backward_relu(dy, &run.dx, context);
  } else {
    conv.backward(dy, &run.dx, context);
  }
  run.weights_grad = *conv.parameters()[0].gradient;
  run.bias_grad = *conv.parameters()[1].gradient;
  return run;
}

// The largest |actual - expected| over the largest |expected|.
double relative_error(const Tensor<float>& actual, const Tensor<float>& expected) {
  EXPECT_EQ(actual.shape(), expected.shape());
  double difference = 0.0;
  double scale = 1e-30;
  for (int64_t i = 0; i < expected.size(); ++i) {
    difference = std::max(difference, std::abs(double{actual[i]} - double{expected[i]}));
    scale = std::max(scale, std::abs(double{expected[i]}));
  }
  return difference / scale;
}

bool bit_identical(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

// Winograd F(4x4, 3x3) rounds more than a direct sum. The largest error on these cases
// was 1.7e-6 of the largest value.
constexpr double kEngineTolerance = 1e-5;

TEST(Conv2dOneDnn, MatchesIm2col) {
  for (const auto& g : kCases) {
    for (const bool relu : {false, true}) {
      const PassResults fast = run_pass(g, ConvEngine::onednn, relu, /*threads=*/2);
      const PassResults reference = run_pass(g, ConvEngine::im2col, relu, /*threads=*/2);
      const std::string where = describe(g) + (relu ? " with ReLU" : "");
      EXPECT_LT(relative_error(fast.y, reference.y), kEngineTolerance) << "y, " << where;
      EXPECT_LT(relative_error(fast.dx, reference.dx), kEngineTolerance) << "dx, " << where;
      EXPECT_LT(relative_error(fast.weights_grad, reference.weights_grad), kEngineTolerance)
          << "dW, " << where;
      EXPECT_LT(relative_error(fast.bias_grad, reference.bias_grad), kEngineTolerance)
          << "db, " << where;
    }
  }
}

TEST(Conv2dOneDnn, SameBitsWithOneAndTwoThreads) {
  for (const auto& g : kCases) {
    const PassResults one = run_pass(g, ConvEngine::onednn, /*relu=*/true, /*threads=*/1);
    const PassResults two = run_pass(g, ConvEngine::onednn, /*relu=*/true, /*threads=*/2);
    EXPECT_TRUE(bit_identical(one.y, two.y)) << "y, " << describe(g);
    EXPECT_TRUE(bit_identical(one.dx, two.dx)) << "dx, " << describe(g);
    EXPECT_TRUE(bit_identical(one.weights_grad, two.weights_grad)) << "dW, " << describe(g);
    EXPECT_TRUE(bit_identical(one.bias_grad, two.bias_grad)) << "db, " << describe(g);
  }
}

// L = sum of r * y for a fixed random r, summed in double. The convolution is linear in
// W, b and x, so the central difference (L(v + h) - L(v - h)) / 2h equals the derivative
// for any step h up to rounding. A step of 0.5 keeps the rounding small against it.
TEST(Conv2dOneDnn, GradientsMatchFiniteDifferences) {
  constexpr float kStep = 0.5f;
  constexpr double kTolerance = 2e-3;  // of the largest derivative
  constexpr int64_t kChecked = 40;     // entries of W and of x, spread over the tensor
  for (const auto& g : kCases) {
    std::mt19937_64 rng(3);
    ThreadPool pool(2);
    const PassContext context{.pool = &pool, .training = true};
    Conv2d<float> conv(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding);
    for (auto& parameter : conv.parameters()) fill_uniform(*parameter.value, rng);
    Tensor<float> x({g.samples, g.in_channels, g.height, g.width});
    fill_uniform(x, rng);
    Tensor<float> y;
    conv.forward(x, y, context);
    Tensor<float> r(y.shape());
    fill_uniform(r, rng);

    Tensor<float> dx;
    conv.backward(r, &dx, context);
    const Tensor<float> weights_grad = *conv.parameters()[0].gradient;
    const Tensor<float> bias_grad = *conv.parameters()[1].gradient;

    const auto loss = [&] {
      Tensor<float> out;
      conv.forward(x, out, context);
      double sum = 0.0;
      for (int64_t i = 0; i < out.size(); ++i) sum += double{r[i]} * double{out[i]};
      return sum;
    };
    // The worst |analytic - numeric| over `count` entries of value, and the largest
    // |analytic| among them.
    const auto check = [&](Tensor<float>& value, const Tensor<float>& analytic,
                           int64_t count, const char* name) {
      double worst = 0.0;
      double scale = 1e-30;
      const int64_t stride = std::max<int64_t>(1, value.size() / count);
      for (int64_t i = 0; i < value.size(); i += stride) {
        const float saved = value[i];
        value[i] = saved + kStep;
        const double plus = loss();
        value[i] = saved - kStep;
        const double minus = loss();
        value[i] = saved;
        const double numeric = (plus - minus) / (2.0 * kStep);
        worst = std::max(worst, std::abs(double{analytic[i]} - numeric));
        scale = std::max(scale, std::abs(double{analytic[i]}));
      }
      EXPECT_LT(worst / scale, kTolerance)
          << name << ": worst error " << worst << " against " << scale << ", " << describe(g);
    };
    check(*conv.parameters()[0].value, weights_grad, kChecked, "dW");
    check(*conv.parameters()[1].value, bias_grad, g.out_channels, "db");
    check(x, dx, kChecked, "dx");
  }
}

// forward_relu_pool and backward_relu_pool against the conv with its ReLU and a separate
// MaxPool2d(2, 2): the same bits for z, dx, dW and db. Integer inputs and weights make
// many windows with tied maxima, where the first in row-major order must win.
TEST(Conv2dOneDnn, FusedPoolSameBitsAsLayers) {
  const std::vector<ConvCase> cases = {kCases[0], kCases[1], kCases[3]};
  for (const auto& g : cases) {
    for (const bool integers : {false, true}) {
      std::mt19937_64 rng(7);
      ThreadPool pool(2);
      const PassContext context{.pool = &pool, .training = true};
      Conv2d<float> fused(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding);
      for (auto& parameter : fused.parameters()) fill_uniform(*parameter.value, rng);
      Tensor<float> x({g.samples, g.in_channels, g.height, g.width});
      fill_uniform(x, rng);
      if (integers) {
        for (int64_t i = 0; i < x.size(); ++i) x[i] = std::round(x[i]);
        for (auto& parameter : fused.parameters()) {
          for (int64_t i = 0; i < parameter.value->size(); ++i) {
            (*parameter.value)[i] = std::round((*parameter.value)[i]);
          }
        }
      }
      Conv2d<float> layered = fused;
      MaxPool2d<float> max_pool(2, 2);
      const std::string where = describe(g) + (integers ? " with integers" : "");

      Tensor<float> fused_z;
      ASSERT_TRUE(fused.forward_relu_pool(x, fused_z, context)) << where;
      Tensor<float> relu_y;
      Tensor<float> layered_z;
      layered.forward_relu(x, relu_y, context);
      max_pool.forward(relu_y, layered_z, context);
      EXPECT_TRUE(bit_identical(fused_z, layered_z)) << "z, " << where;

      Tensor<float> dz(fused_z.shape());
      fill_uniform(dz, rng);
      Tensor<float> fused_dx;
      fused.backward_relu_pool(dz, &fused_dx, context);
      Tensor<float> pool_dx;
      Tensor<float> layered_dx;
      max_pool.backward(dz, &pool_dx, context);
      layered.backward_relu(pool_dx, &layered_dx, context);
      EXPECT_TRUE(bit_identical(fused_dx, layered_dx)) << "dx, " << where;
      for (size_t p = 0; p < 2; ++p) {
        EXPECT_TRUE(bit_identical(*fused.parameters()[p].gradient,
                                  *layered.parameters()[p].gradient))
            << "parameter " << p << ", " << where;
      }
    }
  }
}

// A Network runs conv, ReLU and a 2 x 2 max pooling as one pass. Its logits, parameter
// gradients and, when they are requested, every layer's input gradient match the same
// layers called one by one.
TEST(Conv2dOneDnn, NetworkFusedPoolSameBitsAsLayers) {
  const nlohmann::json architecture = {
      {"input_shape", {1, 12, 12}},
      {"output", "softmax"},
      {"layers",
       {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 16}, {"kernel", 3},
         {"stride", 1}, {"padding", 1}},
        {{"type", "relu"}},
        {{"type", "maxpool"}, {"kernel", 2}, {"stride", 2}},
        {{"type", "conv2d"}, {"in_channels", 16}, {"out_channels", 32}, {"kernel", 3},
         {"stride", 1}, {"padding", 0}},
        {{"type", "relu"}},
        {{"type", "maxpool"}, {"kernel", 2}, {"stride", 2}},
        {{"type", "flatten"}},
        {{"type", "dense"}, {"inputs", 128}, {"units", 4}}}}};
  for (const bool input_gradients : {false, true}) {
    std::mt19937_64 rng(3);
    ThreadPool pool(2);
    const PassContext context{.pool = &pool, .training = true};
    Network<float> fused = Network<float>::from_architecture(architecture, 1 << 20);
    Network<float> layered = Network<float>::from_architecture(architecture, 1 << 20);
    auto fused_parameters = fused.parameters();
    auto layered_parameters = layered.parameters();
    for (size_t p = 0; p < fused_parameters.size(); ++p) {
      fill_uniform(*fused_parameters[p].value, rng);
      *layered_parameters[p].value = *fused_parameters[p].value;
    }
    Tensor<float> x({21, 1, 12, 12});
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
    fused.backward(dlogits, context, input_gradients);
    std::vector<Tensor<float>> gradients(layered.layer_count());
    const Tensor<float>* dy = &dlogits;
    for (size_t i = layered.layer_count(); i-- > 0;) {
      layered.layer(i).backward(*dy, &gradients[i], context);
      dy = &gradients[i];
    }
    for (size_t p = 0; p < fused_parameters.size(); ++p) {
      EXPECT_TRUE(bit_identical(*fused_parameters[p].gradient, *layered_parameters[p].gradient))
          << "parameter " << p << ", input_gradients " << input_gradients;
    }
    if (!input_gradients) continue;
    for (size_t i = 0; i < layered.layer_count(); ++i) {
      Tensor<float> expected = gradients[i];
      expected.reshape(fused.input_gradient(i).shape());
      EXPECT_TRUE(bit_identical(fused.input_gradient(i), expected)) << "input gradient " << i;
    }
  }
}

// A float64 layer has no oneDNN engine and keeps im2col, whatever is selected.
TEST(Conv2dOneDnn, Float64UsesIm2col) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  Conv2d<double> conv(1, 2, /*kernel=*/2, /*stride=*/1, /*padding=*/0);
  conv.set_engine(ConvEngine::onednn);
  auto parameters = conv.parameters();
  for (int64_t i = 0; i < parameters[0].value->size(); ++i) (*parameters[0].value)[i] = 1.0;
  Tensor<double> x({1, 1, 2, 2});
  for (int64_t i = 0; i < 4; ++i) x[i] = 0.1 * static_cast<double>(i + 1);
  Tensor<double> y;
  conv.forward(x, y, context);
  ASSERT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_DOUBLE_EQ(y[0], 0.1 + 0.2 + 0.3 + 0.4);
  EXPECT_DOUBLE_EQ(y[1], 0.1 + 0.2 + 0.3 + 0.4);
}

}  // namespace
}  // namespace felis
