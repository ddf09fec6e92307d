// felis evaluate: a saved model's accuracy, precision and recall on a data set split.
#include "commands.h"
#include "print.h"

#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

namespace felis::cli {

namespace {

struct EvaluateArguments {
  std::string model;
  std::string data;
  std::string split = "test";
  std::string metrics;
  int threads = default_threads();
};

// One entry per image: {"index", "label", "predicted", "probabilities": [K]}.
nlohmann::json predictions_json(std::span<const int32_t> labels, std::span<const int32_t> predicted,
                                const RowMatrix<double>& probabilities) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto row = probabilities.row(static_cast<Eigen::Index>(i));
    rows.push_back({{"index", i},
                    {"label", labels[i]},
                    {"predicted", predicted[i]},
                    {"probabilities", std::vector<double>(row.begin(), row.end())}});
  }
  return rows;
}

void run_evaluate(const EvaluateArguments& args) {
  if (args.split != "train" && args.split != "test") {
    throw UsageError(fmt::format("--split {} is invalid; use train or test", args.split));
  }
  validate_thread_count(args.threads);
  if (!args.metrics.empty()) {
    check_output_path(args.metrics, "--metrics");
    std::error_code ignored;
    if (std::filesystem::weakly_canonical(args.metrics, ignored) ==
        std::filesystem::weakly_canonical(args.model, ignored)) {
      throw UsageError(fmt::format("--metrics {} is the model file; give another file name",
                                   args.metrics));
    }
  }
  Model model = load_model(args.model);
  const DataSplits data = load_data(args.data);
  if (args.split == "test" && !data.test) {
    throw Error(fmt::format("{} has no test split; pass --split train or a data set with a "
                            "test split",
                            args.data));
  }
  const Dataset& set = args.split == "test" ? *data.test : data.train;
  check_compatible(model, set);

  ThreadPool pool(args.threads);
  const auto start = std::chrono::steady_clock::now();
  const auto probabilities = predict_probabilities(model, set, pool);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto predicted = predicted_classes(probabilities);
  const auto metrics = score(set.labels, predicted, set.class_count());
  fmt::print("{} on the {} split of {} ({} images)\n", args.model, args.split, args.data, set.count);
  print_metrics(metrics, model.class_names());
  const double images_per_second = static_cast<double>(set.count) / std::max(seconds, 1e-9);
  fmt::print("inference: {:.3f} s, {:.0f} images/s on {} threads\n", seconds, images_per_second,
             args.threads);
  if (!args.metrics.empty()) {
    nlohmann::json json = to_json(metrics, model.class_names());
    json["model"] = args.model;
    json["data"] = args.data;
    json["split"] = args.split;
    json["inference_seconds"] = seconds;
    json["images_per_second"] = images_per_second;
    json["threads"] = args.threads;
    json["predictions"] = predictions_json(set.labels, predicted, probabilities);
    write_json_file(args.metrics, json);
    fmt::print("metrics written to {}\n", args.metrics);
  }
}

}  // namespace

Command add_evaluate(CLI::App& app) {
  auto args = std::make_shared<EvaluateArguments>();
  CLI::App* sub = app.add_subcommand("evaluate", "Score a saved model on a data set split");
  sub->add_option("--model", args->model, "Model file written by felis train --out")->required();
  sub->add_option("--data", args->data, "Data set, as for felis train")->required();
  sub->add_option("--split", args->split, "train or test")->capture_default_str();
  sub->add_option("--metrics", args->metrics,
                  "Write accuracy, per-class precision and recall, the confusion matrix and "
                  "every image's class probabilities as JSON");
  sub->add_option("--threads", args->threads, "Threads to use (default: all hardware threads)");
  return [args] {
    run_evaluate(*args);
    return 0;
  };
}

}  // namespace felis::cli
