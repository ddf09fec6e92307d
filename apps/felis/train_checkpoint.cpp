#include "train_checkpoint.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <csignal>
#include <filesystem>

namespace felis::cli {

namespace {

volatile std::sig_atomic_t interrupt_requested = 0;

void on_interrupt(int) { interrupt_requested = 1; }

}  // namespace

nlohmann::json run_identity(const TrainArguments& args, const TrainOptions& options,
                            const std::string& preset, const std::string& precision) {
  std::error_code ignored;
  return {{"data", std::filesystem::weakly_canonical(args.data, ignored).string()},
          {"model", preset},
          {"precision", precision},
          {"init", args.init},
          {"seed", options.seed},
          {"batch_size", options.batch_size},
          {"optimizer", to_string(options.optimizer)},
          {"learning_rate", options.learning_rate},
          {"learning_rate_decay", options.learning_rate_decay},
          {"decay_every", options.decay_every},
          {"momentum", options.momentum},
          {"beta2", options.beta2},
          {"epsilon", options.epsilon},
          {"clip_norm", options.clip_norm},
          {"l2", options.l2},
          {"augment", options.augment.spec()},
          {"permute_pixels", args.permute_pixels ? nlohmann::json(*args.permute_pixels)
                                                 : nlohmann::json(nullptr)}};
}

void check_same_run(const nlohmann::json& saved, const nlohmann::json& current,
                    const std::string& directory) {
  for (const auto& [key, value] : current.items()) {
    if (key == "learning_rate") continue;
    const nlohmann::json before = saved.is_object() && saved.contains(key) ? saved[key] : nullptr;
    if (before == value) continue;
    throw UsageError(fmt::format("the checkpoint in {} was written by a run with {} {}, and this "
                                 "run has {}; resume with the same options, or give another "
                                 "--checkpoint directory",
                                 directory, key, before.dump(), value.dump()));
  }
}

bool apply_new_learning_rate(const nlohmann::json& saved, const TrainOptions& options,
                             TrainState& state) {
  const double before = saved.value("learning_rate", options.learning_rate);
  if (before == options.learning_rate || !(before > 0)) return false;
  state.learning_rate *= options.learning_rate / before;
  return true;
}

void catch_interrupt() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &action, nullptr);
}

bool interrupted() { return interrupt_requested != 0; }

}  // namespace felis::cli
