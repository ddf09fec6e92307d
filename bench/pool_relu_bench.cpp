// Forward and backward passes of felis's ReLU and 2x2 max-pooling layers at the shapes of
// the Fashion-MNIST CNN, on a batch of 64 float32 images, with 1 and 2 threads.
//
// Legend: N = 64 samples, C channels, H x W pixels.
//   after conv1: (N, 32, 26, 26), pooled to (N, 32, 13, 13)
//   after conv2: (N, 64, 11, 11), pooled to (N, 64, 5, 5), which drops the last row and column
//
// Network runs the ReLU after each conv inside the conv's pass (conv_bench.cpp's `_relu`
// variants time that), so relu_* here times the standalone layer, as it runs after
// dense layers, at the conv outputs' shapes.
//
// These layers do no arithmetic to speak of, so the bytes_per_second counter reports
// memory traffic instead: the float32 tensors a pass must read and write at the least.
// That is x and y for a forward pass, and dy and dx for a backward pass. ReLU's backward
// also reads x, to find where it was positive. What a layer
// caches for itself, such as max pooling's argmax indices, is not counted.
//
// Each run uses wall-clock time, because the layers spread their work over a ThreadPool.
#include "synthetic.h"

#include "felis/nn/activation.h"
#include "felis/nn/pool2d.h"
#include "felis/tensor/thread_pool.h"

#include <benchmark/benchmark.h>

namespace felis::bench {
namespace {

constexpr int64_t kBatch = 64;

// One sample's (C, H, W).
const Shape kConv1Output{32, 26, 26};
const Shape kConv2Output{64, 11, 11};

Shape batch_of(const Shape& sample) {
  Shape shape{kBatch};
  shape.insert(shape.end(), sample.begin(), sample.end());
  return shape;
}

enum class Pass { forward, backward };

// Times `layer`'s forward pass, or its backward pass after one forward, on a standard
// normal x, and counts images and the bytes of the tensors each pass reads and writes.
void run_layer(benchmark::State& state, Layer<float>& layer, const Shape& sample, Pass pass,
               bool backward_reads_input) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const PassContext context{.pool = &pool, .training = true};
  std::mt19937_64 rng(kSeed);
  const Tensor<float> x = normal_tensor<float>(batch_of(sample), 1.0, rng);
  Tensor<float> y;
  layer.forward(x, y, context);
  const Tensor<float> dy = normal_tensor<float>(y.shape(), 1e-3, rng);
  Tensor<float> dx;

  for (auto _ : state) {
    if (pass == Pass::backward) {
      layer.backward(dy, &dx, context);
      benchmark::DoNotOptimize(dx.data());
    } else {
      layer.forward(x, y, context);
      benchmark::DoNotOptimize(y.data());
    }
    benchmark::ClobberMemory();
  }

  // Forward reads x and writes y. Backward reads dy, writes dx (as large as x), and may
  // read x.
  const int64_t forward_values = x.size() + y.size();
  const int64_t backward_values = dy.size() + x.size() + (backward_reads_input ? x.size() : 0);
  const int64_t values = pass == Pass::backward ? backward_values : forward_values;
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * values * static_cast<int64_t>(sizeof(float)));
}

void relu_forward(benchmark::State& state, Shape sample) {
  ReLU<float> layer;
  run_layer(state, layer, sample, Pass::forward, /*backward_reads_input=*/true);
}

void relu_backward(benchmark::State& state, Shape sample) {
  ReLU<float> layer;
  run_layer(state, layer, sample, Pass::backward, /*backward_reads_input=*/true);
}

void maxpool_forward(benchmark::State& state, Shape sample) {
  MaxPool2d<float> layer(/*kernel=*/2, /*stride=*/2);
  run_layer(state, layer, sample, Pass::forward, /*backward_reads_input=*/false);
}

void maxpool_backward(benchmark::State& state, Shape sample) {
  MaxPool2d<float> layer(/*kernel=*/2, /*stride=*/2);
  run_layer(state, layer, sample, Pass::backward, /*backward_reads_input=*/false);
}

BENCHMARK_CAPTURE(relu_forward, conv1_output, kConv1Output)->ArgName("threads")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(relu_backward, conv1_output, kConv1Output)->ArgName("threads")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(relu_forward, conv2_output, kConv2Output)->ArgName("threads")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(relu_backward, conv2_output, kConv2Output)->ArgName("threads")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(maxpool_forward, conv1_output, kConv1Output)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(maxpool_backward, conv1_output, kConv1Output)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(maxpool_forward, conv2_output, kConv2Output)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(maxpool_backward, conv2_output, kConv2Output)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace felis::bench
