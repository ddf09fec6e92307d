#include "train_options.h"

#include "commands.h"
#include "paths.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/train/checkpoint.h"
#include "felis/train/defaults.h"

#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <filesystem>

namespace felis::cli {

namespace {

int64_t parse_batch_size(const std::string& text) {
  if (text == "full") return 0;
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value >= 1) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("--batch-size {} is invalid; give a positive number or 'full'", text));
}

}  // namespace

void check_train_arguments(const TrainArguments& args) {
  if (args.learning_rate && !(*args.learning_rate > 0 && std::isfinite(*args.learning_rate))) {
    throw UsageError(fmt::format("--learning-rate {} is not a positive finite number; try 0.005",
                                 *args.learning_rate));
  }
  if (args.out) {
    check_output_path(*args.out, "--out");
    check_not_input(*args.out, "--out", args.data);
  }
  if (args.metrics) {
    check_output_path(*args.metrics, "--metrics");
    check_not_input(*args.metrics, "--metrics", args.data);
  }
  if (args.out && args.metrics) check_distinct_outputs(*args.out, "--out", *args.metrics, "--metrics");
  if (args.seed < 0 || args.seed > UINT32_MAX) {
    throw UsageError(fmt::format("--seed {} is outside 0 to 4294967295 (numpy's range)",
                                 args.seed));
  }
  if (args.print_cost_every < -1) {
    throw UsageError(fmt::format("--print-cost-every {} is negative; use 0 for none",
                                 args.print_cost_every));
  }
  if (args.permute_pixels && (*args.permute_pixels < 0 || *args.permute_pixels > UINT32_MAX)) {
    throw UsageError(fmt::format("--permute-pixels {} is outside 0 to 4294967295",
                                 *args.permute_pixels));
  }
  if (args.checkpoint_every < 1) {
    throw UsageError(fmt::format("--checkpoint-every {} must be at least 1 epoch",
                                 args.checkpoint_every));
  }
  if (args.resume && !args.checkpoint) {
    throw UsageError("--resume needs --checkpoint DIR, the directory of the run to continue");
  }
  if (args.checkpoint && args.checkpoint->empty()) {
    throw UsageError("--checkpoint is empty; give a directory");
  }
  if (args.checkpoint) {
    // Written at the end of the run, either file would replace the checkpoint.
    const auto checkpoint_file =
        std::filesystem::weakly_canonical(std::filesystem::path(*args.checkpoint) / kCheckpointFile);
    for (const auto& [option, path] : {std::pair{"--out", args.out}, std::pair{"--metrics", args.metrics}}) {
      if (path && std::filesystem::weakly_canonical(*path) == checkpoint_file) {
        throw UsageError(fmt::format("{} {} is the checkpoint file of --checkpoint {}; give "
                                     "another path",
                                     option, *path, *args.checkpoint));
      }
    }
  }
  Pipeline::parse(args.augment);
  if (args.optimizer) optimizer_kind_from_string(*args.optimizer);
  if (args.precision) precision_from_string(*args.precision);
  init_from_string(args.init);
  validate_thread_count(args.threads);
}

void check_precision_range(const TrainOptions& options, Precision precision) {
  if (precision != Precision::float32) return;
  if (!std::isfinite(static_cast<float>(options.learning_rate))) {
    throw UsageError(fmt::format("--learning-rate {} overflows float32; give a rate below 3.4e38, "
                                 "or --precision float64",
                                 options.learning_rate));
  }
  if (static_cast<float>(options.epsilon) == 0.0f) {
    throw UsageError(fmt::format("--epsilon {} is 0 in float32; give 1e-38 or more, or "
                                 "--precision float64",
                                 options.epsilon));
  }
}

TrainOptions resolve_train_options(const TrainArguments& args, const std::string& preset,
                                   int64_t train_count) {
  // A length the user gives keeps the preset's decay per epoch.
  TrainOptions options = args.iterations || args.epochs ? default_train_options(preset, 0)
                                                         : default_train_options(preset, train_count);
  if (args.iterations || args.epochs) {
    options.iterations = args.iterations.value_or(0);
    options.epochs = args.epochs.value_or(0);
    if (options.iterations + options.epochs < 1) {
      throw UsageError("--iterations and --epochs must be positive");
    }
  }
  if (!args.batch_size.empty()) options.batch_size = parse_batch_size(args.batch_size);
  if (args.learning_rate) options.learning_rate = *args.learning_rate;
  if (args.learning_rate_decay) options.learning_rate_decay = *args.learning_rate_decay;
  if (args.optimizer) options.optimizer = optimizer_kind_from_string(*args.optimizer);
  options.decay_every = args.decay_every;
  options.momentum = args.momentum;
  options.beta2 = args.beta2;
  options.epsilon = args.epsilon;
  options.clip_norm = args.clip_norm;
  options.l2 = args.l2;
  options.seed = static_cast<uint64_t>(args.seed);
  options.threads = args.threads;
  options.allow_gram = !args.no_gram;
  options.cost_every = args.print_cost_every >= 0 ? args.print_cost_every : 100;
  options.augment = Pipeline::parse(args.augment);
  validate(options);
  return options;
}

void add_train_options(CLI::App& sub, TrainArguments& args) {
  args.threads = default_threads();
  sub.add_option("--data", args.data,
                 "Data set: a directory or file of HDF5 (course layout) or IDX files")
      ->required();
  sub.add_option("--model", args.model,
                 "A preset (logreg, softmax, course-2layer, course-4layer, mlp, hier3, hier4, "
                 "cnn) or a spec such as 'conv:16:3, relu, maxpool:2, flatten, dense:1' "
                 "(docs/models.md); default: logreg for 2 classes, softmax for more");
  auto* iterations = sub.add_option("--iterations", args.iterations,
                                    "Gradient steps (default: 2000 for logreg, 2500 for the "
                                    "course networks)");
  auto* epochs = sub.add_option("--epochs", args.epochs,
                                "Passes over the training set (default: 15 for softmax, 5 for "
                                "mlp, hier3, hier4, cnn and specs)");
  iterations->excludes(epochs);
  sub.add_option("--batch-size", args.batch_size,
                 "Images per step, or 'full' for the whole training set (default: full for "
                 "logreg and the course networks, 128 for softmax, 64 otherwise)");
  sub.add_option("--optimizer", args.optimizer,
                 "sgd, momentum, rmsprop or adam (default: sgd for logreg, softmax and the "
                 "course networks, adam otherwise)");
  sub.add_option("--learning-rate", args.learning_rate,
                 "Step size (default: 0.005 logreg, 0.0075 course networks, 0.5 softmax, "
                 "0.001 otherwise)");
  sub.add_option("--lr-decay", args.learning_rate_decay,
                 "Multiply the learning rate by this every --lr-decay-every epochs, in (0, 1] "
                 "(default: 0.75 for softmax, 1 for logreg and the course networks, 0.6 "
                 "otherwise)");
  sub.add_option("--lr-decay-every", args.decay_every,
                 "Epochs between decays: 1 is exponential decay, more is step decay")
      ->capture_default_str();
  sub.add_option("--momentum", args.momentum, "Momentum's beta and Adam's beta1")
      ->capture_default_str();
  sub.add_option("--beta2", args.beta2, "RMSprop's and Adam's decay of squared gradients")
      ->capture_default_str();
  sub.add_option("--epsilon", args.epsilon, "RMSprop's and Adam's epsilon")->capture_default_str();
  sub.add_option("--clip-norm", args.clip_norm,
                 "Clip the global gradient norm to this; 0 never clips")
      ->capture_default_str();
  sub.add_option("--l2", args.l2, "L2 penalty lambda; the cost adds lambda / (2 m) * sum W^2")
      ->capture_default_str();
  sub.add_option("--seed", args.seed,
                 "Seed of the initial weights (numpy's generator, as np.random.seed) and the "
                 "shuffle")
      ->capture_default_str();
  sub.add_option("--init", args.init,
                 "Initial weights: auto (zeros for logreg and softmax, he otherwise), zeros, "
                 "course (the course notebooks' draws), he or glorot")
      ->capture_default_str();
  sub.add_option("--precision", args.precision,
                 "float64 (or double) or float32 (or float); default: float64 for logreg "
                 "and softmax, float32 otherwise");
  sub.add_option("--threads", args.threads,
                 "Threads to train on, 1 to 256 (default: all hardware threads); the model "
                 "does not depend on it");
  sub.add_option("--print-cost-every", args.print_cost_every,
                 "Print and record the cost every N iterations, 0 for none (default: 100; "
                 "SGD runs print one line per epoch instead unless this is set)");
  sub.add_option("--augment", args.augment,
                 "Augment every training batch afresh by this spec, e.g. 'shift:4, rotate:15:p=0.5, "
                 "tint:0.2' (docs/augment.md; default: none)");
  sub.add_option("--permute-pixels", args.permute_pixels,
                 "Shuffle pixel positions by the fixed permutation of this seed, in training and "
                 "in every later prediction with the model: the control for models that treat "
                 "pixels independently");
  sub.add_flag("--no-gram", args.no_gram,
               "Train full-batch dense models on the pixels even when there are far fewer "
               "images than pixels; by default such runs use the Gram matrix of the "
               "training images, which gives the same weights up to rounding, faster");
  sub.add_option("--out", args.out, "Write the trained model to this HDF5 file");
  sub.add_option("--metrics", args.metrics,
                 "Write accuracies, costs, per-epoch curves and options as JSON");
  sub.add_option("--checkpoint", args.checkpoint,
                 "Save the run's model and optimizer state to DIR/checkpoint.h5 every "
                 "--checkpoint-every epochs, at the end and on Ctrl-C (full-batch runs count "
                 "each iteration as an epoch)");
  sub.add_option("--checkpoint-every", args.checkpoint_every, "Epochs between checkpoints")
      ->capture_default_str();
  sub.add_flag("--resume", args.resume,
               "Continue the run saved in --checkpoint DIR, with the same options; the model "
               "ends bit-identical to an uninterrupted run's");
}

}  // namespace felis::cli
