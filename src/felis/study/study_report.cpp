#include "felis/study/study_report.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"
#include "felis/study/figures.h"
#include "felis/study/plot.h"
#include "felis/study/study_findings.h"
#include "felis/study/study_stats.h"
#include "felis/train/evaluate.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace felis {

namespace fs = std::filesystem;

namespace {

using detail::fraction_accuracy;
using detail::join_list;
using detail::model_line_type;
using detail::pct;
using detail::spread;

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
    text += " To train the remaining seeds, run the same felis study command with --budget 0 "
            "and the same --out. The finished runs are reused.";
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
                                    fmt::format("{} weights for {}{}, blue negative, red "
                                                "positive, scale +-{:.3g}",
                                                model_name, image.label,
                                                in.train.channels == 3 ? " per channel (R, G, B)" : "",
                                                image.max_abs_weight),
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

constexpr double kTrainFractions[] = {0.25, 0.5, 1.0};

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
                  .models = studied_models(results),
                  .augmentations = studied_augmentations(results),
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
