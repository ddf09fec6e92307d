#include "felis/nn/activation.h"

#include "felis/error.h"
#include "felis/nn/layer_config.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string_view>

namespace felis {

namespace {

// Calls kernel(first, last) for the elements [first, last) of each chunk of
// kActivationChunkElements in [0, total), one pool task per chunk.
template <typename Kernel>
void run_chunked(const PassContext& context, int64_t total, const Kernel& kernel) {
  context.pool->run(chunk_count(total, kActivationChunkElements), [&](int64_t chunk) {
    const int64_t first = chunk * kActivationChunkElements;
    kernel(first, std::min(first + kActivationChunkElements, total));
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ReLU

template <typename T>
std::unique_ptr<Layer<T>> ReLU<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "relu", {});
  return std::make_unique<ReLU<T>>();
}

template <typename T>
nlohmann::json ReLU<T>::config() const {
  return {{"type", "relu"}};
}

template <typename T>
Shape ReLU<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

template <typename T>
void ReLU<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  input_ = &x;
  y.resize(x.shape());
  const T* X = x.data();
  T* Y = y.data();
  run_chunked(context, x.size(), [X, Y](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) Y[i] = X[i] > 0 ? X[i] : T(0);
  });
}

// dx = dy where x > 0, else 0 (the subgradient 0 at x = 0).
template <typename T>
void ReLU<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(input_ != nullptr);
  assert(dy.shape() == input_->shape());
  if (dx == nullptr) return;
  dx->resize(dy.shape());
  const T* X = input_->data();
  const T* dY = dy.data();
  T* dX = dx->data();
  // The lambda copies the pointers and reads dY[i] before the select, so GCC vectorizes
  // the loop. A load inside the condition compiled to a scalar branch per element.
  run_chunked(context, dy.size(), [X, dY, dX](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const T gradient = dY[i];
      dX[i] = X[i] > 0 ? gradient : T(0);
    }
  });
}

// ---------------------------------------------------------------------------------------
// LeakyReLU

template <typename T>
LeakyReLU<T>::LeakyReLU(double alpha) : alpha_(alpha) {
  if (!(alpha >= 0.0 && alpha <= 1.0)) {  // also rejects NaN
    throw Error(fmt::format("leaky_relu \"alpha\" is {}; expected a slope in [0, 1]", alpha));
  }
}

template <typename T>
std::unique_ptr<Layer<T>> LeakyReLU<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "leaky_relu", {"alpha"});
  double alpha = kDefaultAlpha;
  if (config.contains("alpha")) {
    const nlohmann::json& value = config["alpha"];
    if (!value.is_number()) {
      throw Error(fmt::format("leaky_relu \"alpha\" is {}; expected a number in [0, 1]",
                              value.dump().substr(0, 100)));
    }
    alpha = value.get<double>();
  }
  return std::make_unique<LeakyReLU<T>>(alpha);
}

template <typename T>
nlohmann::json LeakyReLU<T>::config() const {
  return {{"type", "leaky_relu"}, {"alpha", alpha_}};
}

template <typename T>
Shape LeakyReLU<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

template <typename T>
void LeakyReLU<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  input_ = &x;
  y.resize(x.shape());
  const T alpha = static_cast<T>(alpha_);
  const T* X = x.data();
  T* Y = y.data();
  run_chunked(context, x.size(), [alpha, X, Y](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) Y[i] = X[i] > 0 ? X[i] : alpha * X[i];
  });
}

// dx = dy where x > 0, else alpha * dy.
template <typename T>
void LeakyReLU<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(input_ != nullptr);
  assert(dy.shape() == input_->shape());
  if (dx == nullptr) return;
  dx->resize(dy.shape());
  const T alpha = static_cast<T>(alpha_);
  const T* X = input_->data();
  const T* dY = dy.data();
  T* dX = dx->data();
  run_chunked(context, dy.size(), [alpha, X, dY, dX](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const T gradient = dY[i];
      dX[i] = X[i] > 0 ? gradient : alpha * gradient;
    }
  });
}

// ---------------------------------------------------------------------------------------
// Tanh

template <typename T>
std::unique_ptr<Layer<T>> Tanh<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "tanh", {});
  return std::make_unique<Tanh<T>>();
}

template <typename T>
nlohmann::json Tanh<T>::config() const {
  return {{"type", "tanh"}};
}

template <typename T>
Shape Tanh<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

template <typename T>
void Tanh<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  y.resize(x.shape());
  const T* X = x.data();
  T* Y = y.data();
  run_chunked(context, x.size(), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) Y[i] = std::tanh(X[i]);
  });
  output_ = y;
}

// dx = dy * (1 - y^2).
template <typename T>
void Tanh<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(dy.shape() == output_.shape());
  if (dx == nullptr) return;
  dx->resize(dy.shape());
  const T* Y = output_.data();
  const T* dY = dy.data();
  T* dX = dx->data();
  run_chunked(context, dy.size(), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) dX[i] = dY[i] * (1 - Y[i] * Y[i]);
  });
}

// ---------------------------------------------------------------------------------------
// Sigmoid

template <typename T>
std::unique_ptr<Layer<T>> Sigmoid<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "sigmoid", {});
  return std::make_unique<Sigmoid<T>>();
}

template <typename T>
nlohmann::json Sigmoid<T>::config() const {
  return {{"type", "sigmoid"}};
}

template <typename T>
Shape Sigmoid<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

// Two branches so that the exponential's argument is never positive and cannot overflow:
// y = 1 / (1 + e^-x) for x >= 0, y = e^x / (1 + e^x) for x < 0.
template <typename T>
void Sigmoid<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  y.resize(x.shape());
  const T* X = x.data();
  T* Y = y.data();
  run_chunked(context, x.size(), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      if (X[i] >= 0) {
        Y[i] = 1 / (1 + std::exp(-X[i]));
      } else {
        const T e = std::exp(X[i]);
        Y[i] = e / (1 + e);
      }
    }
  });
  output_ = y;
}

// dx = dy * y * (1 - y).
template <typename T>
void Sigmoid<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(dy.shape() == output_.shape());
  if (dx == nullptr) return;
  dx->resize(dy.shape());
  const T* Y = output_.data();
  const T* dY = dy.data();
  T* dX = dx->data();
  run_chunked(context, dy.size(), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) dX[i] = dY[i] * Y[i] * (1 - Y[i]);
  });
}

// ---------------------------------------------------------------------------------------
// Softmax

template <typename T>
std::unique_ptr<Layer<T>> Softmax<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "softmax", {});
  return std::make_unique<Softmax<T>>();
}

template <typename T>
nlohmann::json Softmax<T>::config() const {
  return {{"type", "softmax"}};
}

template <typename T>
Shape Softmax<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

// Per row of X (N, D): m = max_k x_k, e_j = exp(x_j - m), y_j = e_j / sum_k e_k.
// Plain loops rather than Eigen reductions, because Eigen vectorises a sum differently
// depending on the row's address, and results must not depend on where a buffer lies.
template <typename T>
void Softmax<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  y.resize(x.shape());
  const int64_t n = x.rows();
  const int64_t d = x.row_size();
  if (d > 0) {
    const int64_t chunk_rows = std::max<int64_t>(1, kActivationChunkElements / d);
    context.pool->run(chunk_count(n, chunk_rows), [&](int64_t chunk) {
      const int64_t first = chunk * chunk_rows;
      const int64_t rows = std::min(chunk_rows, n - first);
      for (int64_t row = first; row < first + rows; ++row) {
        const T* X = x.data() + row * d;
        T* Y = y.data() + row * d;
        const T m = *std::max_element(X, X + d);
        double sum = 0.0;
        for (int64_t j = 0; j < d; ++j) {
          Y[j] = std::exp(X[j] - m);
          sum += Y[j];
        }
        const T inverse_sum = static_cast<T>(1.0 / sum);
        for (int64_t j = 0; j < d; ++j) Y[j] *= inverse_sum;
      }
    });
  }
  output_ = y;
}

// Per row: dx_j = y_j * (dy_j - s) with s = sum_k dy_k y_k, the softmax Jacobian
// diag(y) - y y^T applied to dy.
template <typename T>
void Softmax<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(dy.shape() == output_.shape());
  if (dx == nullptr) return;
  dx->resize(dy.shape());
  const int64_t n = dy.rows();
  const int64_t d = dy.row_size();
  if (d == 0) return;
  const int64_t chunk_rows = std::max<int64_t>(1, kActivationChunkElements / d);
  context.pool->run(chunk_count(n, chunk_rows), [&](int64_t chunk) {
    const int64_t first = chunk * chunk_rows;
    const int64_t rows = std::min(chunk_rows, n - first);
    for (int64_t row = first; row < first + rows; ++row) {
      const T* Y = output_.data() + row * d;
      const T* dY = dy.data() + row * d;
      T* dX = dx->data() + row * d;
      double dot = 0.0;
      for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(dY[j]) * Y[j];
      const T s = static_cast<T>(dot);
      for (int64_t j = 0; j < d; ++j) dX[j] = Y[j] * (dY[j] - s);
    }
  });
}

template class ReLU<float>;
template class ReLU<double>;
template class LeakyReLU<float>;
template class LeakyReLU<double>;
template class Tanh<float>;
template class Tanh<double>;
template class Sigmoid<float>;
template class Sigmoid<double>;
template class Softmax<float>;
template class Softmax<double>;

}  // namespace felis
