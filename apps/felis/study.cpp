// felis study: the grid of models, augmentations and seeds on one data set, with probes.
#include "commands.h"
#include "print.h"
#include "progress.h"

#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/study/study.h"
#include "felis/study/study_report.h"

#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace felis::cli {

namespace {

struct StudyArguments {
  std::string data;
  std::string out = "study";
  std::vector<std::string> models;
  std::vector<std::string> augmentations;
  int64_t seeds = 5;
  double budget_seconds = 0.0;
  int threads = default_threads();
  bool quiet = false;
};

void run_study_command(const StudyArguments& args) {
  if (args.seeds < 1 || args.seeds > 100) {
    throw UsageError(fmt::format("--seeds {} is invalid; use 1 to 100", args.seeds));
  }
  if (!(args.budget_seconds >= 0) || !std::isfinite(args.budget_seconds)) {
    throw UsageError(fmt::format("--budget {} is invalid; give seconds, or 0 for none",
                                 args.budget_seconds));
  }
  validate_thread_count(args.threads);
  const DataSplits data = load_data(args.data);

  StudyOptions options{.out = args.out,
                       .models = args.models,
                       .augmentations = args.augmentations,
                       .seeds = args.seeds,
                       .budget_seconds = args.budget_seconds,
                       .threads = args.threads};
  // On a terminal a bar shows the study and the current run; log lines go to stdout.
  ProgressBar bar;
  StudyProgress latest;
  if (!args.quiet) {
    options.on_progress = [&](const StudyProgress& p) {
      latest = p;
      if (p.current.empty()) return;
      bar.clear();
      fmt::print("run {}/{} {} (elapsed {:.0f} s)\n", p.runs_done + 1, p.runs_planned, p.current,
                 p.elapsed_seconds);
      std::fflush(stdout);
    };
    options.on_run = [&](const RunRecord& r) {
      bar.clear();
      fmt::print("  {}: train {} test {}{}\n", r.run.id(), percent(r.train_accuracy),
                 percent(r.test_accuracy), r.reused ? " (reused)" : "");
      std::fflush(stdout);
    };
    options.on_step = [&](const StepRecord& step) {
      // The study's time left assumes the remaining runs take as long as the finished ones.
      std::string eta = "?";
      if (latest.runs_done > 0) {
        const auto left = static_cast<int64_t>(latest.elapsed_seconds / latest.runs_done *
                                               (latest.runs_planned - latest.runs_done));
        eta = fmt::format("{}:{:02d}", left / 60, left % 60);
      }
      bar.update(step, fmt::format("study {}/{} ETA {} | {} ", latest.runs_done + 1,
                                   latest.runs_planned, eta, latest.current));
    };
  }
  const StudyResults results = run_study(data, args.data, options);
  bar.clear();
  const std::filesystem::path out = args.out;
  write_json_file(out / "results.json", to_json(results));
  ThreadPool pool(args.threads);
  write_report_html(build_study_report(results, data, args.data, out, pool), out / "index.html");
  if (!args.quiet) {
    fmt::print("{} runs, {} of {} seeds, in {:.1f} s; results in {}\n", results.runs.size(),
               results.seeds_completed, results.seeds_requested, results.seconds,
               (out / "results.json").string());
  }
  fmt::print("{}\n", (out / "index.html").string());
}

}  // namespace

Command add_study(CLI::App& app) {
  auto args = std::make_shared<StudyArguments>();
  CLI::App* sub = app.add_subcommand(
      "study", "Train every (model, augmentation, seed) on a data set and probe each run");
  sub->add_option("--data", args->data, "Data set with a test split, as for felis train")->required();
  sub->add_option("--out", args->out, "Directory for results.json and the runs")->capture_default_str();
  sub->add_option("--models", args->models,
                  "Presets to compare (default: logreg, course-4layer, hier3, cnn for 2 classes; "
                  "softmax, mlp, hier3, cnn otherwise)")
      ->delimiter(',');
  sub->add_option("--augment", args->augmentations,
                  "Augmentations to compare: none, shift, rotate, tint, all (default: all five)")
      ->delimiter(',');
  sub->add_option("--seeds", args->seeds, "Seeds per (model, augmentation)")->capture_default_str();
  sub->add_option("--budget", args->budget_seconds,
                  "Seconds; seeds after the first run only while another pass fits (0: no budget)")
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "Threads to use (default: all hardware threads)");
  sub->add_flag("--quiet", args->quiet, "Print only the path of the results");
  return [args] {
    run_study_command(*args);
    return 0;
  };
}

}  // namespace felis::cli
