// Activations: the element-wise layers ReLU, LeakyReLU, Tanh and Sigmoid, and Softmax
// over each sample's features.
//
// Legend: N samples, D features per sample (the product of a sample's dimensions).
// Every layer here takes any input shape and returns an output of the same shape.
// Softmax reads a (N, C, H, W) batch as (N, D) with D = C*H*W, in C, H, W order, as
// Dense does. None of them has parameters.
#pragma once

#include "felis/nn/layer.h"

#include <memory>

namespace felis {

// y = max(x, 0). Config: {"type": "relu"}.
template <typename T>
class ReLU final : public Layer<T> {
public:
  // Throws felis::Error unless config is {"type": "relu"}.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

private:
  const Tensor<T>* input_ = nullptr;  // x (N, ...), cached by forward for backward
};

// y = x for x > 0, alpha * x otherwise. Config: {"type": "leaky_relu", "alpha": 0.01}.
template <typename T>
class LeakyReLU final : public Layer<T> {
public:
  static constexpr double kDefaultAlpha = 0.01;

  // Throws felis::Error unless 0 <= alpha <= 1.
  explicit LeakyReLU(double alpha = kDefaultAlpha);

  // "alpha" is optional (default 0.01). Throws felis::Error naming the field and its
  // valid range when the config is invalid.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

  double alpha() const { return alpha_; }

private:
  double alpha_;  // slope for x <= 0, in [0, 1]
  const Tensor<T>* input_ = nullptr;  // x (N, ...), cached by forward for backward
};

// y = tanh(x). Config: {"type": "tanh"}.
template <typename T>
class Tanh final : public Layer<T> {
public:
  // Throws felis::Error unless config is {"type": "tanh"}.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

private:
  Tensor<T> output_;  // y (N, ...), copied by forward for backward
};

// y = 1 / (1 + e^-x), finite for every finite x. Config: {"type": "sigmoid"}.
template <typename T>
class Sigmoid final : public Layer<T> {
public:
  // Throws felis::Error unless config is {"type": "sigmoid"}.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

private:
  Tensor<T> output_;  // y (N, ...), copied by forward for backward
};

// y_j = e^(x_j - m) / sum_k e^(x_k - m) over the D features of each sample, where m is the
// sample's maximum, so that no exponential overflows. Config: {"type": "softmax"}.
template <typename T>
class Softmax final : public Layer<T> {
public:
  // Throws felis::Error unless config is {"type": "softmax"}.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

private:
  Tensor<T> output_;  // y (N, D), copied by forward for backward
};

// Elements per task in the activations' parallel loops. Softmax rounds it down to whole
// rows, at least one. Each output element depends on its own sample only, so the chunk
// size changes the speed, never the result.
// NOTE: 16384 (64 KiB of float) is a guess, not a measurement.
inline constexpr int64_t kActivationChunkElements = 16384;

}  // namespace felis
