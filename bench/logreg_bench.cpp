// One full-batch iteration of the course's logistic regression on cat-sized data, in
// float64 (as the course computes) and float32, with 1 and 2 threads. It runs on the
// pixels, layer by layer, and on the Gram matrix of the images, the path `felis train`
// takes.
//
// Legend: N = 209 images of H x W x C = 64 x 64 x 3, D = 12,288 pixels per image.
// The data is synthetic: uniform random uint8 pixels and labels from a fixed seed, the
// shape of the course's training set. The model is the logreg preset (flatten, dense 1,
// sigmoid output) with zero weights, as `felis train --model logreg` builds it. An
// iteration is the forward pass, binary cross-entropy, the backward pass and a
// gradient-descent step at rate 0.005, computed in one of two ways.
//
// logreg_iteration works on the pixels, layer by layer through Network, the path of every
// model. As in the trainer's full-batch loop, x (N, D) is converted from uint8 once; then
//   z = X w^T + b, the loss and dz, dw = dz^T X, and the step.
// FLOP count per iteration, the figure behind its flops counter: 2 N D for the forward
// product and 2 N D for dw, 4 N D = 10,272,768 (the sigmoid, the loss and the step add
// O(N + D)). Its bytes_per_second counter counts X read twice, 2 N D values: 41 MB per
// iteration in float64, 21 MB in float32.
//
// logreg_gram_iteration works through SpanDescent, which the trainer picks for this model
// and data. With w = w0 + a X, it computes z = X w0^T + G a^T + b from G = X X^T (N, N),
// about 2 N^2 = 87,362 FLOP, so it has no flops counter. logreg_gram_setup times what
// that path costs once per run: G from the uint8 pixels, and X w0^T.
//
// Each run uses wall-clock time, because the layers spread their work over a ThreadPool.
#include "synthetic.h"

#include "felis/data/batch.h"
#include "felis/nn/model.h"
#include "felis/nn/optimizer.h"
#include "felis/train/span_descent.h"

#include <benchmark/benchmark.h>

#include <numeric>

namespace felis::bench {
namespace {

constexpr int64_t kImages = 209;
constexpr int64_t kSide = 64;
constexpr int64_t kChannels = 3;
constexpr int64_t kPixels = kSide * kSide * kChannels;
constexpr double kLearningRate = 0.005;

template <typename T>
void run_iterations(benchmark::State& state, Network<T>& network, const Dataset& data,
                    ThreadPool& pool) {
  const PassContext context{.pool = &pool, .training = true};
  std::vector<int64_t> all(static_cast<size_t>(data.count));
  std::iota(all.begin(), all.end(), 0);
  Tensor<T> x;
  std::vector<int32_t> labels;
  make_batch(data, all, x, labels);
  Tensor<T> dlogits;
  const auto parameters = network.parameters();
  auto optimizer = make_optimizer<T>({.kind = OptimizerKind::sgd, .learning_rate = kLearningRate});

  for (auto _ : state) {
    const Tensor<T>& logits = network.forward(x, context);
    const double cost = cross_entropy(network.output(), logits, labels, &dlogits);
    network.backward(dlogits, context);
    optimizer->step(parameters);
    benchmark::DoNotOptimize(cost);
  }
}

void logreg_iteration(benchmark::State& state, Precision precision) {
  const Dataset data = synthetic_images(kImages, kSide, kSide, kChannels, /*classes=*/2);
  Model model = build_model({.preset = "logreg", .precision = precision, .init = Init::zeros},
                            {kChannels, kSide, kSide}, data.class_names);
  ThreadPool pool(static_cast<int>(state.range(0)));
  model.visit([&](auto& network) { run_iterations(state, network, data, pool); });

  const int64_t value_size = precision == Precision::float64 ? 8 : 4;
  state.SetItemsProcessed(state.iterations() * kImages);
  state.SetBytesProcessed(state.iterations() * 2 * kImages * kPixels * value_size);
  state.counters["flops"] = flop_rate(4.0 * kImages * kPixels);
}

// The trainer's options for the logreg preset, which allow the Gram path.
TrainOptions course_options() {
  return {.iterations = 2000, .batch_size = 0, .learning_rate = kLearningRate};
}

// The first dense layer's index, which SpanDescent takes, or -1 after marking the
// benchmark as failed when the trainer would not take the Gram path.
template <typename T>
int gram_layer(benchmark::State& state, Network<T>& network, const Dataset& data) {
  const int layer = span_descent_layer(network, data, course_options());
  if (layer < 0) {
    state.SkipWithError(
        "span_descent_layer rejects logreg on this data, so the trainer would not take the "
        "Gram path; update this benchmark to what the trainer does now");
  }
  return layer;
}

template <typename T>
void run_gram_iterations(benchmark::State& state, Network<T>& network, const Dataset& data,
                         ThreadPool& pool) {
  const int layer = gram_layer(state, network, data);
  if (layer < 0) return;
  SpanDescent<T> span(network, layer, data, /*permutation=*/{}, pool);

  for (auto _ : state) {
    const double cost = span.forward_backward(data.labels);
    span.step(kLearningRate);
    benchmark::DoNotOptimize(cost);
  }
}

template <typename T>
void run_gram_setups(benchmark::State& state, Network<T>& network, const Dataset& data,
                     ThreadPool& pool) {
  const int layer = gram_layer(state, network, data);
  if (layer < 0) return;

  for (auto _ : state) {
    SpanDescent<T> span(network, layer, data, /*permutation=*/{}, pool);
    benchmark::DoNotOptimize(&span);
  }
}

void logreg_gram_iteration(benchmark::State& state, Precision precision) {
  const Dataset data = synthetic_images(kImages, kSide, kSide, kChannels, /*classes=*/2);
  Model model = build_model({.preset = "logreg", .precision = precision, .init = Init::zeros},
                            {kChannels, kSide, kSide}, data.class_names);
  ThreadPool pool(static_cast<int>(state.range(0)));
  model.visit([&](auto& network) { run_gram_iterations(state, network, data, pool); });
  state.SetItemsProcessed(state.iterations() * kImages);
}

void logreg_gram_setup(benchmark::State& state, Precision precision) {
  const Dataset data = synthetic_images(kImages, kSide, kSide, kChannels, /*classes=*/2);
  Model model = build_model({.preset = "logreg", .precision = precision, .init = Init::zeros},
                            {kChannels, kSide, kSide}, data.class_names);
  ThreadPool pool(static_cast<int>(state.range(0)));
  model.visit([&](auto& network) { run_gram_setups(state, network, data, pool); });
  state.SetItemsProcessed(state.iterations() * kImages);
}

BENCHMARK_CAPTURE(logreg_iteration, float64, Precision::float64)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(logreg_iteration, float32, Precision::float32)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_CAPTURE(logreg_gram_iteration, float64, Precision::float64)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(logreg_gram_iteration, float32, Precision::float32)->ArgName("threads")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(logreg_gram_setup, float64, Precision::float64)->ArgName("threads")->Arg(1)
    ->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace felis::bench
