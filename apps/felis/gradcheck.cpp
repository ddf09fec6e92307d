// felis gradcheck: every layer's backward against finite differences, for a preset or spec.
#include "commands.h"

#include "felis/error.h"
#include "felis/nn/gradcheck.h"
#include "felis/nn/model.h"

#include <spdlog/fmt/fmt.h>

#include <memory>
#include <regex>

namespace felis::cli {

namespace {

struct GradcheckArguments {
  std::string model = "cnn";
  std::string input_shape = "64x64x3";
  int64_t classes = 2;
  int64_t seed = 1;
};

// "HxWxC" as (C, H, W).
Shape parse_input_shape(const std::string& text) {
  static const std::regex pattern(R"(([1-9]\d{0,4})x([1-9]\d{0,4})x([13]))");
  std::smatch match;
  if (!std::regex_match(text, match, pattern)) {
    throw UsageError(fmt::format("--input-shape {} is invalid; use HxWxC with C 1 or 3, e.g. "
                                 "64x64x3",
                                 text));
  }
  return {std::stoll(match[3]), std::stoll(match[1]), std::stoll(match[2])};
}

// Exit code 1 when any layer's relative error reaches 1e-6.
int run_gradcheck(const GradcheckArguments& args) {
  if (args.classes < 2 || args.classes > 1000) {
    throw UsageError(fmt::format("--classes {} is outside 2 to 1000", args.classes));
  }
  const Shape input = parse_input_shape(args.input_shape);
  std::vector<std::string> names;
  for (int64_t c = 0; c < args.classes; ++c) names.push_back(std::to_string(c));
  Model model = build_model({.preset = args.model, .precision = Precision::float64,
                             .init = Init::he, .seed = static_cast<uint64_t>(args.seed)},
                            input, names);
  std::vector<LayerCheck> checks;
  model.visit([&](auto& network) {
    using T = typename std::remove_reference_t<decltype(network)>::Scalar;
    if constexpr (std::is_same_v<T, double>) {
      checks = check_gradients(network, args.classes,
                               {.seed = static_cast<uint64_t>(args.seed)});
    }
  });
  fmt::print("gradient check of {} on {} inputs, float64, batch of 4\n", model.name(),
             args.input_shape);
  fmt::print("{:>5}  {:<10}  {:>7}  {:>14}  {:>14}\n", "layer", "type", "values",
             "max rel. error", "max abs. error");
  double worst = 0.0;
  for (const auto& check : checks) {
    fmt::print("{:>5}  {:<10}  {:>7}  {:>14.3e}  {:>14.3e}\n", check.index + 1, check.type,
               check.values_checked, check.max_relative_error, check.max_absolute_error);
    worst = std::max(worst, check.max_relative_error);
  }
  constexpr double kLimit = 1e-6;
  fmt::print("{}: worst relative error {:.3e} (limit {:.0e})\n", worst < kLimit ? "passed" : "FAILED",
             worst, kLimit);
  return worst < kLimit ? 0 : 1;
}

}  // namespace

Command add_gradcheck(CLI::App& app) {
  auto args = std::make_shared<GradcheckArguments>();
  CLI::App* sub = app.add_subcommand(
      "gradcheck", "Compare every layer's backward with central finite differences");
  sub->add_option("--model", args->model, "A preset or a model spec, as for felis train")
      ->capture_default_str();
  sub->add_option("--input-shape", args->input_shape, "Input images as HxWxC")
      ->capture_default_str();
  sub->add_option("--classes", args->classes, "Number of classes")->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the weights, the batch and the labels")
      ->capture_default_str();
  sub->footer("Each layer's parameters and input are perturbed by 1e-5, up to 40 values per "
              "tensor,\nin float64 on a random batch of 4. Exit code 1 when any relative error "
              "reaches 1e-6.");
  return [args] { return run_gradcheck(*args); };
}

}  // namespace felis::cli
