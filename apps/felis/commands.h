// The felis subcommands. Each add_* registers its options on `app` and returns the
// function that runs it once the command line has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace felis::cli {

// Runs a parsed subcommand and returns its exit code; errors are thrown as exceptions.
using Command = std::function<int()>;

Command add_train(CLI::App& app);
Command add_evaluate(CLI::App& app);
Command add_predict(CLI::App& app);
Command add_info(CLI::App& app);
Command add_gradcheck(CLI::App& app);
Command add_augment(CLI::App& app);
Command add_probe(CLI::App& app);
Command add_study(CLI::App& app);

// The default for --threads: the machine's hardware threads.
int default_threads();

}  // namespace felis::cli
