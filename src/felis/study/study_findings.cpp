#include "felis/study/study_findings.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

namespace felis {

namespace detail {

std::string pct(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return fmt::format("{:.1f} %", 100 * fraction);
}
std::string spread(const Summary& s) {
  return fmt::format("{:.1f}-{:.1f} %", 100 * s.min, 100 * s.max);
}

std::string join_list(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += i + 1 == items.size() ? " and " : ", ";
    text += items[i];
  }
  return text;
}

std::string fraction_accuracy(const std::map<double, double>& accuracies, double fraction) {
  return accuracies.count(fraction) ? pct(accuracies.at(fraction)) : "-";
}

int model_line_type(size_t model_index) { return static_cast<int>(model_index) + 1; }

}  // namespace detail

namespace {

using detail::fraction_accuracy;
using detail::join_list;
using detail::model_line_type;
using detail::pct;
using detail::spread;

// The probe points that the findings quote. A rotation of 10 degrees and a tint of 20 %
// are the largest probed magnitudes inside the ranges of the rotate and tint augmentations.
constexpr double kFindingMaxShiftPixels = 4;
constexpr double kFindingRotationDegrees = 10;
constexpr double kFindingTints[] = {0.2, 0.4};
constexpr double kAugmentationFindingTint = 0.2;

// Findings

// The largest shift of at most kFindingMaxShiftPixels that a run was probed with, or NaN.
// The study probes only shifts below the image's side, so small images get a smaller one.
double finding_shift(const StudyResults& results) {
  double best = std::nan("");
  for (const auto& r : results.runs) {
    for (const auto& p : r.probes) {
      if (p.perturbation != Perturbation::shift) continue;
      for (const auto& point : p.points) {
        const double m = point.magnitude;
        if (m > 0 && m <= kFindingMaxShiftPixels && !(m <= best)) best = m;
      }
    }
  }
  return best;
}

// "logreg: train 99.0 %, test 70.0 %; on perturbed test images 52.0 % under a 4-pixel
// shift, 64.0 % under a 20 % tint and 58.0 % under a 40 % tint."
ReportFinding model_finding(const StudyResults& results, const std::string& model,
                            const std::string& baseline, double shift_pixels) {
  const auto runs = cell(results, model, baseline);
  const Summary train = train_summary(runs);
  const Summary test = test_summary(runs);
  const std::string label = baseline == "none" ? model : model + " with " + baseline + " augmentation";
  std::string sentence = fmt::format("{}: train {}, test {}", label, pct(train.mean), pct(test.mean));

  std::vector<std::string> probes;
  const double shifted = probe_accuracy(runs, Perturbation::shift, shift_pixels);
  if (std::isfinite(shifted)) {
    probes.push_back(fmt::format("{} under a {:g}-pixel shift", pct(shifted), shift_pixels));
  }
  for (double tint : kFindingTints) {
    const double tinted = probe_accuracy(runs, Perturbation::tint, tint);
    if (std::isfinite(tinted)) probes.push_back(fmt::format("{} under a {:g} % tint", pct(tinted), 100 * tint));
  }
  if (!probes.empty()) sentence += "; on perturbed test images " + join_list(probes);
  return {.sentence = sentence + ".",
          .seeds = test.count,
          .spread = test.count > 1 ? fmt::format("train {}, test {}", spread(train), spread(test))
                                   : ""};
}

// "cnn with shift augmentation, test accuracy without -> with it: 86.0 -> 86.2 % clean,
// 80.1 -> 85.9 % under a 4-pixel shift, ...". Empty when no run used `augmentation`.
std::optional<ReportFinding> augmentation_finding(const StudyResults& results,
                                                  const std::string& model,
                                                  const std::string& baseline,
                                                  const std::string& augmentation,
                                                  double shift_pixels) {
  const auto before = cell(results, model, baseline);
  const auto after = cell(results, model, augmentation);
  const Summary test_before = test_summary(before);
  const Summary test_after = test_summary(after);
  if (test_after.count == 0 || test_before.count == 0) return std::nullopt;

  const auto change = [](double from, double to, const std::string& what) {
    return fmt::format("{:.1f} -> {} {}", 100 * from, pct(to), what);
  };
  std::vector<std::string> parts = {change(test_before.mean, test_after.mean, "clean")};
  const std::vector<std::tuple<Perturbation, double, std::string>> probes = {
      {Perturbation::shift, shift_pixels, fmt::format("under a {:g}-pixel shift", shift_pixels)},
      {Perturbation::rotate, kFindingRotationDegrees,
       fmt::format("under a {:g}-degree rotation", kFindingRotationDegrees)},
      {Perturbation::tint, kAugmentationFindingTint,
       fmt::format("under a {:g} % tint", 100 * kAugmentationFindingTint)}};
  for (const auto& [perturbation, magnitude, what] : probes) {
    const double from = probe_accuracy(before, perturbation, magnitude);
    const double to = probe_accuracy(after, perturbation, magnitude);
    if (std::isfinite(from) && std::isfinite(to)) parts.push_back(change(from, to, what));
  }

  const std::string without = baseline == "none" ? "without" : "with " + baseline;
  ReportFinding finding{
      .sentence = fmt::format("{} with {} augmentation, test accuracy {} -> with it: {}.", model,
                              augmentation, without, fmt::join(parts, ", ")),
      .seeds = std::min(test_before.count, test_after.count),
      .spread = fmt::format("clean {} {}, with it {}", without, spread(test_before),
                            spread(test_after))};
  if (test_before.count == 1 && test_after.count == 1) {
    finding.spread.clear();  // a single seed has no spread
  } else if (test_before.count != test_after.count) {
    finding.spread = fmt::format("clean {} {} over {} seeds, with it {} over {}", without,
                                 spread(test_before), test_before.count, spread(test_after),
                                 test_after.count);
  }
  return finding;
}

std::optional<ReportFinding> separability_finding(const nlohmann::json& separability) {
  if (!separability.contains("true_labels") || !separability.contains("shuffled_labels")) {
    return std::nullopt;
  }
  const auto& truth = separability["true_labels"];
  const auto& shuffled = separability["shuffled_labels"];
  const std::string truth_verdict = truth.value("verdict", std::string("undecided"));
  const std::string shuffled_verdict = shuffled.value("verdict", std::string("undecided"));
  const auto describe = [](const std::string& verdict, const char* separable) -> std::string {
    if (verdict == "separable") return separable;
    if (verdict == "not separable") return "not linearly separable";
    return "of undecided linear separability";
  };
  // Only when even random labels can be fitted is a perfect training fit uninformative.
  return ReportFinding{
      .sentence = fmt::format(
          "The training images tested ({} in {} dimensions, one class of {} images against the "
          "rest) are {} with their true labels and {} with shuffled labels{}.",
          truth.value("images_used", 0), truth.value("dimensions", 0),
          truth.value("positive_count", 0),
          describe(truth_verdict, "linearly separable"),
          describe(shuffled_verdict, "still linearly separable"),
          shuffled_verdict == "separable"
              ? ", so a high training accuracy on them proves little by itself"
              : "")};
}

void add_control_findings(const StudyResults& results, std::vector<ReportFinding>& findings) {
  for (const auto& r : results.control_runs) {
    const RunRecord* plain = plain_seed_one(results, r.run.model);
    if (!r.run.permuted || plain == nullptr) continue;
    findings.push_back({.sentence = fmt::format("{} with its pixels permuted: test {} against {} "
                                                "on the intact images.",
                                                r.run.model, pct(r.test_accuracy),
                                                pct(plain->test_accuracy)),
                        .seeds = 1});
  }
  for (const auto& [model, accuracies] : accuracy_by_fraction(results)) {
    findings.push_back({.sentence = fmt::format("{} on 25, 50 and 100 % of the training set: "
                                                "test {}, {}, {}.",
                                                model, fraction_accuracy(accuracies, 0.25),
                                                fraction_accuracy(accuracies, 0.5),
                                                fraction_accuracy(accuracies, 1.0)),
                        .seeds = 1});
  }
}

// Learning curves

// The mean over `runs` of y at each x, from the points details[array][i] = {x_key: x,
// y_key: y}, y times `scale`. Points whose x or y is missing or not finite (a NaN that
// JSON stored as null) are skipped.
ChartSeries mean_curve(const std::string& name, const std::vector<const RunRecord*>& runs,
                       const char* array, const char* x_key, const char* y_key, double scale) {
  std::map<double, std::vector<double>> values;
  for (const auto* r : runs) {
    if (!r->details.is_object() || !r->details.contains(array)) continue;
    const auto& points = r->details[array];
    if (!points.is_array()) continue;
    for (const auto& point : points) {
      if (!point.is_object() || !point.contains(x_key) || !point.contains(y_key)) continue;
      if (!point[x_key].is_number() || !point[y_key].is_number()) continue;
      const double x = point[x_key].get<double>();
      const double y = point[y_key].get<double>();
      if (std::isfinite(x) && std::isfinite(y)) values[x].push_back(scale * y);
    }
  }
  ChartSeries series{.name = name, .points = {}};
  for (const auto& [x, ys] : values) series.points.push_back({x, summarize(ys).mean});
  return series;
}

bool has_epoch_curves(const std::vector<const RunRecord*>& runs) {
  for (const auto* r : runs) {
    if (r->details.is_object() && r->details.contains("epoch_curves") &&
        r->details["epoch_curves"].is_array() && !r->details["epoch_curves"].empty()) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<ReportFinding> study_findings(const StudyResults& results) {
  const auto models = studied_models(results);
  const auto augmentations = studied_augmentations(results);
  const std::string baseline = baseline_augmentation(augmentations);
  const double shift_pixels = finding_shift(results);

  std::vector<ReportFinding> findings;
  for (const auto& model : models) {
    findings.push_back(model_finding(results, model, baseline, shift_pixels));
    for (const auto& augmentation : augmentations) {
      if (augmentation == baseline) continue;
      if (auto finding = augmentation_finding(results, model, baseline, augmentation, shift_pixels)) {
        findings.push_back(*finding);
      }
    }
  }
  if (auto finding = separability_finding(results.separability)) findings.push_back(*finding);
  add_control_findings(results, findings);
  return findings;
}

LearningCurves learning_curves(const StudyResults& results) {
  const std::string baseline = baseline_augmentation(studied_augmentations(results));
  LineChart accuracy{.title = "test accuracy by epoch",
                     .x_label = "epoch",
                     .y_label = "test accuracy (%)",
                     .y_range = AxisRange{0, 100},
                     .series = {}};
  LineChart cost{.title = "cost by iteration",
                 .x_label = "iteration",
                 .y_label = "training cost",
                 .y_range = std::nullopt,
                 .series = {}};
  LearningCurves curves;
  const auto models = studied_models(results);
  for (size_t m = 0; m < models.size(); ++m) {
    const std::string& model = models[m];
    const auto runs = cell(results, model, baseline);
    // SGD runs may record costs too, but as mini-batch means, so only full-batch costs are
    // charted.
    const bool sgd = has_epoch_curves(runs);
    ChartSeries series = sgd ? mean_curve(model, runs, "epoch_curves", "epoch", "test_accuracy", 100)
                             : mean_curve(model, runs, "costs", "iteration", "cost", 1);
    if (series.points.empty()) {
      curves.models_without_curves.push_back(model);
      continue;
    }
    series.line_type = model_line_type(m);
    (sgd ? accuracy : cost).series.push_back(std::move(series));
  }
  if (!accuracy.series.empty()) curves.charts.push_back(accuracy);
  if (!cost.series.empty()) curves.charts.push_back(cost);
  return curves;
}

}  // namespace felis
