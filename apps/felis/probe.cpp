// felis probe: a saved model's test accuracy as one perturbation of the test images grows.
#include "commands.h"
#include "paths.h"
#include "print.h"

#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"
#include "felis/study/plot.h"
#include "felis/study/probe.h"
#include "felis/train/evaluate.h"

#include <spdlog/fmt/fmt.h>

#include <charconv>
#include <filesystem>
#include <memory>
#include <optional>

namespace felis::cli {

namespace {

struct ProbeArguments {
  std::string model;
  std::string data;
  std::string perturbation;
  std::string magnitudes;  // comma-separated, or empty for the defaults
  std::string json;
  std::string plot;
  int64_t seed = 1;
  int threads = default_threads();
};

// Names what a magnitude measures, for the header line and the chart's x axis.
std::string magnitude_unit(Perturbation perturbation) {
  switch (perturbation) {
    case Perturbation::shift: return "pixels";
    case Perturbation::rotate: return "degrees";
    case Perturbation::tint: return "t, channel gains 1 + t and 1 - t";
    case Perturbation::brightness: return "fraction of 255 added and subtracted";
    case Perturbation::contrast: return "c, contrast factors 1 + c and 1 - c";
    case Perturbation::noise: return "standard deviation in levels of 255";
    case Perturbation::blur: return "Gaussian standard deviation in pixels";
    case Perturbation::permute: return "fraction of pixel positions shuffled";
  }
  return "magnitude";
}

// "0,1,2.5" as {0, 1, 2.5}. Range checks are check_magnitude's, once the image shape is known.
std::vector<double> parse_magnitudes(const std::string& text) {
  std::vector<double> magnitudes;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, comma - begin);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    double value = 0.0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || error != std::errc() || end != item.data() + item.size()) {
      throw UsageError(fmt::format("--magnitudes {}: '{}' is not a number; give a "
                                   "comma-separated list such as 0,1,2,4",
                                   text, item));
    }
    magnitudes.push_back(value);
    begin = comma + 1;
  }
  return magnitudes;
}

// The magnitudes to measure on images of `shape`: the user's, each checked, or the
// defaults that the shape allows (a shift of 8 pixels does not fit 4x4 images).
std::vector<double> choose_magnitudes(const ProbeArguments& args, Perturbation perturbation,
                                      const ImageShape& shape) {
  if (!args.magnitudes.empty()) {
    std::vector<double> magnitudes = parse_magnitudes(args.magnitudes);
    for (const double magnitude : magnitudes) check_magnitude(perturbation, magnitude, shape);
    return magnitudes;
  }
  std::vector<double> magnitudes;
  for (const double magnitude : default_magnitudes(perturbation)) {
    try {
      check_magnitude(perturbation, magnitude, shape);
      magnitudes.push_back(magnitude);
    } catch (const UsageError&) {
    }
  }
  return magnitudes;
}

void check_output_paths(const ProbeArguments& args) {
  if (!args.json.empty()) check_output_path(args.json, "--json");
  if (!args.plot.empty()) {
    check_output_path(args.plot, "--plot");
    chart_format_from_path(args.plot, "--plot");
    check_gnuplot_installed();
  }
  for (const auto& [option, path] : {std::pair{"--json", args.json}, {"--plot", args.plot}}) {
    if (path.empty()) continue;
    check_not_input(path, option, args.model);
    check_not_input(path, option, args.data);
  }
  if (!args.json.empty() && !args.plot.empty()) {
    check_distinct_outputs(args.json, "--json", args.plot, "--plot");
  }
}

LineChart probe_chart(const ProbeResult& result, const ProbeArguments& args) {
  ChartSeries accuracy{.name = "accuracy", .points = {}};
  ChartSeries flips{.name = "flip rate", .points = {}};
  for (const auto& point : result.points) {
    accuracy.points.push_back({point.magnitude, 100.0 * point.accuracy});
    flips.points.push_back({point.magnitude, 100.0 * point.flip_rate});
  }
  const std::string name = to_string(result.perturbation);
  return {.title = fmt::format("{} under {}, test split of {}",
                               std::filesystem::path(args.model).filename().string(), name,
                               args.data),
          .x_label = fmt::format("{} ({})", name, magnitude_unit(result.perturbation)),
          .y_label = "percent of test images",
          .y_range = AxisRange{.min = 0.0, .max = 100.0},
          .series = {accuracy, flips}};
}

void print_result(const ProbeResult& result, const ProbeArguments& args, const Dataset& test) {
  const std::string name = to_string(result.perturbation);
  const int variants = variant_count(result.perturbation, 1.0, test.channels);
  fmt::print("{} on the test split of {} ({} images): {} ({}), {} {} per magnitude above 0\n",
             args.model, args.data, test.count, name, magnitude_unit(result.perturbation),
             variants, variants == 1 ? "variant" : "variants");
  for (const auto& point : result.points) {
    const std::string range =
        fmt::format("{:.2f}-{:.2f} %", 100.0 * point.accuracy_min, 100.0 * point.accuracy_max);
    fmt::print("{} {:<6}  accuracy {:>8}  min-max {:>15}  flip rate {:>8}\n", name,
               point.magnitude, percent(point.accuracy), range, percent(point.flip_rate));
  }
  std::fflush(stdout);
}

void run_probe(const ProbeArguments& args) {
  const Perturbation perturbation = perturbation_from_string(args.perturbation);
  validate_thread_count(args.threads);
  if (args.seed < 0 || args.seed > UINT32_MAX) {
    throw UsageError(fmt::format("--seed {} is outside 0 to 4294967295", args.seed));
  }
  if (!args.magnitudes.empty()) parse_magnitudes(args.magnitudes);
  check_output_paths(args);

  Model model = load_model(args.model);
  const Shape& input = model.input_shape();  // (C, H, W)
  const ImageShape shape{.height = input[1], .width = input[2], .channels = input[0]};
  const std::vector<double> magnitudes = choose_magnitudes(args, perturbation, shape);
  const DataSplits data = load_data(args.data);
  if (!data.test) {
    throw Error(fmt::format("{} has no test split, which felis probe measures; pass a data set "
                            "with one, e.g. a directory with train_*.h5 and test_*.h5",
                            args.data));
  }
  check_compatible(model, *data.test);

  ThreadPool pool(args.threads);
  const ProbeResult result = probe(model, *data.test, perturbation, magnitudes,
                                   static_cast<uint64_t>(args.seed), pool);
  std::vector<char> chart;
  if (!args.plot.empty()) {
    const ChartFormat format = chart_format_from_path(args.plot, "--plot");
    chart = render_line_chart(probe_chart(result, args), format);
  }
  print_result(result, args, *data.test);

  // Both files are written in full before either replaces anything.
  std::optional<AtomicFile> json_file;
  std::optional<AtomicFile> chart_file;
  if (!args.json.empty()) {
    nlohmann::json json = to_json(result);
    json["model"] = args.model;
    json["data"] = args.data;
    json["seed"] = args.seed;
    json_file.emplace(args.json);
    json_file->write(json_bytes(json));
  }
  if (!args.plot.empty()) {
    chart_file.emplace(args.plot);
    chart_file->write(chart);
  }
  if (json_file) {
    json_file->commit();
    fmt::print("results written to {}\n", args.json);
  }
  if (chart_file) {
    chart_file->commit();
    fmt::print("chart written to {}\n", args.plot);
  }
}

std::string defaults_footer() {
  std::string footer = "Default magnitudes (those that fit the model's image size are used):\n";
  for (const auto perturbation :
       {Perturbation::shift, Perturbation::rotate, Perturbation::tint, Perturbation::brightness,
        Perturbation::contrast, Perturbation::noise, Perturbation::blur, Perturbation::permute}) {
    footer += fmt::format("  {:<10} {} ({})\n", to_string(perturbation),
                          fmt::join(default_magnitudes(perturbation), ","),
                          magnitude_unit(perturbation));
  }
  footer += "Magnitude 0 is the clean test set. Shifts go in the 8 directions and rotations "
            "both ways,\nreflecting at the border; tint scales one channel at a time, up and down.";
  return footer;
}

}  // namespace

Command add_probe(CLI::App& app) {
  auto args = std::make_shared<ProbeArguments>();
  CLI::App* sub = app.add_subcommand(
      "probe", "Measure a saved model's test accuracy as a perturbation of the images grows");
  sub->add_option("--model", args->model, "Model file written by felis train --out")->required();
  sub->add_option("--data", args->data, "Data set with a test split, as for felis train")
      ->required();
  sub->add_option("--perturb", args->perturbation,
                  "shift, rotate, tint, brightness, contrast, noise, blur or permute")
      ->required();
  sub->add_option("--magnitudes", args->magnitudes,
                  "Comma-separated magnitudes to measure, in the perturbation's unit");
  sub->add_option("--json", args->json, "Write the results as JSON");
  sub->add_option("--plot", args->plot,
                  "Draw accuracy and flip rate against magnitude with gnuplot, as .svg or .png");
  sub->add_option("--seed", args->seed, "Seed of the noise and of the pixel permutation")
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "Threads to use (default: all hardware threads)");
  sub->footer(defaults_footer());
  return [args] {
    run_probe(*args);
    return 0;
  };
}

}  // namespace felis::cli
