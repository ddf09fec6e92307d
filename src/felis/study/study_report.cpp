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

namespace felis {

namespace fs = std::filesystem;

namespace {

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

std::string pct(double fraction) { return fmt::format("{:.1f} %", 100 * fraction); }
std::string spread(const Summary& s) {
  return fmt::format("{:.0f}-{:.0f} %", 100 * s.min, 100 * s.max);
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

}  // namespace

Report build_study_report(const StudyResults& results, const DataSplits& data,
                          const std::string& data_path, const fs::path& out, ThreadPool& pool) {
  const auto models = ordered_unique(results, true);
  const auto augmentations = ordered_unique(results, false);
  const fs::path figures = out / "figures";
  fs::create_directories(figures);
  const Dataset& train = data.train;
  const Dataset& test = *data.test;

  Report report;
  report.title = fmt::format("felis study of {}", fs::path(data_path).filename().string());
  report.question = fmt::format(
      "Logistic regression weighs every pixel on its own, yet a shifted or tinted image changes "
      "almost every pixel. Why does it work at all on images, and what do augmentation, hidden "
      "layers and 3x3 convolutions add? This study trains {} on {} training images of {}x{}x{} "
      "and scores them on {} test images, clean and perturbed.",
      fmt::join(models, ", "), train.count, train.height, train.width, train.channels, test.count);

  // Findings, from the unaugmented runs.
  const bool has_none = std::find(augmentations.begin(), augmentations.end(), "none") != augmentations.end();
  const std::string base = has_none ? "none" : augmentations.front();
  const double shift_magnitude = std::min<double>(4, static_cast<double>(std::min(test.height, test.width) - 1));
  for (const auto& model : models) {
    const auto runs = cell(results, model, base);
    const Summary tr = summarize_cell(runs, [](const RunRecord& r) { return r.train_accuracy; });
    const Summary te = summarize_cell(runs, [](const RunRecord& r) { return r.test_accuracy; });
    report.findings.push_back({.sentence = fmt::format(
                                   "{}: train {}, test {}; shifting the test images by {:g} "
                                   "pixels takes it to {}, a 20 % tint to {}.",
                                   model, pct(tr.mean), pct(te.mean), shift_magnitude,
                                   pct(probe_accuracy(runs, Perturbation::shift, shift_magnitude)),
                                   pct(probe_accuracy(runs, Perturbation::tint, 0.2))),
                               .seeds = te.count,
                               .spread = "test " + spread(te)});
    for (const auto& augmentation : augmentations) {
      if (augmentation == base) continue;
      const Summary aug = summarize_cell(cell(results, model, augmentation),
                                         [](const RunRecord& r) { return r.test_accuracy; });
      report.findings.push_back(
          {.sentence = fmt::format("{} with {} augmentation: test {} ({:+.1f} points).", model,
                                   augmentation, pct(aug.mean), 100 * (aug.mean - te.mean)),
           .seeds = aug.count,
           .spread = spread(aug)});
    }
  }
  const auto& truth = results.separability["true_labels"];
  const auto& shuffled = results.separability["shuffled_labels"];
  report.findings.push_back(
      {.sentence = fmt::format(
           "The training set ({} images in {} dimensions) is {} with its true labels and {} with "
           "shuffled labels, so a high training accuracy on it proves little by itself.",
           truth.value("images_used", 0), truth.value("dimensions", 0),
           truth.value("verdict", std::string("undecided")) == "separable" ? "linearly separable"
                                                                           : "not linearly separable",
           shuffled.value("verdict", std::string("undecided")) == "separable" ? "still separable"
                                                                              : "not separable")});

  // Accuracy table.
  ReportSection accuracy{.heading = "Accuracy"};
  ReportTable table{.caption = "Train and test accuracy, mean over seeds, with the test range",
                    .header = {"model", "augmentation", "train", "test", "test range", "seeds"}};
  for (const auto& model : models) {
    for (const auto& augmentation : augmentations) {
      const auto runs = cell(results, model, augmentation);
      const Summary tr = summarize_cell(runs, [](const RunRecord& r) { return r.train_accuracy; });
      const Summary te = summarize_cell(runs, [](const RunRecord& r) { return r.test_accuracy; });
      table.rows.push_back({model, augmentation, pct(tr.mean), pct(te.mean), spread(te),
                            std::to_string(te.count)});
    }
  }
  accuracy.blocks.push_back(table);
  report.sections.push_back(accuracy);

  // Invariance curves per perturbation, one line per model, unaugmented runs.
  ReportSection invariance{.heading = "Invariance"};
  for (const auto& [perturbation, magnitudes] : study_probes({test.height, test.width, test.channels})) {
    LineChart chart{.title = fmt::format("test accuracy under {}", to_string(perturbation)),
                    .x_label = to_string(perturbation) + " magnitude",
                    .y_label = "test accuracy (%)",
                    .y_range = AxisRange{0, 100},
                    .series = {}};
    for (const auto& model : models) {
      ChartSeries series{.name = model, .points = {}};
      const auto runs = cell(results, model, base);
      for (double m : magnitudes) series.points.push_back({m, 100 * probe_accuracy(runs, perturbation, m)});
      chart.series.push_back(series);
    }
    invariance.blocks.push_back(figure(render_line_chart(chart, ChartFormat::svg), "image/svg+xml",
                                       chart.title + ", without augmentation, mean over seeds",
                                       figures / ("probe-" + to_string(perturbation) + ".svg")));
  }
  report.sections.push_back(invariance);

  // What the models learned: seed 1, unaugmented.
  ReportSection learned{.heading = "What the models learned"};
  for (const auto& model_name : models) {
    const fs::path model_file = out / "runs" / (StudyRun{model_name, base, 1}.id() + ".h5");
    if (!fs::exists(model_file)) continue;
    Model model = load_model(model_file);
    if (model_name == "logreg" || model_name == "softmax") {
      for (auto& image : render_weight_images(model)) {
        learned.blocks.push_back(figure(image.channel_maps_png, "image/png",
                                        fmt::format("{} weights for {} per channel (R, G, B), "
                                                    "blue negative, red positive, scale +-{:.3g}",
                                                    model_name, image.label, image.max_abs_weight),
                                        figures / fmt::format("{}-weights-{}.png", model_name, file_safe(image.label))));
      }
      for (const auto& s : weight_sensitivity(model, test)) {
        learned.blocks.push_back(ReportParagraph{fmt::format(
            "{} ({}): brightening every pixel by one level of 255 moves the logit by {:.4f}; a 10 % "
            "tint of each channel moves it by {} on average over the test images.",
            model_name, s.label, s.logit_change_per_level, fmt::join(s.tint_logit_changes, ", "))});
      }
      if (train.count * (train.count + train.image_size()) <= kMaxRepresenterValues) {
        const Representer r = compute_representer(model, train);
        learned.blocks.push_back(figure(
            r.strip_png, "image/png",
            fmt::format("{}: the weights are a weighted sum of the training images (relative "
                        "residual {:.1e}); top, the largest positive shares, bottom, the largest "
                        "negative",
                        model_name, r.solution.relative_residual),
            figures / fmt::format("{}-representer.png", model_name)));
      }
    } else if (model_name.find("cnn") != std::string::npos || model_name.find("hier") != std::string::npos) {
      const FilterGrid grid = render_first_filters(model);
      learned.blocks.push_back(figure(grid.png, "image/png",
                                      fmt::format("{}: the {} first-layer {}x{} filters", model_name,
                                                  grid.filters, grid.kernel, grid.kernel),
                                      figures / fmt::format("{}-filters.png", model_name)));
    }
    const RowMatrix<double> probabilities = predict_probabilities(model, test, pool);
    const MistakeGrid mistakes = render_mistakes(test, probabilities);
    if (!mistakes.png.empty()) {
      learned.blocks.push_back(figure(mistakes.png, "image/png",
                                      fmt::format("{}: {} misclassified test images, the most "
                                                  "confident first",
                                                  model_name, mistakes.mistake_count),
                                      figures / fmt::format("{}-mistakes.png", model_name)));
    }
    const auto metrics = score(test.labels, predicted_classes(probabilities), test.class_count());
    learned.blocks.push_back(figure(render_confusion_matrix(metrics.confusion, test.class_names),
                                    "image/png",
                                    fmt::format("{}: confusion matrix of the test images", model_name),
                                    figures / fmt::format("{}-confusion.png", model_name)));
  }
  report.sections.push_back(learned);

  // Controls and method.
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
  auto seed_one = [&](const std::string& model) -> const RunRecord* {
    for (const auto& r : results.runs) {
      if (r.run.model == model && r.run.augmentation == "none" && r.run.seed == 1) return &r;
    }
    return nullptr;
  };
  ReportTable permutation{.caption = "Pixel permutation: test accuracy with every image's pixel "
                                     "positions shuffled by one fixed permutation, in training and "
                                     "testing (seed 1)",
                          .header = {"model", "plain", "pixels permuted"}};
  ReportTable size{.caption = "Training-set size: test accuracy on a seeded share of the "
                              "training images (seed 1)",
                   .header = {"model", "25 %", "50 %", "100 %"}};
  std::map<std::string, std::map<double, double>> by_fraction;
  for (const auto& r : results.control_runs) {
    const RunRecord* plain = seed_one(r.run.model);
    if (r.run.permuted) {
      permutation.rows.push_back({r.run.model, plain ? pct(plain->test_accuracy) : "-",
                                  pct(r.test_accuracy)});
      if (plain) {
        report.findings.push_back(
            {.sentence = fmt::format("{} with its pixels permuted: test {} against {} on the "
                                     "intact images.",
                                     r.run.model, pct(r.test_accuracy), pct(plain->test_accuracy)),
             .seeds = 1});
      }
    } else {
      by_fraction[r.run.model][r.run.train_fraction] = r.test_accuracy;
      if (plain) by_fraction[r.run.model][1.0] = plain->test_accuracy;
    }
  }
  for (const auto& [model, accuracies] : by_fraction) {
    std::vector<std::string> row = {model};
    for (double fraction : {0.25, 0.5, 1.0}) {
      row.push_back(accuracies.count(fraction) ? pct(accuracies.at(fraction)) : "-");
    }
    report.findings.push_back({.sentence = fmt::format("{} on 25, 50 and 100 % of the training "
                                                       "set: test {}, {}, {}.",
                                                       model, row[1], row[2], row[3]),
                               .seeds = 1});
    size.rows.push_back(row);
  }
  if (!permutation.rows.empty()) controls.blocks.push_back(permutation);
  if (!size.rows.empty()) controls.blocks.push_back(size);
  report.sections.push_back(controls);

  ReportSection method{.heading = "Method"};
  method.blocks.push_back(ReportParagraph{fmt::format(
      "{} runs: every model with every augmentation for {} of the {} seeds requested, in {:.0f} s. "
      "Each run uses the preset's default training options; probes perturb the test images "
      "deterministically and average over variants (shifts in 8 directions, tints of each "
      "channel up and down).",
      results.runs.size(), results.seeds_completed, results.seeds_requested, results.seconds)});
  report.sections.push_back(method);
  return report;
}

}  // namespace felis
