// The Fashion-MNIST CNN's training step and inference at batch 64, with 1 and 2 threads,
// through the public API that felis's trainer and evaluator use.
//
// Legend: N = 64 images of C x H x W = 1 x 28 x 28, K = 10 classes.
// The model is built from the spec string below, as `felis train --model SPEC` builds it,
// in float32 with the default initialisation (He). A training step is the trainer's
// mini-batch step: make_batch converts N uint8 images to float32, then forward,
// softmax cross-entropy, backward and one Adam step (rate 0.001, the CNN presets' rate).
// The trainer's L2 penalty and gradient clipping, off by default, are left out. Inference
// is the evaluator's batch: make_batch, forward in inference mode, class probabilities.
// Steps cycle through 16 different batches of synthetic images.
//
// FLOP count per image, the figure behind the flops counter (products only; 2 per
// multiply-add): the forward products are
//   conv1 2 * 32 * 9 * 676 = 389,376       conv2 2 * 64 * 288 * 121 = 4,460,544
//   dense1 2 * 128 * 1600 = 409,600        dense2 2 * 10 * 128 = 2,560
// which sum to 5,262,080 for inference. Training adds dW for every layer and dx for every
// layer but conv1, whose input needs no gradient: 3 * 5,262,080 - 389,376 = 15,396,864.
//
// Each run uses wall-clock time, because the layers spread their work over a ThreadPool.
#include "synthetic.h"

#include "felis/data/batch.h"
#include "felis/nn/model.h"
#include "felis/nn/optimizer.h"

#include <benchmark/benchmark.h>

#include <numeric>

namespace felis::bench {
namespace {

constexpr const char* kCnnSpec =
    "conv:32:3, relu, maxpool:2, conv:64:3, relu, maxpool:2, flatten, dense:128, relu, "
    "dense:10";
constexpr int64_t kBatch = 64;
constexpr int64_t kBatches = 16;
constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;
constexpr double kInferenceFlopsPerImage = 5'262'080;
constexpr double kTrainingFlopsPerImage = 15'396'864;

Model cnn_model() {
  return build_model({.preset = kCnnSpec, .precision = Precision::float32,
                      .init = Init::automatic, .seed = 1},
                     {1, kSide, kSide}, numbered_classes(kClasses));
}

// Sets `indices` to the images of batch number `step` modulo kBatches, in order.
void batch_indices(int64_t step, std::vector<int64_t>& indices) {
  indices.resize(kBatch);
  std::iota(indices.begin(), indices.end(), (step % kBatches) * kBatch);
}

template <typename T>
void run_training_steps(benchmark::State& state, Network<T>& network, const Dataset& data,
                        ThreadPool& pool) {
  const PassContext context{.pool = &pool, .training = true};
  const auto parameters = network.parameters();
  auto optimizer = make_optimizer<T>({.kind = OptimizerKind::adam, .learning_rate = 0.001});
  std::vector<int64_t> indices;
  Tensor<T> x;
  Tensor<T> dlogits;
  std::vector<int32_t> labels;

  int64_t step = 0;
  for (auto _ : state) {
    batch_indices(step++, indices);
    make_batch(data, indices, x, labels);
    const Tensor<T>& logits = network.forward(x, context);
    const double cost = cross_entropy(network.output(), logits, labels, &dlogits);
    network.backward(dlogits, context);
    optimizer->step(parameters);
    benchmark::DoNotOptimize(cost);
  }
}

template <typename T>
void run_inference(benchmark::State& state, Network<T>& network, const Dataset& data,
                   ThreadPool& pool) {
  const PassContext context{.pool = &pool, .training = false};
  std::vector<int64_t> indices;
  Tensor<T> x;
  std::vector<int32_t> labels;

  int64_t step = 0;
  for (auto _ : state) {
    batch_indices(step++, indices);
    make_batch(data, indices, x, labels);
    const Tensor<T>& logits = network.forward(x, context);
    const RowMatrix<double> probabilities = class_probabilities(network.output(), logits);
    benchmark::DoNotOptimize(probabilities.data());
  }
}

void cnn_train_step(benchmark::State& state) {
  const Dataset data = synthetic_images(kBatch * kBatches, kSide, kSide, 1, kClasses);
  Model model = cnn_model();
  ThreadPool pool(static_cast<int>(state.range(0)));
  model.visit([&](auto& network) { run_training_steps(state, network, data, pool); });
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["flops"] = flop_rate(kTrainingFlopsPerImage * kBatch);
}

void cnn_inference(benchmark::State& state) {
  const Dataset data = synthetic_images(kBatch * kBatches, kSide, kSide, 1, kClasses);
  Model model = cnn_model();
  ThreadPool pool(static_cast<int>(state.range(0)));
  model.visit([&](auto& network) { run_inference(state, network, data, pool); });
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["flops"] = flop_rate(kInferenceFlopsPerImage * kBatch);
}

BENCHMARK(cnn_train_step)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(cnn_inference)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace felis::bench
