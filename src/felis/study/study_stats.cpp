#include "felis/study/study_stats.h"

#include <algorithm>
#include <cmath>

namespace felis {

namespace {

template <typename Field>
Summary summarize_cell(const std::vector<const RunRecord*>& runs, Field field) {
  std::vector<double> values;
  for (const auto* r : runs) values.push_back(field(*r));
  return summarize(values);
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

Summary summarize(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  s.count = static_cast<int64_t>(values.size());
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  for (double v : values) s.mean += v / static_cast<double>(values.size());
  return s;
}

std::vector<const RunRecord*> cell(const StudyResults& results, const std::string& model,
                                   const std::string& augmentation) {
  std::vector<const RunRecord*> runs;
  for (const auto& r : results.runs) {
    if (r.run.model == model && r.run.augmentation == augmentation) runs.push_back(&r);
  }
  return runs;
}

Summary train_summary(const std::vector<const RunRecord*>& runs) {
  return summarize_cell(runs, [](const RunRecord& r) { return r.train_accuracy; });
}
Summary test_summary(const std::vector<const RunRecord*>& runs) {
  return summarize_cell(runs, [](const RunRecord& r) { return r.test_accuracy; });
}

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

std::vector<std::string> studied_models(const StudyResults& results) {
  return ordered_unique(results, /*models=*/true);
}
std::vector<std::string> studied_augmentations(const StudyResults& results) {
  return ordered_unique(results, /*models=*/false);
}

std::string baseline_augmentation(const std::vector<std::string>& augmentations) {
  if (augmentations.empty()) return "none";
  const bool has_none =
      std::find(augmentations.begin(), augmentations.end(), "none") != augmentations.end();
  return has_none ? "none" : augmentations.front();
}

const RunRecord* plain_seed_one(const StudyResults& results, const std::string& model) {
  for (const auto& r : results.runs) {
    if (r.run.model == model && r.run.augmentation == "none" && r.run.seed == 1) return &r;
  }
  return nullptr;
}

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

}  // namespace felis
