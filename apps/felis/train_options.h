// The options of felis train: what the command line gives, and the defaults each preset
// adds where it gives nothing.
#pragma once

#include "felis/train/trainer.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace felis::cli {

struct TrainArguments {
  std::string data;
  std::string model;  // a preset or a spec; empty: logreg for 2 classes, softmax otherwise
  std::optional<int64_t> iterations;
  std::optional<int64_t> epochs;
  std::string batch_size;  // a number, or "full"
  std::optional<double> learning_rate;
  std::optional<double> learning_rate_decay;
  int64_t decay_every = 1;
  std::optional<std::string> optimizer;
  double momentum = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double clip_norm = 0.0;
  double l2 = 0.0;
  int64_t seed = 1;
  std::string init = "auto";
  std::optional<std::string> precision;
  int threads = 1;
  int64_t print_cost_every = -1;  // -1: every 100 in full-batch runs, none in SGD runs
  std::string augment = "none";               // an augmentation spec
  std::optional<int64_t> permute_pixels;      // seed of a fixed pixel shuffle
  std::optional<std::string> out;
  std::optional<std::string> metrics;
  bool no_gram = false;  // full-batch runs on the pixels even where the Gram path applies
  std::optional<std::string> checkpoint;  // directory of the run's checkpoint
  int64_t checkpoint_every = 1;           // epochs between checkpoints
  bool resume = false;                    // continue from the checkpoint in `checkpoint`
};

// Registers every option of felis train on `sub`, writing into `args`.
void add_train_options(CLI::App& sub, TrainArguments& args);

// Checks what can be checked before any data is read. Throws felis::UsageError.
void check_train_arguments(const TrainArguments& args);

// Throws felis::UsageError when the learning rate overflows `precision` or epsilon
// rounds to zero in it, which would turn the first step into NaN.
void check_precision_range(const TrainOptions& options, Precision precision);

// The trainer's options: the preset's defaults for a training set of `train_count`
// images, overridden by what `args` gives.
TrainOptions resolve_train_options(const TrainArguments& args, const std::string& preset,
                                   int64_t train_count);

}  // namespace felis::cli
