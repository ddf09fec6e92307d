// Checkpoints: a run stopped and resumed from its checkpoint file ends with the weights of
// a run that went through, bit for bit. Files that are not checkpoints are rejected.
#include "felis/io/model_file.h"
#include "felis/train/checkpoint.h"
#include "felis/train/trainer.h"

#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>

namespace felis {
namespace {

namespace fs = std::filesystem;

struct TempDirectory {
  fs::path path = fs::temp_directory_path() / ("felis-checkpoint-" + std::to_string(getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDirectory() { fs::create_directories(path); }
  ~TempDirectory() { fs::remove_all(path); }
};

// Adam through a convolution, batch normalization and dropout, so that the checkpoint
// must carry moments, running statistics and a generator.
Model small_model(const Dataset& data) {
  return build_model({.preset = "conv:4:3:p=1, batchnorm, relu, maxpool:2, flatten, dropout:0.3, "
                                "dense:3",
                      .precision = Precision::float32, .init = Init::he, .seed = 7},
                     {3, 8, 8}, data.class_names);
}

TrainOptions adam_options(int64_t epochs) {
  return {.epochs = epochs, .batch_size = 20, .learning_rate = 0.01, .learning_rate_decay = 0.9,
          .optimizer = OptimizerKind::adam, .seed = 3, .threads = 2};
}

std::vector<float> parameter_values(Model& model) {
  std::vector<float> values;
  model.visit([&](auto& network) {
    for (size_t i = 0; i < network.layer_count(); ++i) {
      for (auto& parameter : network.layer(i).parameters()) {
        for (int64_t k = 0; k < parameter.value->size(); ++k) {
          values.push_back(static_cast<float>((*parameter.value)[k]));
        }
      }
      for (auto& buffer : network.layer(i).buffers()) {
        for (int64_t k = 0; k < buffer.value->size(); ++k) {
          values.push_back(static_cast<float>((*buffer.value)[k]));
        }
      }
    }
  });
  return values;
}

TEST(Checkpoint, StopAndResumeMatchesOneRun) {
  const Dataset data = fixtures::synthetic_dataset(90, 8, 3, 3, 5);
  Model straight = small_model(data);
  const TrainResult whole = train(straight, data, nullptr, adam_options(4));

  // Stop after the first step of epoch 2, mid-epoch, with a checkpoint written there.
  TempDirectory directory;
  Model first = small_model(data);
  TrainCallbacks callbacks;
  callbacks.checkpoint_every = 100;
  callbacks.on_checkpoint = [&](const TrainState& state) {
    save_checkpoint(first, state, {{"run", "test"}}, directory.path);
  };
  int64_t steps = 0;
  callbacks.should_stop = [&] { return ++steps == 6; };
  const TrainResult stopped = train(first, data, nullptr, adam_options(4), callbacks);
  ASSERT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.iterations, 6);

  Checkpoint checkpoint = load_checkpoint(directory.path);
  EXPECT_EQ(checkpoint.state.step, 6);
  EXPECT_EQ(checkpoint.run, (nlohmann::json{{"run", "test"}}));
  EXPECT_EQ(checkpoint.state.optimizer_steps, 6);
  const TrainResult resumed =
      train(checkpoint.model, data, nullptr, adam_options(4), {}, &checkpoint.state);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.iterations, whole.iterations);
  EXPECT_EQ(parameter_values(checkpoint.model), parameter_values(straight));
  ASSERT_EQ(resumed.epochs.size(), whole.epochs.size());
  for (size_t e = 0; e < whole.epochs.size(); ++e) {
    EXPECT_EQ(resumed.epochs[e].loss, whole.epochs[e].loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.epochs[e].learning_rate, whole.epochs[e].learning_rate) << "epoch " << e + 1;
  }
}

TEST(Checkpoint, EpochCheckpointsOfFullBatchRun) {
  // Full-batch logistic regression with checkpoints stays on the pixels; a checkpoint
  // every 5 iterations, resumed from the one at iteration 10, gives the 20-iteration run.
  const Dataset data = fixtures::synthetic_dataset(40, 6, 1, 2, 9);
  const TrainOptions options{.iterations = 20, .learning_rate = 0.05, .cost_every = 1};
  Model straight = build_model({.preset = "logreg"}, {1, 6, 6}, data.class_names);
  const TrainResult whole = train(straight, data, nullptr, options);

  TempDirectory directory;
  Model first = build_model({.preset = "logreg"}, {1, 6, 6}, data.class_names);
  TrainCallbacks callbacks;
  callbacks.checkpoint_every = 5;
  std::vector<int64_t> saved_steps;
  callbacks.on_checkpoint = [&](const TrainState& state) {
    saved_steps.push_back(state.step);
    if (state.step == 10) save_checkpoint(first, state, nullptr, directory.path);
  };
  const TrainResult through = train(first, data, nullptr, options, callbacks);
  EXPECT_FALSE(through.gram);
  EXPECT_EQ(saved_steps, (std::vector<int64_t>{5, 10, 15, 20}));

  Checkpoint checkpoint = load_checkpoint(directory.path);
  const TrainResult resumed = train(checkpoint.model, data, nullptr, options, {}, &checkpoint.state);
  EXPECT_EQ(parameter_values(checkpoint.model), parameter_values(straight));
  ASSERT_EQ(resumed.costs.size(), whole.costs.size());
  EXPECT_EQ(resumed.costs.back().cost, whole.costs.back().cost);
}

TEST(Checkpoint, MissingCheckpointIsAnError) {
  TempDirectory directory;
  try {
    load_checkpoint(directory.path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint there"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, PlainModelFileIsNotACheckpoint) {
  const Dataset data = fixtures::synthetic_dataset(10, 4, 1, 2, 1);
  Model model = build_model({.preset = "logreg"}, {1, 4, 4}, data.class_names);
  TempDirectory directory;
  save_model(model, directory.path / kCheckpointFile);
  EXPECT_THROW(load_checkpoint(directory.path), Error);
}

TEST(Checkpoint, OptimizerOfAnotherShapeIsRejected) {
  const Dataset data = fixtures::synthetic_dataset(40, 8, 3, 3, 2);
  TempDirectory directory;
  Model model = small_model(data);
  TrainCallbacks callbacks;
  callbacks.on_checkpoint = [&](const TrainState& state) {
    save_checkpoint(model, state, nullptr, directory.path);
  };
  train(model, data, nullptr, adam_options(1), callbacks);
  Checkpoint checkpoint = load_checkpoint(directory.path);
  // The same weights under momentum: Adam's two moments do not fit one velocity.
  TrainOptions momentum = adam_options(2);
  momentum.optimizer = OptimizerKind::momentum;
  const auto before = parameter_values(checkpoint.model);
  EXPECT_THROW(train(checkpoint.model, data, nullptr, momentum, {}, &checkpoint.state), Error);
  EXPECT_EQ(parameter_values(checkpoint.model), before);
}

TEST(Divergence, CostGrowthStopsTheRun) {
  // A learning rate of 1e4 on logistic regression overshoots: with labels that no line
  // separates, the cost jumps far past 100 times its first value before it can become
  // infinite.
  Dataset data = fixtures::synthetic_dataset(40, 6, 1, 2, 9);
  for (int64_t i = 0; i < data.count; ++i) data.labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % 2);
  Model model = build_model({.preset = "logreg"}, {1, 6, 6}, data.class_names);
  try {
    train(model, data, nullptr, {.iterations = 50, .learning_rate = 1e4, .allow_gram = false});
    FAIL() << "expected a DivergenceError";
  } catch (const DivergenceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("past 100 times its first value"), std::string::npos) << message;
    EXPECT_NE(message.find("learning rate 10000"), std::string::npos) << message;
    EXPECT_NE(message.find("try a learning rate 10 times smaller, 1000"), std::string::npos) << message;
  }
}

// Every capture is committed in a sound run. In a diverging one, the capture made after the
// step that blew the cost up is never committed, so the file on disk stays the last good one.
TEST(Divergence, CheckpointOfTheDivergingStepIsNeverCommitted) {
  Dataset data = fixtures::synthetic_dataset(40, 6, 1, 2, 9);
  for (int64_t i = 0; i < data.count; ++i) data.labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % 2);
  for (double rate : {0.01, 100.0}) {
    SCOPED_TRACE(rate);
    Model model = build_model({.preset = "logreg"}, {1, 6, 6}, data.class_names);
    std::vector<int64_t> captured;
    std::vector<int64_t> committed;
    TrainCallbacks callbacks;
    callbacks.on_checkpoint = [&](const TrainState& state) { captured.push_back(state.step); };
    callbacks.commit_checkpoint = [&] { committed.push_back(captured.back()); };
    const TrainOptions options{.iterations = 50, .learning_rate = rate, .allow_gram = false};
    if (rate < 1) {
      train(model, data, nullptr, options, callbacks);
      EXPECT_EQ(committed, captured);
      EXPECT_EQ(captured.size(), 50u);
    } else {
      EXPECT_THROW(train(model, data, nullptr, options, callbacks), DivergenceError);
      ASSERT_GE(captured.size(), 2u);
      EXPECT_EQ(committed, std::vector<int64_t>(captured.begin(), captured.end() - 1));
    }
  }
}

// A checkpoint after every epoch once added the time so far again each time, so a run of
// 1 s reported several.
TEST(Checkpoint, TrainingTimeCountsOnce) {
  const Dataset data = fixtures::synthetic_dataset(200, 8, 3, 3, 5);
  Model model = small_model(data);
  TrainCallbacks callbacks;
  callbacks.on_checkpoint = [](const TrainState&) {};
  const auto start = std::chrono::steady_clock::now();
  const TrainResult result = train(model, data, nullptr, adam_options(8), callbacks);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(result.train_seconds, wall);
  ASSERT_EQ(result.epochs.size(), 8u);
  EXPECT_LE(result.epochs.back().elapsed_seconds, wall);
}

}  // namespace
}  // namespace felis
