// felis train: fit a model on a data set's training split and report its accuracy.
#include "commands.h"
#include "print.h"
#include "progress.h"
#include "train_checkpoint.h"
#include "train_options.h"

#include "felis/data/loaders.h"
#include "felis/data/pixel_permutation.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"
#include "felis/train/checkpoint.h"
#include "felis/train/defaults.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include <spdlog/fmt/fmt.h>

#include <cstdio>
#include <filesystem>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

namespace felis::cli {

int default_threads() {
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
}

namespace {

// The options of a finished run: the run's identity, with the model's name and what ran
// (iterations and epochs, whichever was given), the threads and the training path.
nlohmann::json options_json(const nlohmann::json& identity, const TrainOptions& options,
                            const TrainArguments& args, const std::string& model,
                            const TrainResult& result, int64_t train_count) {
  const int64_t batch = options.batch_size == 0 ? train_count
                                                : std::min(options.batch_size, train_count);
  const int64_t steps_per_epoch = (train_count + batch - 1) / batch;
  nlohmann::json value = identity;
  value.update({{"model", model},
                {"spec", args.model},
                {"iterations", result.iterations},
                {"epochs", static_cast<double>(result.iterations) / static_cast<double>(steps_per_epoch)},
                {"batch_size", options.batch_size == 0 ? nlohmann::json("full")
                                                       : nlohmann::json(options.batch_size)},
                {"threads", options.threads},
                {"gram", result.gram}});
  return value;
}

// One record per epoch, as epoch_json() writes it.
nlohmann::json epoch_curves(const std::vector<EpochRecord>& epochs) {
  nlohmann::json curves = nlohmann::json::array();
  for (const auto& epoch : epochs) curves.push_back(epoch_json(epoch));
  return curves;
}

// Returns 130, the shell's code for a Ctrl-C, when SIGINT stopped the run, else 0.
int run_train(const TrainArguments& args) {
  check_train_arguments(args);
  const Init init = init_from_string(args.init);

  // Data.
  const DataSplits data = load_data(args.data);
  const Dataset& train_set = data.train;
  const Dataset* test_set = data.test ? &*data.test : nullptr;
  const std::string preset =
      !args.model.empty() ? args.model : (train_set.class_count() == 2 ? "logreg" : "softmax");
  const TrainOptions options = resolve_train_options(args, preset, train_set.count);
  const std::string precision_name = args.precision.value_or(default_precision(preset));
  const Precision precision = precision_from_string(precision_name);
  check_precision_range(options, precision);

  // Model: built afresh, or read with the run's state from its checkpoint.
  const nlohmann::json identity = run_identity(args, options, preset, precision_name);
  std::optional<Checkpoint> checkpoint;
  if (args.resume) {
    checkpoint = load_checkpoint(*args.checkpoint);
    check_same_run(checkpoint->run, identity, *args.checkpoint);
    check_compatible(checkpoint->model, train_set);
    if (apply_new_learning_rate(checkpoint->run, options, checkpoint->state)) {
      fmt::print("resuming with learning rate {} instead of {}\n", options.learning_rate,
                 checkpoint->run.value("learning_rate", options.learning_rate));
    }
  } else if (args.checkpoint && std::filesystem::exists(std::filesystem::path(*args.checkpoint) /
                                                        kCheckpointFile)) {
    throw UsageError(fmt::format("{} already contains a checkpoint; add --resume to continue that "
                                 "run, or give another --checkpoint directory",
                                 *args.checkpoint));
  }
  const ModelOptions model_options{
      .preset = preset, .precision = precision, .init = init, .seed = options.seed};
  Model model = checkpoint ? std::move(checkpoint->model)
                           : build_model(model_options,
                                         {train_set.channels, train_set.height, train_set.width},
                                         train_set.class_names);
  if (args.permute_pixels && !checkpoint) {
    model.input_permutation = pixel_permutation(static_cast<uint64_t>(*args.permute_pixels),
                                                train_set.height * train_set.width);
  }
  const bool full_batch = options.batch_size == 0 || options.batch_size >= train_set.count;
  fmt::print("model {}: {} parameters, {}; train {} images {}x{}x{} (H x W x C), test {}; {}\n",
             model.name(), model.parameter_count(), to_string(model.precision()), train_set.count,
             train_set.height,
             train_set.width, train_set.channels, test_set ? std::to_string(test_set->count) : "none",
             full_batch ? fmt::format("full batch, {}", to_string(options.optimizer))
                        : fmt::format("batch {}, {}", options.batch_size,
                                      to_string(options.optimizer)));
  if (!options.augment.empty()) fmt::print("augmentation: {}\n", options.augment.spec());
  if (args.permute_pixels) {
    fmt::print("pixel positions permuted by the fixed permutation of seed {}\n", *args.permute_pixels);
  }
  std::fflush(stdout);

  // Training.
  const bool print_costs = full_batch || args.print_cost_every > 0;
  TrainCallbacks callbacks;
  ProgressBar progress;
  callbacks.on_cost = [&](const CostRecord& record) {
    if (!print_costs) return;
    progress.clear();
    fmt::print("cost after iteration {}: {:.6f}\n", record.iteration, record.cost);
    std::fflush(stdout);
  };
  callbacks.on_step = [&](const StepRecord& step) {
    if (!full_batch) progress.update(step);
  };
  callbacks.on_epoch = [&](const EpochRecord& e) {
    progress.clear();
    fmt::print("epoch {}/{} loss={:.4f} train_accuracy={:.2f}% test_accuracy={} "
               "learning_rate={:.4g} images_per_second={:.0f} elapsed_s={:.1f}\n",
               e.epoch, e.epochs, e.loss, 100 * e.train_accuracy.value_or(std::nan("")),
               e.test_accuracy ? fmt::format("{:.2f}%", 100 * *e.test_accuracy) : "n/a",
               e.learning_rate, e.images_per_second, e.elapsed_seconds);
    std::fflush(stdout);
  };
  std::vector<char> pending_checkpoint;
  if (args.checkpoint) {
    callbacks.checkpoint_every = args.checkpoint_every;
    // A checkpoint is written only once the next step shows its weights did not diverge.
    callbacks.on_checkpoint = [&](const TrainState& state) {
      pending_checkpoint = checkpoint_file_bytes(model, state, identity);
    };
    callbacks.commit_checkpoint = [&] { write_checkpoint(pending_checkpoint, *args.checkpoint); };
  }
  catch_interrupt();
  callbacks.should_stop = [] { return interrupted(); };
  if (checkpoint) fmt::print("resuming after iteration {}\n", checkpoint->state.step);
  const TrainResult result = train(model, train_set, test_set, options, callbacks,
                                   checkpoint ? &checkpoint->state : nullptr);
  if (result.interrupted) {
    progress.clear();
    std::fflush(stdout);
    if (args.checkpoint) {
      fmt::print(stderr, "felis: interrupted after iteration {}; checkpoint written to {}; run the "
                         "same command with --resume to continue\n",
                 result.iterations, (std::filesystem::path(*args.checkpoint) / kCheckpointFile).string());
    } else {
      fmt::print(stderr, "felis: interrupted after iteration {}; no model was written (give "
                         "--checkpoint DIR to keep a run's progress)\n",
                 result.iterations);
    }
    return 130;
  }

  // Evaluation and report.
  ThreadPool pool(options.threads);
  auto accuracy = [&](const Dataset& set) {
    const auto probabilities = predict_probabilities(model, set, pool);
    // Finite weights can still overflow the activations, as a huge last step leaves them.
    if (!probabilities.allFinite()) {
      throw DivergenceError(fmt::format(
          "the trained model gives NaN or infinite outputs on the {} images; no model was "
          "written; try a learning rate 100 times smaller, {}",
          &set == &train_set ? "training" : "test", options.learning_rate / 100));
    }
    return score(set.labels, predicted_classes(probabilities), set.class_count()).accuracy;
  };
  const double train_accuracy = accuracy(train_set);
  fmt::print("train accuracy: {}\n", percent(train_accuracy));
  nlohmann::json metrics = options_json(identity, options, args, model.name(), result, train_set.count);
  metrics["train_accuracy"] = train_accuracy;
  metrics["test_accuracy"] = nullptr;
  if (test_set != nullptr) {
    metrics["test_accuracy"] = accuracy(*test_set);
    fmt::print("test accuracy: {}\n", percent(metrics["test_accuracy"]));
  }
  fmt::print("training time: {:.2f} s for {} iteration{}{}, without data loading and "
             "per-epoch scoring\n",
             result.train_seconds, result.iterations, result.iterations == 1 ? "" : "s",
             result.gram ? fmt::format(" on the {0} x {0} Gram matrix of the training images",
                                       train_set.count)
                         : "");

  nlohmann::json costs = nlohmann::json::array();
  for (const auto& record : result.costs) {
    costs.push_back({{"iteration", record.iteration}, {"cost", record.cost}});
  }
  metrics["costs"] = costs;
  metrics["epoch_curves"] = epoch_curves(result.epochs);
  metrics["train_seconds"] = result.train_seconds;
  model.training = options_json(identity, options, args, model.name(), result, train_set.count);

  // Both files are written in full before either replaces anything.
  std::optional<AtomicFile> model_file;
  std::optional<AtomicFile> metrics_file;
  if (args.out) {
    model_file.emplace(*args.out);
    model_file->write(model_file_bytes(model));
  }
  if (args.metrics) {
    metrics_file.emplace(*args.metrics);
    metrics_file->write(json_bytes(metrics));
  }
  if (model_file) {
    model_file->commit();
    fmt::print("model written to {}\n", *args.out);
  }
  if (metrics_file) {
    metrics_file->commit();
    fmt::print("metrics written to {}\n", *args.metrics);
  }
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArguments>();
  CLI::App* sub = app.add_subcommand("train", "Train a model on a data set's training split");
  add_train_options(*sub, *args);
  return [args] { return run_train(*args); };
}

}  // namespace felis::cli
