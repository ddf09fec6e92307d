// Forward and backward passes of felis's Conv2d layer at the two convolutions of the
// Fashion-MNIST CNN, on a batch of 64 float32 images, with 1 and 2 threads.
//
// Legend: N = 64 samples, C input channels, H x W input pixels, F filters, k = 3 kernel
// side, no padding, stride 1, P = (H - 2) (W - 2) output pixels.
//   conv1: x (N, 1, 28, 28)  -> y (N, 32, 26, 26)
//   conv2: x (N, 32, 13, 13) -> y (N, 64, 11, 11), after ReLU and a 2x2 max pool
//
// The `_relu` variants run forward_relu() and backward_relu(), the conv with the ReLU
// that follows it fused into the same pass. Their backward takes the gradient at the
// ReLU's output. The `_relu_pool` variants run forward_relu_pool() and
// backward_relu_pool(), which add the 2x2 max pool, as Network runs the CNN's two
// conv + ReLU + pool groups in float32. Their backward takes the gradient at the pool's
// output.
//
// FLOP count per batch, the figure behind the flops counter: 2 N F (C k k) P for the
// forward product W cols, as much again for dW = dY cols^T, and as much again for
// dcols = W^T dY when the pass computes dx. im2col, col2im, the bias and its gradient are
// memory moves and additions outside that count. conv1's backward computes no dx, as in
// the network, where it is the first layer; conv2's does.
//
// Each run uses wall-clock time, because the layer spreads its work over a ThreadPool
// whose worker threads a CPU timer of the main thread would miss.
#include "synthetic.h"

#include "felis/nn/conv2d.h"
#include "felis/tensor/thread_pool.h"

#include <benchmark/benchmark.h>

#include <cmath>

namespace felis::bench {
namespace {

constexpr int64_t kBatch = 64;
constexpr int64_t kKernel = 3;

struct ConvCase {
  int64_t channels;  // C
  int64_t filters;   // F
  int64_t side;      // H = W
  bool input_gradient;  // whether backward computes dx
};

const ConvCase kConv1{.channels = 1, .filters = 32, .side = 28, .input_gradient = false};
const ConvCase kConv2{.channels = 32, .filters = 64, .side = 13, .input_gradient = true};

// A layer with He-initialised weights, its input x (N, C, H, W) and its output y.
struct ConvSetup {
  Conv2d<float> layer;
  Tensor<float> x;
  Tensor<float> y;

  explicit ConvSetup(const ConvCase& shape)
      : layer(shape.channels, shape.filters, kKernel, /*stride=*/1, /*padding=*/0) {
    std::mt19937_64 rng(kSeed);
    Tensor<float>& weights = *layer.parameters()[0].value;
    const double fan_in = static_cast<double>(shape.channels * kKernel * kKernel);
    weights = normal_tensor<float>(weights.shape(), std::sqrt(2.0 / fan_in), rng);
    x = normal_tensor<float>({kBatch, shape.channels, shape.side, shape.side}, 1.0, rng);
  }
};

// Returns 2 N F (C k k) P, the floating-point operations of one product over the batch.
double product_flops(const ConvCase& shape) {
  const int64_t out_side = shape.side - kKernel + 1;
  return gemm_flops(shape.filters, out_side * out_side, shape.channels * kKernel * kKernel) *
         kBatch;
}

// Whether a pass runs the conv alone, fused with the ReLU after it, or fused with the
// ReLU and the 2x2 max pool after that.
enum class Activation { none, relu, relu_pool };

// Runs the forward pass that `activation` selects. Returns false when the layer cannot
// fuse the pool, which only the oneDNN engine does.
bool run_forward(ConvSetup& setup, Activation activation, const PassContext& context) {
  switch (activation) {
    case Activation::none:
      setup.layer.forward(setup.x, setup.y, context);
      return true;
    case Activation::relu:
      setup.layer.forward_relu(setup.x, setup.y, context);
      return true;
    case Activation::relu_pool:
      return setup.layer.forward_relu_pool(setup.x, setup.y, context);
  }
  return false;
}

constexpr const char* kNotFused = "Conv2d::forward_relu_pool cannot run on this layer";

void conv_forward(benchmark::State& state, ConvCase shape, Activation activation) {
  ConvSetup setup(shape);
  ThreadPool pool(static_cast<int>(state.range(0)));
  const PassContext context{.pool = &pool, .training = true};

  if (!run_forward(setup, activation, context)) {
    state.SkipWithError(kNotFused);
    return;
  }
  for (auto _ : state) {
    run_forward(setup, activation, context);
    benchmark::DoNotOptimize(setup.y.data());
  }

  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["flops"] = flop_rate(product_flops(shape));
}

void conv_backward(benchmark::State& state, ConvCase shape, Activation activation) {
  ConvSetup setup(shape);
  ThreadPool pool(static_cast<int>(state.range(0)));
  const PassContext context{.pool = &pool, .training = true};
  if (!run_forward(setup, activation, context)) {
    state.SkipWithError(kNotFused);
    return;
  }
  std::mt19937_64 rng(kSeed + 1);
  const Tensor<float> dy = normal_tensor<float>(setup.y.shape(), 1e-3, rng);
  Tensor<float> dx;
  Tensor<float>* dx_or_null = shape.input_gradient ? &dx : nullptr;

  for (auto _ : state) {
    switch (activation) {
      case Activation::none:
        setup.layer.backward(dy, dx_or_null, context);
        break;
      case Activation::relu:
        setup.layer.backward_relu(dy, dx_or_null, context);
        break;
      case Activation::relu_pool:
        setup.layer.backward_relu_pool(dy, dx_or_null, context);
        break;
    }
    benchmark::ClobberMemory();
  }

  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["flops"] = flop_rate(product_flops(shape) * (shape.input_gradient ? 2 : 1));
}

BENCHMARK_CAPTURE(conv_forward, conv1, kConv1, Activation::none)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv1, kConv1, Activation::none)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_forward, conv1_relu, kConv1, Activation::relu)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv1_relu, kConv1, Activation::relu)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_forward, conv1_relu_pool, kConv1, Activation::relu_pool)
    ->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv1_relu_pool, kConv1, Activation::relu_pool)
    ->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_forward, conv2, kConv2, Activation::none)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv2, kConv2, Activation::none)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_forward, conv2_relu, kConv2, Activation::relu)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv2_relu, kConv2, Activation::relu)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_CAPTURE(conv_forward, conv2_relu_pool, kConv2, Activation::relu_pool)
    ->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(conv_backward, conv2_relu_pool, kConv2, Activation::relu_pool)
    ->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace felis::bench
