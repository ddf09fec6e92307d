#include "felis/nn/dense.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <utility>

namespace felis {

template <typename T>
Dense<T>::Dense(int64_t inputs, int64_t units)
    : weights_({units, inputs}), bias_({units}), weights_grad_({units, inputs}),
      bias_grad_({units}) {
  weights_.set_zero();
  bias_.set_zero();
}

template <typename T>
void Dense<T>::init_normal(double stddev, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, stddev);
  for (int64_t i = 0; i < weights_.size(); ++i) weights_[i] = static_cast<T>(normal(rng));
  bias_.set_zero();
}

template <typename T>
std::unique_ptr<Layer<T>> Dense<T>::from_config(const nlohmann::json& config) {
  constexpr int64_t kMaxSize = int64_t{1} << 30;
  auto read = [&](const char* key) {
    if (!config.contains(key) || !config[key].is_number_integer() || config[key].get<int64_t>() < 1 ||
        config[key].get<int64_t>() > kMaxSize) {
      throw Error(fmt::format("dense layer {}: '{}' must be an integer from 1 to {}",
                              config.dump().substr(0, 200), key, kMaxSize));
    }
    return config[key].get<int64_t>();
  };
  const int64_t inputs = read("inputs");
  const int64_t units = read("units");
  if (inputs > kMaxSize / units) {
    throw Error(fmt::format("dense layer of {} x {} weights is larger than the limit of {}",
                            units, inputs, kMaxSize));
  }
  return std::make_unique<Dense<T>>(inputs, units);
}

template <typename T>
nlohmann::json Dense<T>::config() const {
  return {{"type", "dense"}, {"inputs", inputs()}, {"units", units()}};
}

template <typename T>
Shape Dense<T>::output_shape(const Shape& sample_input) const {
  if (element_count(sample_input) != inputs()) {
    throw Error(fmt::format("dense layer of {} units expects {} inputs per sample but gets {}",
                            units(), inputs(), element_count(sample_input)));
  }
  return {units()};
}

// Y (N, K) = X (N, D) W^T (D, K) + b, one task per chunk of rows.
template <typename T>
void Dense<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  assert(x.row_size() == inputs());
  input_ = &x;
  const int64_t n = x.rows();
  y.resize({n, units()});
  const ConstMatrixMap<T> W = std::as_const(weights_).matrix();
  const auto b = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias_.data(), units());
  const int64_t chunk_rows = dense_chunk_rows(n);
  context.pool->run(chunk_count(n, chunk_rows), [&](int64_t chunk) {
    const int64_t first = chunk * chunk_rows;
    const int64_t rows = std::min(chunk_rows, n - first);
    auto Y = y.row_block(first, rows);
    Y.noalias() = x.row_block(first, rows) * W.transpose();
    Y.rowwise() += b;
  });
}

// dW (K, D) = dY^T X, db (K) = sum over rows of dY, dX (N, D) = dY W.
// dW and db are summed per chunk of rows, then over chunks in order.
template <typename T>
void Dense<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(input_ != nullptr);
  assert(dy.rows() == input_->rows());
  assert(dy.row_size() == units());
  const Tensor<T>& x = *input_;
  const int64_t n = x.rows();
  const int64_t chunk_rows = dense_chunk_rows(n);
  const int64_t chunks = chunk_count(n, chunk_rows);
  chunk_grads_.resize(static_cast<size_t>(chunks));
  if (dx != nullptr) dx->resize(x.shape());
  const ConstMatrixMap<T> W = std::as_const(weights_).matrix();

  context.pool->run(chunks, [&](int64_t chunk) {
    const int64_t first = chunk * chunk_rows;
    const int64_t rows = std::min(chunk_rows, n - first);
    const auto dY = dy.row_block(first, rows);
    Tensor<T>& partial = chunk_grads_[static_cast<size_t>(chunk)];
    partial.resize({units(), inputs() + 1});  // dW | db
    auto P = partial.matrix();
    P.leftCols(inputs()).noalias() = dY.transpose() * x.row_block(first, rows);
    P.col(inputs()) = dY.colwise().sum().transpose();
    if (dx != nullptr) dx->row_block(first, rows).noalias() = dY * W;
  });

  // The sum over chunks, in chunk order for every element, split by units across tasks.
  auto dW = weights_grad_.matrix();
  auto db = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(bias_grad_.data(), units());
  context.pool->run(chunk_count(units(), kDenseReduceUnits), [&](int64_t task) {
    const int64_t first = task * kDenseReduceUnits;
    const int64_t rows = std::min(kDenseReduceUnits, units() - first);
    const auto P0 = std::as_const(chunk_grads_[0]).matrix().middleRows(first, rows);
    dW.middleRows(first, rows) = P0.leftCols(inputs());
    db.segment(first, rows) = P0.col(inputs());
    for (int64_t chunk = 1; chunk < chunks; ++chunk) {
      const auto P =
          std::as_const(chunk_grads_[static_cast<size_t>(chunk)]).matrix().middleRows(first, rows);
      dW.middleRows(first, rows) += P.leftCols(inputs());
      db.segment(first, rows) += P.col(inputs());
    }
  });
}

template <typename T>
std::vector<Parameter<T>> Dense<T>::parameters() {
  return {{"W", &weights_, &weights_grad_, true}, {"b", &bias_, &bias_grad_, false}};
}

template class Dense<float>;
template class Dense<double>;

}  // namespace felis
