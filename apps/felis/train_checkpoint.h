// felis train's checkpoints and Ctrl-C: what identifies a run, and the interrupt flag.
#pragma once

#include "train_options.h"

#include "felis/train/trainer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace felis::cli {

// The options that decide a run's result, which a resumed run must share with the run
// that wrote its checkpoint. Leaves out --epochs and --iterations (a resumed run may go
// further), --threads (results do not depend on it) and the output files.
nlohmann::json run_identity(const TrainArguments& args, const TrainOptions& options,
                            const std::string& preset, const std::string& precision);

// Throws felis::UsageError naming the first option whose value differs between the
// checkpoint's run and this one, other than the learning rate.
void check_same_run(const nlohmann::json& saved, const nlohmann::json& current,
                    const std::string& directory);

// Scales the checkpoint's learning rate when this run gives another --learning-rate, so
// that the decays so far still apply. Returns true when it changed the rate.
bool apply_new_learning_rate(const nlohmann::json& saved, const TrainOptions& options,
                             TrainState& state);

// Makes the first SIGINT set a flag that interrupted() returns, and the second end the
// process as usual.
void catch_interrupt();
bool interrupted();

}  // namespace felis::cli
