#include "felis/study/study_report.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"
#include "felis/study/figures.h"
#include "felis/study/plot.h"
#include "felis/train/evaluate.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

namespace felis {

namespace fs = std::filesystem;

namespace {

// The probe points that the findings quote. A rotation of 10 degrees and a tint of 20 %
// are the largest probed magnitudes inside the ranges of the rotate and tint augmentations.
constexpr double kFindingMaxShiftPixels = 4;
constexpr double kFindingRotationDegrees = 10;
constexpr double kFindingTints[] = {0.2, 0.4};
constexpr double kAugmentationFindingTint = 0.2;

// Mean, min and max of one number over the seeds of a (model, augmentation) cell.
struct Summary {
  double mean = 0.0;
  double min = 0.0;
  double max = 0.0;
  int64_t count = 0;
};

Summary summarize(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  s.count = static_cast<int64_t>(values.size());
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  for (double v : values) s.mean += v / static_cast<double>(values.size());
  return s;
}

// A fraction as a percent with one decimal, or "-" when it was not measured (NaN).
std::string pct(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return fmt::format("{:.1f} %", 100 * fraction);
}
std::string spread(const Summary& s) {
  return fmt::format("{:.1f}-{:.1f} %", 100 * s.min, 100 * s.max);
}

std::vector<const RunRecord*> cell(const StudyResults& results, const std::string& model,
                                   const std::string& augmentation) {
  std::vector<const RunRecord*> runs;
  for (const auto& r : results.runs) {
    if (r.run.model == model && r.run.augmentation == augmentation) runs.push_back(&r);
  }
  return runs;
}

template <typename Field>
Summary summarize_cell(const std::vector<const RunRecord*>& runs, Field field) {
  std::vector<double> values;
  for (const auto* r : runs) values.push_back(field(*r));
  return summarize(values);
}

Summary train_summary(const std::vector<const RunRecord*>& runs) {
  return summarize_cell(runs, [](const RunRecord& r) { return r.train_accuracy; });
}
Summary test_summary(const std::vector<const RunRecord*>& runs) {
  return summarize_cell(runs, [](const RunRecord& r) { return r.test_accuracy; });
}

// Mean accuracy at `magnitude` of probe `perturbation` over the runs, or NaN.
double probe_accuracy(const std::vector<const RunRecord*>& runs, Perturbation perturbation,
                      double magnitude) {
  std::vector<double> values;
  for (const auto* r : runs) {
    for (const auto& p : r->probes) {
      if (p.perturbation != perturbation) continue;
      for (const auto& point : p.points) {
        if (point.magnitude == magnitude) values.push_back(point.accuracy);
      }
    }
  }
  return values.empty() ? std::nan("") : summarize(values).mean;
}

ReportFigure figure(std::vector<char> bytes, const std::string& mime, const std::string& caption,
                    const fs::path& file) {
  AtomicFile out(file);
  out.write(bytes);
  out.commit();
  return {.bytes = std::move(bytes), .mime_type = mime, .caption = caption, .alt_text = caption};
}

// `name` with every character but letters and digits replaced by '-', for file names:
// Fashion-MNIST's "T-shirt/top" would otherwise name a directory.
std::string file_safe(const std::string& name) {
  std::string safe = name;
  for (char& c : safe) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  return safe;
}

std::vector<std::string> ordered_unique(const StudyResults& results, bool models) {
  std::vector<std::string> names;
  for (const auto& r : results.runs) {
    const std::string& name = models ? r.run.model : r.run.augmentation;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

// The augmentation the others are compared with: "none", or the first one studied.
std::string baseline_augmentation(const std::vector<std::string>& augmentations) {
  if (augmentations.empty()) return "none";
  const bool has_none =
      std::find(augmentations.begin(), augmentations.end(), "none") != augmentations.end();
  return has_none ? "none" : augmentations.front();
}

// "a", "a and b", "a, b and c".
std::string join_list(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += i + 1 == items.size() ? " and " : ", ";
    text += items[i];
  }
  return text;
}

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
          "The training set ({} images in {} dimensions) is {} with its true labels and {} with "
          "shuffled labels{}.",
          truth.value("images_used", 0), truth.value("dimensions", 0),
          describe(truth_verdict, "linearly separable"),
          describe(shuffled_verdict, "still linearly separable"),
          shuffled_verdict == "separable"
              ? ", so a high training accuracy on it proves little by itself"
              : "")};
}

// The seed-1 run of `model` without augmentation on the whole training set, if any.
const RunRecord* plain_seed_one(const StudyResults& results, const std::string& model) {
  for (const auto& r : results.runs) {
    if (r.run.model == model && r.run.augmentation == "none" && r.run.seed == 1) return &r;
  }
  return nullptr;
}

// Test accuracy by model and training-set fraction: the fraction controls, and 1.0 from
// the plain seed-1 run.
std::map<std::string, std::map<double, double>> accuracy_by_fraction(const StudyResults& results) {
  std::map<std::string, std::map<double, double>> by_fraction;
  for (const auto& r : results.control_runs) {
    if (r.run.permuted) continue;
    by_fraction[r.run.model][r.run.train_fraction] = r.test_accuracy;
    if (const RunRecord* plain = plain_seed_one(results, r.run.model)) {
      by_fraction[r.run.model][1.0] = plain->test_accuracy;
    }
  }
  return by_fraction;
}

constexpr double kTrainFractions[] = {0.25, 0.5, 1.0};

std::string fraction_accuracy(const std::map<double, double>& accuracies, double fraction) {
  return accuracies.count(fraction) ? pct(accuracies.at(fraction)) : "-";
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

// Every chart draws a model in the same color: the model's position in the study.
int model_line_type(size_t model_index) { return static_cast<int>(model_index) + 1; }

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
  const auto models = ordered_unique(results, true);
  const auto augmentations = ordered_unique(results, false);
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
  const std::string baseline = baseline_augmentation(ordered_unique(results, false));
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
  const auto models = ordered_unique(results, true);
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

namespace {

// The inputs of every section builder.
struct ReportInputs {
  const StudyResults& results;
  const Dataset& train;
  const Dataset& test;
  std::vector<std::string> models;
  std::vector<std::string> augmentations;
  std::string baseline;
  fs::path out;
  fs::path figures;  // DIR/figures
};

// "without augmentation", or "with shift augmentation" for another baseline.
std::string runs_label(const ReportInputs& in) {
  return in.baseline == "none" ? "without augmentation" : "with " + in.baseline + " augmentation";
}

// "209 training images", or "2000 of the 60000 training images" for a subsample.
std::string image_count(int64_t used, int64_t available, const char* split) {
  if (available > used) return fmt::format("{} of the {} {} images", used, available, split);
  return fmt::format("{} {} images", used, split);
}

std::string question(const ReportInputs& in) {
  const StudyResults& results = in.results;
  std::string text = fmt::format(
      "Logistic regression weighs every pixel on its own, yet a shifted or tinted image changes "
      "almost every pixel. Why does it work at all on images, and what do augmentation, hidden "
      "layers and 3x3 convolutions add? This study trains {} on {} of {}x{}x{} and scores them "
      "on {}, clean and perturbed.",
      fmt::join(in.models, ", "),
      image_count(in.train.count, results.train_images_available, "training"), in.train.height,
      in.train.width, in.train.channels,
      image_count(in.test.count, results.test_images_available, "test"));
  if (results.train_images_available > in.train.count ||
      results.test_images_available > in.test.count) {
    text += " The subsamples are drawn with a fixed seed, so every run sees the same images.";
  }
  text += fmt::format(" Seeds completed: {} of the {} requested.", results.seeds_completed,
                      results.seeds_requested);
  if (results.seeds_completed < results.seeds_requested) {
    text += results.budget_seconds > 0
                ? fmt::format(" The time budget of {:.0f} s ended the study before the rest.",
                              results.budget_seconds)
                : std::string(" The time budget ended the study before the rest.");
  }
  return text;
}

ReportSection accuracy_section(const ReportInputs& in) {
  ReportSection accuracy{.heading = "Accuracy"};
  ReportTable table{.caption = "Train and test accuracy, mean over seeds, with the test range",
                    .header = {"model", "augmentation", "train", "test", "test range", "seeds"}};
  for (const auto& model : in.models) {
    for (const auto& augmentation : in.augmentations) {
      const auto runs = cell(in.results, model, augmentation);
      const Summary tr = train_summary(runs);
      const Summary te = test_summary(runs);
      table.rows.push_back({model, augmentation, pct(tr.mean), pct(te.mean), spread(te),
                            std::to_string(te.count)});
    }
  }
  accuracy.blocks.push_back(table);
  return accuracy;
}

ReportSection learning_curves_section(const ReportInputs& in) {
  ReportSection section{.heading = "Learning curves"};
  const LearningCurves curves = learning_curves(in.results);
  const std::string runs = runs_label(in);
  for (const auto& chart : curves.charts) {
    const bool by_epoch = chart.x_label == "epoch";
    const std::string caption =
        by_epoch ? fmt::format("Test accuracy by epoch of the models trained by mini-batch SGD, "
                               "{}, mean over seeds",
                               runs)
                 : fmt::format("Cost of the whole training set by iteration of the full-batch "
                               "models, {}, mean over seeds",
                               runs);
    section.blocks.push_back(figure(render_line_chart(chart, ChartFormat::svg), "image/svg+xml",
                                    caption,
                                    in.figures / (by_epoch ? "curve-test-accuracy.svg"
                                                           : "curve-cost.svg")));
  }
  if (!curves.models_without_curves.empty()) {
    section.blocks.push_back(ReportParagraph{fmt::format(
        "No learning curve was recorded for {}: {} runs hold neither test accuracies by epoch "
        "nor costs by iteration.",
        join_list(curves.models_without_curves), runs)});
  }
  return section;
}

ReportSection invariance_section(const ReportInputs& in) {
  // One line per model, from the baseline runs.
  ReportSection invariance{.heading = "Invariance"};
  const ImageShape shape{in.test.height, in.test.width, in.test.channels};
  for (const auto& [perturbation, magnitudes] : study_probes(shape)) {
    LineChart chart{.title = fmt::format("test accuracy under {}", to_string(perturbation)),
                    .x_label = to_string(perturbation) + " magnitude",
                    .y_label = "test accuracy (%)",
                    .y_range = AxisRange{0, 100},
                    .series = {}};
    for (size_t index = 0; index < in.models.size(); ++index) {
      const std::string& model = in.models[index];
      ChartSeries series{.name = model, .points = {}, .line_type = model_line_type(index)};
      const auto runs = cell(in.results, model, in.baseline);
      bool measured = false;
      for (double m : magnitudes) {
        const double accuracy = probe_accuracy(runs, perturbation, m);
        measured = measured || std::isfinite(accuracy);
        series.points.push_back({m, 100 * accuracy});
      }
      if (measured) chart.series.push_back(series);
    }
    if (chart.series.empty()) continue;
    invariance.blocks.push_back(figure(render_line_chart(chart, ChartFormat::svg), "image/svg+xml",
                                       chart.title + ", " + runs_label(in) + ", mean over seeds",
                                       in.figures / ("probe-" + to_string(perturbation) + ".svg")));
  }
  return invariance;
}

ReportSection augmentations_section(const ReportInputs& in) {
  ReportSection section{.heading = "Augmentations"};
  const ImageShape shape{in.train.height, in.train.width, in.train.channels};
  section.blocks.push_back(ReportParagraph{
      "Each augmentation draws new random parameters for every training image at every step. "
      "The spec is the augmentation pipeline as felis train --augment takes it."});
  ReportTable specs{.caption = "The augmentations studied", .header = {"augmentation", "spec"}};
  std::vector<NamedAugmentation> previewed;
  for (const auto& name : in.augmentations) {
    const std::string spec = study_augmentation_spec(name, shape);
    specs.rows.push_back({name, spec});
    if (name != "none") previewed.push_back({.name = name, .spec = spec});
  }
  section.blocks.push_back(specs);
  if (previewed.empty()) return section;

  const AugmentationPreviewOptions options;
  const int64_t images = std::min(options.images, in.train.count);
  section.blocks.push_back(figure(
      render_augmentation_preview(in.train, previewed, options), "image/png",
      fmt::format("{} training images under each augmentation: the original on the left, then "
                  "{} augmented copies",
                  images, options.copies),
      in.figures / "augmentation-preview.png"));
  return section;
}

// Weight images, logit sensitivities and the representer strip of a logreg or softmax model.
void add_linear_model_figures(const ReportInputs& in, const std::string& model_name, Model& model,
                              ReportSection& learned) {
  for (auto& image : render_weight_images(model)) {
    learned.blocks.push_back(figure(image.channel_maps_png, "image/png",
                                    fmt::format("{} weights for {} per channel (R, G, B), "
                                                "blue negative, red positive, scale +-{:.3g}",
                                                model_name, image.label, image.max_abs_weight),
                                    in.figures / fmt::format("{}-weights-{}.png", model_name, file_safe(image.label))));
  }
  for (const auto& s : weight_sensitivity(model, in.test)) {
    learned.blocks.push_back(ReportParagraph{fmt::format(
        "{} ({}): brightening every pixel by one level of 255 moves the logit by {:.4f}; a 10 % "
        "tint of each channel moves it by {:+.3f} on average over the test images.",
        model_name, s.label, s.logit_change_per_level, fmt::join(s.tint_logit_changes, ", "))});
  }
  const Dataset& train = in.train;
  if (train.count * (train.count + train.image_size()) <= kMaxRepresenterValues) {
    const Representer r = compute_representer(model, train);
    learned.blocks.push_back(figure(
        r.strip_png, "image/png",
        fmt::format("{}: the weights are a weighted sum of the training images (relative "
                    "residual {:.1e}); top, the largest positive shares, bottom, the largest "
                    "negative",
                    model_name, r.solution.relative_residual),
        in.figures / fmt::format("{}-representer.png", model_name)));
  }
}

// Builds "What the models learned" from seed 1 of the baseline runs.
ReportSection learned_section(const ReportInputs& in, ThreadPool& pool) {
  ReportSection learned{.heading = "What the models learned"};
  for (const auto& model_name : in.models) {
    const fs::path model_file = in.out / "runs" / (StudyRun{model_name, in.baseline, 1}.id() + ".h5");
    if (!fs::exists(model_file)) continue;
    Model model = load_model(model_file);
    if (model_name == "logreg" || model_name == "softmax") {
      add_linear_model_figures(in, model_name, model, learned);
    } else if (model_name.find("cnn") != std::string::npos || model_name.find("hier") != std::string::npos) {
      const FilterGrid grid = render_first_filters(model);
      learned.blocks.push_back(figure(grid.png, "image/png",
                                      fmt::format("{}: the {} first-layer {}x{} filters", model_name,
                                                  grid.filters, grid.kernel, grid.kernel),
                                      in.figures / fmt::format("{}-filters.png", model_name)));
    }
    const RowMatrix<double> probabilities = predict_probabilities(model, in.test, pool);
    const MistakeGrid mistakes = render_mistakes(in.test, probabilities);
    if (!mistakes.png.empty()) {
      learned.blocks.push_back(figure(mistakes.png, "image/png",
                                      fmt::format("{}: {} misclassified test images, the most "
                                                  "confident first",
                                                  model_name, mistakes.mistake_count),
                                      in.figures / fmt::format("{}-mistakes.png", model_name)));
    }
    const auto metrics = score(in.test.labels, predicted_classes(probabilities), in.test.class_count());
    learned.blocks.push_back(figure(render_confusion_matrix(metrics.confusion, in.test.class_names),
                                    "image/png",
                                    fmt::format("{}: confusion matrix of the test images", model_name),
                                    in.figures / fmt::format("{}-confusion.png", model_name)));
  }
  return learned;
}

ReportSection controls_section(const ReportInputs& in) {
  const StudyResults& results = in.results;
  ReportSection controls{.heading = "Controls"};
  ReportTable separability{.caption = "Linear separability of the training set (Wolfe's "
                                      "minimum-norm-point method, with a certificate either way)",
                           .header = {"labels", "images", "dimensions", "verdict", "min margin"}};
  for (const auto& [name, value] : results.separability.items()) {
    separability.rows.push_back({name, std::to_string(value.value("images_used", 0)),
                                 std::to_string(value.value("dimensions", 0)),
                                 value.value("verdict", std::string("undecided")),
                                 value.contains("min_margin") ? fmt::format("{:.3g}", value["min_margin"].get<double>())
                                                              : "-"});
  }
  controls.blocks.push_back(separability);

  // Permutation and training-set size, seed 1, against the plain seed-1 run.
  ReportTable permutation{.caption = "Pixel permutation: test accuracy with every image's pixel "
                                     "positions shuffled by one fixed permutation, in training and "
                                     "testing (seed 1)",
                          .header = {"model", "plain", "pixels permuted"}};
  for (const auto& r : results.control_runs) {
    if (!r.run.permuted) continue;
    const RunRecord* plain = plain_seed_one(results, r.run.model);
    permutation.rows.push_back({r.run.model, plain ? pct(plain->test_accuracy) : "-",
                                pct(r.test_accuracy)});
  }
  ReportTable size{.caption = "Training-set size: test accuracy on a seeded share of the "
                              "training images (seed 1)",
                   .header = {"model", "25 %", "50 %", "100 %"}};
  for (const auto& [model, accuracies] : accuracy_by_fraction(results)) {
    std::vector<std::string> row = {model};
    for (double fraction : kTrainFractions) row.push_back(fraction_accuracy(accuracies, fraction));
    size.rows.push_back(row);
  }
  if (!permutation.rows.empty()) controls.blocks.push_back(permutation);
  if (!size.rows.empty()) controls.blocks.push_back(size);
  return controls;
}

ReportSection method_section(const ReportInputs& in) {
  const StudyResults& results = in.results;
  ReportSection method{.heading = "Method"};
  method.blocks.push_back(ReportParagraph{fmt::format(
      "{} runs: every model with every augmentation for {} of the {} seeds requested, in {:.0f} s. "
      "Each run uses the preset's default training options; probes perturb the test images "
      "deterministically and average over variants (shifts in 8 directions, tints of each "
      "channel up and down).",
      results.runs.size(), results.seeds_completed, results.seeds_requested, results.seconds)});
  return method;
}

}  // namespace

Report build_study_report(const StudyResults& results, const DataSplits& data,
                          const std::string& data_path, const fs::path& out, ThreadPool& pool) {
  ReportInputs in{.results = results,
                  .train = data.train,
                  .test = *data.test,
                  .models = ordered_unique(results, true),
                  .augmentations = ordered_unique(results, false),
                  .baseline = "",
                  .out = out,
                  .figures = out / "figures"};
  in.baseline = baseline_augmentation(in.augmentations);
  fs::create_directories(in.figures);

  Report report;
  report.title = fmt::format("felis study of {}", fs::path(data_path).filename().string());
  report.question = question(in);
  report.findings = study_findings(results);
  report.sections = {accuracy_section(in),      learning_curves_section(in),
                     invariance_section(in),    augmentations_section(in),
                     learned_section(in, pool), controls_section(in),
                     method_section(in)};
  return report;
}

}  // namespace felis
