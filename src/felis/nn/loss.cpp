#include "felis/nn/loss.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <cassert>
#include <cmath>

namespace felis {

std::string to_string(OutputKind kind) {
  return kind == OutputKind::sigmoid ? "sigmoid" : "softmax";
}

OutputKind output_kind_from_string(const std::string& name) {
  if (name == "sigmoid") return OutputKind::sigmoid;
  if (name == "softmax") return OutputKind::softmax;
  throw Error(fmt::format("unknown output '{}'; expected sigmoid or softmax", name));
}

namespace {

double sigmoid(double z) {
  // Two branches so that exp never overflows.
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

}  // namespace

template <typename T>
double binary_cross_entropy(const Tensor<T>& z, std::span<const int32_t> labels, Tensor<T>* dz) {
  const int64_t n = z.rows();
  assert(z.row_size() == 1);
  assert(static_cast<int64_t>(labels.size()) == n);
  assert(n > 0);
  if (dz != nullptr) dz->resize({n, 1});
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double zi = z[i];
    const double yi = labels[i];
    // e^-|z| serves both the cost and sigmoid(z), as sigmoid's own two branches compute it.
    const double e = std::exp(-std::abs(zi));
    total += std::max(zi, 0.0) - zi * yi + std::log1p(e);
    if (dz == nullptr) continue;
    const double a = zi >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    (*dz)[i] = static_cast<T>((a - yi) / static_cast<double>(n));
  }
  return total / static_cast<double>(n);
}

template <typename T>
double softmax_cross_entropy(const Tensor<T>& z, std::span<const int32_t> labels, Tensor<T>* dz) {
  const int64_t n = z.rows();
  const int64_t k = z.row_size();
  assert(static_cast<int64_t>(labels.size()) == n);
  assert(n > 0);
  assert(k >= 2);
  if (dz != nullptr) dz->resize({n, k});
  const double inv_n = 1.0 / static_cast<double>(n);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = z.data() + i * k;
    // log sum exp(z) = m + log sum exp(z - m), with m the row's maximum.
    const double m = *std::max_element(row, row + k);
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(row[j] - m);
    const double log_sum = m + std::log(sum);
    total += log_sum - row[labels[i]];
    if (dz == nullptr) continue;
    T* grad = dz->data() + i * k;
    for (int64_t j = 0; j < k; ++j) {
      const double p = std::exp(row[j] - log_sum);
      grad[j] = static_cast<T>((p - (j == labels[i] ? 1.0 : 0.0)) * inv_n);
    }
  }
  return total * inv_n;
}

template <typename T>
double cross_entropy(OutputKind kind, const Tensor<T>& z, std::span<const int32_t> labels,
                     Tensor<T>* dz) {
  return kind == OutputKind::sigmoid ? binary_cross_entropy(z, labels, dz)
                                     : softmax_cross_entropy(z, labels, dz);
}

template <typename T>
RowMatrix<double> class_probabilities(OutputKind kind, const Tensor<T>& z) {
  const int64_t n = z.rows();
  if (kind == OutputKind::sigmoid) {
    RowMatrix<double> p(n, 2);
    for (int64_t i = 0; i < n; ++i) {
      p(i, 1) = sigmoid(z[i]);
      p(i, 0) = 1.0 - p(i, 1);
    }
    return p;
  }
  RowMatrix<double> p = z.matrix().template cast<double>();
  for (int64_t i = 0; i < n; ++i) {
    p.row(i).array() -= p.row(i).maxCoeff();
    p.row(i) = p.row(i).array().exp();
    p.row(i) /= p.row(i).sum();
  }
  return p;
}

#define FELIS_INSTANTIATE_LOSSES(T)                                                       \
  template double binary_cross_entropy(const Tensor<T>&, std::span<const int32_t>,        \
                                       Tensor<T>*);                                       \
  template double softmax_cross_entropy(const Tensor<T>&, std::span<const int32_t>,       \
                                        Tensor<T>*);                                      \
  template double cross_entropy(OutputKind, const Tensor<T>&, std::span<const int32_t>,   \
                                Tensor<T>*);                                              \
  template RowMatrix<double> class_probabilities(OutputKind, const Tensor<T>&);
FELIS_INSTANTIATE_LOSSES(float)
FELIS_INSTANTIATE_LOSSES(double)
#undef FELIS_INSTANTIATE_LOSSES

}  // namespace felis
