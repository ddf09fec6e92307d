// Prediction from several threads on one loaded model gives what one thread gives: the
// model runs one pass at a time.
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <thread>

namespace felis {
namespace {

TEST(ConcurrentPredict, FourThreadsMatchOne) {
  const Dataset data = fixtures::synthetic_dataset(200, 12, 1, 3, 4);
  Model model = build_model({.preset = "conv:4:3, relu, maxpool:2, flatten, dense:16, relu, dense:3",
                             .precision = Precision::float32, .init = Init::he},
                            {1, 12, 12}, data.class_names);
  train(model, data, nullptr, {.epochs = 1, .batch_size = 50, .learning_rate = 0.05});
  ThreadPool pool(1);
  const RowMatrix<double> expected = predict_probabilities(model, data, pool);

  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadPool own(1);
      for (int round = 0; round < 25; ++round) {
        mismatches[static_cast<size_t>(t)] += predict_probabilities(model, data, own) != expected;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[static_cast<size_t>(t)], 0) << "thread " << t;
}

}  // namespace
}  // namespace felis
