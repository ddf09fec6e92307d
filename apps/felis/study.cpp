// felis study: the grid of models, augmentations and seeds on one data set, with probes.
#include "commands.h"
#include "paths.h"
#include "print.h"
#include "progress.h"

#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/study/study.h"
#include "felis/study/study_report.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

namespace felis::cli {

namespace {

struct StudyArguments {
  std::string data;
  std::string out = "study";
  std::vector<std::string> models;
  std::vector<std::string> augmentations;
  int64_t seeds = 5;
  double budget_seconds = 240.0;
  int64_t train_images = 0;
  int64_t test_images = 0;
  int threads = default_threads();
  bool quiet = false;
};

// "study [#####.....] 5/33 ETA 3:10 | hier3-none-s1 62% | cnn-none-s1 ": the study's
// bar, then the runs in progress; the oldest one's bar follows. The time left assumes
// the remaining runs take as long as the finished ones.
std::string study_prefix(const StudyProgress& p, const std::map<std::string, StepRecord>& steps) {
  constexpr int64_t kWidth = 20;
  const int64_t filled = p.runs_planned > 0 ? kWidth * p.runs_done / p.runs_planned : 0;
  std::string eta = "?";
  if (p.runs_done > 0) {
    const auto left = static_cast<int64_t>(p.elapsed_seconds / static_cast<double>(p.runs_done) *
                                           static_cast<double>(p.runs_planned - p.runs_done));
    eta = fmt::format("{}:{:02d}", left / 60, left % 60);
  }
  std::string text = fmt::format("study [{}{}] {}/{} ETA {} | ", std::string(filled, '#'),
                                 std::string(kWidth - filled, '.'), p.runs_done, p.runs_planned, eta);
  for (size_t i = 1; i < p.current.size(); ++i) {
    const auto found = steps.find(p.current[i]);
    const double done = found == steps.end() ? 0.0
                                             : static_cast<double>(found->second.step) /
                                                   static_cast<double>(found->second.steps);
    text += fmt::format("{} {:.0f}% | ", p.current[i], 100 * done);
  }
  return text + p.current.front() + " ";
}

// Throws felis::UsageError when a name is given twice: the two runs would share a file.
void check_unique(const std::vector<std::string>& names, const char* option) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw UsageError(fmt::format("{} names '{}' twice; give each once", option, names[i]));
    }
  }
}

void check_study_paths(const StudyArguments& args) {
  if (args.out.empty()) {
    throw UsageError("--out is empty; give the directory for the study's results");
  }
  if (same_file(args.out, args.data)) {
    throw UsageError(fmt::format("--out {} is the data directory; give another directory so "
                                 "the data set stays as it was",
                                 args.out));
  }
  check_unique(args.models, "--models");
  check_unique(args.augmentations, "--augment");
}

void run_study_command(const StudyArguments& args) {
  if (args.seeds < 1 || args.seeds > 100) {
    throw UsageError(fmt::format("--seeds {} is invalid; use 1 to 100", args.seeds));
  }
  if (!(args.budget_seconds >= 0) || !std::isfinite(args.budget_seconds)) {
    throw UsageError(fmt::format("--budget {} is invalid; give seconds, or 0 for none",
                                 args.budget_seconds));
  }
  for (const auto& [name, count] : {std::pair{"--train-images", args.train_images},
                                    std::pair{"--test-images", args.test_images}}) {
    if (count < 0) {
      throw UsageError(fmt::format("{} {} is invalid; give a number of images, or 0 for all",
                                   name, count));
    }
  }
  validate_thread_count(args.threads);
  check_study_paths(args);
  const DataSplits data = load_data(args.data);

  StudyOptions options{.out = args.out,
                       .models = args.models,
                       .augmentations = args.augmentations,
                       .seeds = args.seeds,
                       .budget_seconds = args.budget_seconds,
                       .train_images = args.train_images,
                       .test_images = args.test_images,
                       .threads = args.threads};
  // On a terminal a bar shows the study and the oldest run in progress; log lines go to
  // stdout.
  ProgressBar bar;
  StudyProgress latest;
  std::map<std::string, StepRecord> steps;  // the latest step of each run in progress
  if (!args.quiet) {
    options.on_progress = [&](const StudyProgress& p) {
      latest = p;
      if (p.current.empty()) return;
      bar.clear();
      fmt::print("run {}/{} {} (elapsed {:.0f} s)\n", p.runs_done + p.current.size(),
                 p.runs_planned, p.current.back(), p.elapsed_seconds);
      std::fflush(stdout);
    };
    options.on_run = [&](const RunRecord& r) {
      bar.clear();
      steps.erase(r.run.id());
      fmt::print("  {}: train {} test {}{}\n", r.run.id(), percent(r.train_accuracy),
                 percent(r.test_accuracy), r.reused ? " (reused)" : "");
      std::fflush(stdout);
    };
    options.on_step = [&](const std::string& id, const StepRecord& step) {
      steps[id] = step;
      if (!latest.current.empty() && id == latest.current.front()) {
        bar.update(step, study_prefix(latest, steps));
      }
    };
  }
  const StudyResults results = run_study(data, args.data, options);
  bar.clear();
  const std::filesystem::path out = args.out;
  write_json_file(out / "results.json", to_json(results));
  ThreadPool pool(args.threads);
  write_report_html(build_study_report(results, study_splits(data, options), args.data, out, pool),
                    out / "index.html");
  if (!args.quiet) {
    fmt::print("{} runs and {} controls, {} of {} seeds, in {:.1f} s; results in {}\n",
               results.runs.size(), results.control_runs.size(), results.seeds_completed, results.seeds_requested, results.seconds,
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
  sub->add_option("--train-images", args->train_images,
                  "Train on a seeded subsample of this many training images (default: all)");
  sub->add_option("--test-images", args->test_images,
                  "Score on a seeded subsample of this many test images (default: all)");
  sub->add_option("--threads", args->threads, "Runs trained at once, one thread each (default: all hardware threads)");
  sub->add_flag("--quiet", args->quiet, "Print only the path of the results");
  return [args] {
    run_study_command(*args);
    return 0;
  };
}

}  // namespace felis::cli
