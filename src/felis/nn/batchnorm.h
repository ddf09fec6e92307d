// BatchNorm: batch normalization of each feature, or of each channel of an image batch.
//
// Legend: N samples, F features (channels for images), H x W pixels, and S = H*W values of
// a feature per sample (S = 1 for a (N, F) batch). Every dimension after F counts into S.
//
// Per feature, over its m = N*S values x in the batch (training mode):
//   mean = sum(x) / m,  var = sum((x - mean)^2) / m            (biased: used to normalise)
//   x_hat = (x - mean) / sqrt(var + epsilon),  y = gamma * x_hat + beta
//   running_mean = momentum * running_mean + (1 - momentum) * mean
//   running_var  = momentum * running_var + (1 - momentum) * var * m / (m - 1)   (unbiased)
// The running variance takes the unbiased estimate, as PyTorch's BatchNorm does.
// Inference mode normalises with running_mean and running_var instead and updates nothing.
#pragma once

#include "felis/nn/layer.h"

#include <memory>

namespace felis {

struct BatchNormOptions {
  // Weight of the old running statistics in each update, in [0, 1]. PyTorch's
  // BatchNorm momentum weights the new batch instead, so its default 0.1 is this 0.9.
  double momentum = 0.9;
  // Added to the variance before the square root, so that a constant feature does not
  // divide by zero. Must be positive.
  double epsilon = 1e-5;
};

// Config: {"type": "batchnorm", "features": F, "momentum": 0.9, "epsilon": 1e-5}.
// Parameters: gamma (F) starting at 1 and beta (F) starting at 0, neither under L2 decay.
// Buffers: running_mean (F) starting at 0 and running_var (F) starting at 1.
template <typename T>
class BatchNorm final : public Layer<T> {
public:
  // Throws felis::Error unless 1 <= features <= 2^30, 0 <= momentum <= 1 and epsilon > 0.
  explicit BatchNorm(int64_t features, BatchNormOptions options = {});

  // "features" is required, "momentum" and "epsilon" are optional with the defaults above.
  // Throws felis::Error naming the field and its valid range when the config is invalid.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;

  // Returns sample_input. Throws felis::Error unless it is (F) or (F, ...), e.g. (F, H, W).
  Shape output_shape(const Shape& sample_input) const override;

  // Requires x of shape (N, F, ...). A training batch with a single value per feature
  // (m = 1, as for one (F) sample) has no unbiased variance, so it is normalised with its
  // own statistics (y = beta) and the running statistics are left unchanged.
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;

  // Differentiates through the batch mean and variance after a training forward, and
  // through the fixed affine map y = gamma * x_hat + beta after an inference forward.
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

  std::vector<Parameter<T>> parameters() override;
  std::vector<Buffer<T>> buffers() override;

  int64_t features() const { return gamma_.dim(0); }
  const BatchNormOptions& options() const { return options_; }

private:
  BatchNormOptions options_;
  Tensor<T> gamma_;          // (F)
  Tensor<T> beta_;           // (F)
  Tensor<T> gamma_grad_;     // dgamma (F)
  Tensor<T> beta_grad_;      // dbeta (F)
  Tensor<T> running_mean_;   // (F)
  Tensor<T> running_var_;    // (F)
  Tensor<T> normalized_;     // x_hat (N, F, ...), cached by forward for backward
  Tensor<T> inverse_std_;    // 1 / sqrt(var + epsilon) (F), cached by forward for backward
  bool batch_statistics_ = false;  // whether the last forward normalised with batch statistics
};

}  // namespace felis
