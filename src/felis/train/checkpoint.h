// Checkpoints: a training run's model and TrainState in one file, DIR/checkpoint.h5.
//
// The file is a felis model file (docs/model-file.md) that felis evaluate and predict
// read as the model at the checkpoint's step, plus a group /checkpoint:
//   /checkpoint/state          uint8, the state as JSON text: step, learning_rate,
//                              optimizer_steps, first_cost, cost sums, train_seconds,
//                              costs, epochs, generators, optimizer (tensor names), run
//   /checkpoint/optimizer_<k>  float64, the optimizer tensor named optimizer[k]
// "run" is what the caller passes to describe the run (its options), for resuming.
#pragma once

#include "felis/nn/model.h"
#include "felis/train/trainer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

namespace felis {

// The file's name inside a checkpoint directory.
inline constexpr const char* kCheckpointFile = "checkpoint.h5";
// Upper bound on the state's JSON text, checked before it is read.
inline constexpr int64_t kMaxCheckpointStateBytes = int64_t{256} << 20;

struct Checkpoint {
  Model model;
  TrainState state;
  nlohmann::json run;
};

// An epoch line as JSON: {"epoch", "epochs", "loss", "train_accuracy", "test_accuracy"
// (null when not scored), "learning_rate", "images_per_second", "elapsed_seconds"}.
nlohmann::json epoch_json(const EpochRecord& epoch);

// The checkpoint file's bytes, built in memory. Throws felis::Error if HDF5 fails.
std::vector<char> checkpoint_file_bytes(Model& model, const TrainState& state,
                                        const nlohmann::json& run);
// Writes `bytes` as DIR/checkpoint.h5 atomically: a crash leaves the previous checkpoint
// whole. Throws felis::Error when the directory cannot be created or the file written.
void write_checkpoint(const std::vector<char>& bytes, const std::filesystem::path& directory);
// write_checkpoint(checkpoint_file_bytes(model, state, run), directory).
void save_checkpoint(Model& model, const TrainState& state, const nlohmann::json& run,
                     const std::filesystem::path& directory);

// Reads DIR/checkpoint.h5. Every size is checked against the model before anything is
// allocated: optimizer tensors may hold at most 2 values per parameter. Throws
// felis::Error naming the file and what is wrong; nothing is returned partly read.
Checkpoint load_checkpoint(const std::filesystem::path& directory);

}  // namespace felis
