// Prediction over a whole data set, and the classification metrics computed from it.
//
// Legend: N images, K classes.
#pragma once

#include "felis/data/dataset.h"
#include "felis/nn/model.h"

#include <nlohmann/json.hpp>

namespace felis {

// Class probabilities (N, K) for every image of `data`, computed in batches, with the
// images' pixel positions permuted first when `permutation` (H W) is not empty.
// Requires the data's image shape to match the network's input shape.
template <typename T>
RowMatrix<double> predict_probabilities(Network<T>& network, const Dataset& data, ThreadPool& pool,
                                        std::span<const int32_t> permutation = {});
// The same for a model, applying its input_permutation.
RowMatrix<double> predict_probabilities(Model& model, const Dataset& data, ThreadPool& pool);

// The most probable class of each row of p (N, K); ties go to the lower index, so a
// sigmoid output of exactly 0.5 predicts class 0, as the course's `a > 0.5` does.
std::vector<int32_t> predicted_classes(const RowMatrix<double>& probabilities);

struct ClassificationMetrics {
  int64_t count = 0;
  int64_t correct = 0;
  double accuracy = 0.0;  // correct / count
  std::vector<std::vector<int64_t>> confusion;  // (K, K): [true class][predicted class]
  std::vector<double> precision;  // (K); 0 for a class never predicted
  std::vector<double> recall;     // (K); 0 for a class absent from the labels
};

ClassificationMetrics score(std::span<const int32_t> labels, std::span<const int32_t> predicted,
                            int64_t class_count);

// {"accuracy", "count", "correct", "confusion", "per_class": [{"class", "precision", "recall"}]}
nlohmann::json to_json(const ClassificationMetrics& metrics,
                       const std::vector<std::string>& class_names);

// Throws felis::Error when the data's images do not have the model's input shape or the
// data set has a different number of classes.
void check_compatible(const Model& model, const Dataset& data);

}  // namespace felis
