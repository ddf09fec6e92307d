// felis: train, evaluate and inspect image classifiers from the command line.
//
// Exit codes: 0 success, 2 invalid command line or option, 1 any other failure.
// Every error is one line on stderr.
#include "commands.h"

#include "felis/error.h"
#include "felis/tensor/blas_threads.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
  felis::stop_blas_threads();
  // Warnings read like the errors: "felis: warning: ...", on stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_st("felis"));
  spdlog::set_pattern("felis: %l: %v");
  CLI::App app{"felis: image classification from logistic regression up, measured."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "felis 0.1.0");
  std::map<CLI::App*, felis::cli::Command> commands;
  for (auto add : {felis::cli::add_train, felis::cli::add_evaluate, felis::cli::add_predict,
                   felis::cli::add_info, felis::cli::add_gradcheck, felis::cli::add_augment,
                   felis::cli::add_probe, felis::cli::add_study}) {
    auto command = add(app);
    commands[app.get_subcommands({}).back()] = std::move(command);
  }
  // CLI11 turns an empty string into "no value" for numbers, so `--seed ''` would run with
  // the default unnoticed. Every numeric option rejects it.
  const CLI::Validator not_empty(
      [](const std::string& value) {
        return value.empty() ? std::string("a number is needed, not an empty value") : std::string();
      },
      "");
  for (CLI::App* subcommand : app.get_subcommands({})) {
    for (CLI::Option* option : subcommand->get_options()) {
      const std::string type = option->get_type_name();
      if (type == "INT" || type == "UINT" || type == "FLOAT") option->check(not_empty);
    }
  }

  // CLI11 reports an unknown first word as a missing subcommand, which misleads.
  const bool known = argc > 1 && std::any_of(commands.begin(), commands.end(), [&](const auto& entry) {
    return entry.first->get_name() == argv[1];
  });
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "felis: error: unknown subcommand '" << argv[1]
              << "'; use train, evaluate, predict, info, gradcheck, augment, probe "
                 "or study (see felis --help)\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "felis: error: " << e.what() << " (see felis --help)\n";
    return 2;
  }

  try {
    for (auto& [subcommand, command] : commands) {
      if (subcommand->parsed()) return command();
    }
  } catch (const felis::UsageError& e) {
    std::cerr << "felis: error: " << e.what() << '\n';
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "felis: error: " << e.path1().string() << ": " << e.code().message() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "felis: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
