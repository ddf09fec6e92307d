#include "felis/train/evaluate.h"

#include "felis/data/batch.h"
#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <numeric>

namespace felis {

namespace {

// Images per forward pass: up to 256, fewer for large images, so that one batch of inputs
// takes about 1 MB and stays in a core's L2 cache while the first layer reads it. A batch
// of 1024 cat images in float64 would take 100 MB, and allocating and zeroing that cost
// more than the prediction itself.
template <typename T>
int64_t predict_batch_size(const Dataset& data) {
  constexpr int64_t kBatchBytes = 1 << 20;
  const int64_t image_bytes = std::max<int64_t>(1, data.image_size()) * int64_t{sizeof(T)};
  return std::clamp<int64_t>(kBatchBytes / image_bytes, 16, 256);
}

}  // namespace

template <typename T>
RowMatrix<double> predict_probabilities(Network<T>& network, const Dataset& data,
                                        ThreadPool& pool, std::span<const int32_t> permutation) {
  const int64_t k = network.output() == OutputKind::sigmoid ? 2 : network.output_shape()[0];
  RowMatrix<double> probabilities(data.count, k);
  std::vector<int64_t> indices;
  std::vector<int32_t> labels;
  Tensor<T> x;
  const int64_t batch = predict_batch_size<T>(data);
  for (int64_t first = 0; first < data.count; first += batch) {
    const int64_t rows = std::min(batch, data.count - first);
    indices.resize(static_cast<size_t>(rows));
    std::iota(indices.begin(), indices.end(), first);
    make_batch(data, indices, x, labels, permutation);
    const Tensor<T>& logits = network.forward(x, {.pool = &pool, .training = false});
    probabilities.middleRows(first, rows) = class_probabilities(network.output(), logits);
  }
  return probabilities;
}

RowMatrix<double> predict_probabilities(Model& model, const Dataset& data, ThreadPool& pool) {
  const auto lock = model.lock_passes();
  return model.visit([&](auto& network) {
    return predict_probabilities(network, data, pool, model.input_permutation);
  });
}

std::vector<int32_t> predicted_classes(const RowMatrix<double>& probabilities) {
  std::vector<int32_t> predicted(static_cast<size_t>(probabilities.rows()));
  for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
    Eigen::Index best = 0;
    probabilities.row(i).maxCoeff(&best);  // the first maximum on ties
    predicted[static_cast<size_t>(i)] = static_cast<int32_t>(best);
  }
  return predicted;
}

ClassificationMetrics score(std::span<const int32_t> labels, std::span<const int32_t> predicted,
                            int64_t class_count) {
  assert(labels.size() == predicted.size());
  ClassificationMetrics m;
  const auto k = static_cast<size_t>(class_count);
  m.count = static_cast<int64_t>(labels.size());
  m.confusion.assign(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < labels.size(); ++i) {
    ++m.confusion[static_cast<size_t>(labels[i])][static_cast<size_t>(predicted[i])];
    if (labels[i] == predicted[i]) ++m.correct;
  }
  m.accuracy = m.count == 0 ? 0.0 : static_cast<double>(m.correct) / static_cast<double>(m.count);
  m.precision.assign(k, 0.0);
  m.recall.assign(k, 0.0);
  for (size_t c = 0; c < k; ++c) {
    int64_t predicted_as_c = 0;
    int64_t labelled_c = 0;
    for (size_t other = 0; other < k; ++other) {
      predicted_as_c += m.confusion[other][c];
      labelled_c += m.confusion[c][other];
    }
    const auto hits = static_cast<double>(m.confusion[c][c]);
    if (predicted_as_c > 0) m.precision[c] = hits / static_cast<double>(predicted_as_c);
    if (labelled_c > 0) m.recall[c] = hits / static_cast<double>(labelled_c);
  }
  return m;
}

nlohmann::json to_json(const ClassificationMetrics& metrics,
                       const std::vector<std::string>& class_names) {
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t c = 0; c < class_names.size(); ++c) {
    per_class.push_back({{"class", class_names[c]},
                         {"precision", metrics.precision[c]},
                         {"recall", metrics.recall[c]}});
  }
  return {{"accuracy", metrics.accuracy},
          {"count", metrics.count},
          {"correct", metrics.correct},
          {"confusion", metrics.confusion},
          {"per_class", per_class}};
}

void check_compatible(const Model& model, const Dataset& data) {
  const Shape& input = model.input_shape();
  const Shape data_shape = {data.channels, data.height, data.width};
  if (input != data_shape) {
    throw Error(fmt::format("{}: images are {}x{}x{} (H x W x C) but the model expects {}x{}x{}; "
                            "use a data set of the model's image size",
                            data.source, data.height, data.width, data.channels, input[1],
                            input[2], input[0]));
  }
  if (data.class_count() != model.class_count()) {
    throw Error(fmt::format("{}: {} classes but the model was trained on {}", data.source,
                            data.class_count(), model.class_count()));
  }
}

template RowMatrix<double> predict_probabilities(Network<float>&, const Dataset&, ThreadPool&,
                                                  std::span<const int32_t>);
template RowMatrix<double> predict_probabilities(Network<double>&, const Dataset&, ThreadPool&,
                                                  std::span<const int32_t>);

}  // namespace felis
