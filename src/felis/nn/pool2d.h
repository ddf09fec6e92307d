// MaxPool2d and AvgPool2d: the maximum or the mean of each k x k window of every
// channel, windows s pixels apart, with no padding.
//
// Legend: N samples, C channels, H x W input pixels, k window side, s stride,
// Ho x Wo output pixels with Ho = (H - k) / s + 1 and Wo = (W - k) / s + 1 (integer
// division), so pixels past the last whole window are ignored.
//
//   max: y[n, c, i, j] = max over u, v < k of x[n, c, i*s + u, j*s + v]
//   avg: y[n, c, i, j] = (1 / k^2) * sum over u, v < k of x[n, c, i*s + u, j*s + v]
#pragma once

#include "felis/nn/layer.h"

#include <cstdint>
#include <memory>

namespace felis {

// Bound on kernel and stride that the pooling layers' from_config accepts.
inline constexpr int64_t kMaxPoolKernel = 64;
// Bound on the values C*H*W of one sample that MaxPool2d accepts, so that an index
// within a sample fits its 32-bit argmax cache.
inline constexpr int64_t kMaxMaxPoolSampleSize = INT32_MAX;

template <typename T>
class MaxPool2d final : public Layer<T> {
public:
  // Requires kernel >= 1 and stride >= 1.
  MaxPool2d(int64_t kernel, int64_t stride);

  // Builds the layer that config() describes. Throws felis::Error naming the field when
  // "kernel" or "stride" is missing, not an integer or outside 1 to kMaxPoolKernel.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  // {"type": "maxpool", "kernel", "stride"}.
  nlohmann::json config() const override;

  // (C, Ho, Wo) for a sample (C, H, W). Throws felis::Error when the sample is not 3-D,
  // H or W is smaller than the kernel, or C*H*W exceeds kMaxMaxPoolSampleSize.
  Shape output_shape(const Shape& sample_input) const override;

  // y (N, C, Ho, Wo) from x (N, C, H, W). Caches where each maximum came from. When a
  // window contains its maximum more than once, the first in row-major order wins.
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  // dx (N, C, H, W) gets each dy entry added at its window's maximum, zero elsewhere.
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

  int64_t kernel() const { return kernel_; }
  int64_t stride() const { return stride_; }

private:
  int64_t kernel_;
  int64_t stride_;
  Shape input_shape_;  // (N, C, H, W) of the last forward
  // (N, C, Ho, Wo): for each output, the index of its maximum within the sample's
  // C*H*W values, cached by forward for backward. 32 bits, as wide as a float, so that
  // the 2x2 kernels vectorize.
  std::vector<int32_t> argmax_;
};

template <typename T>
class AvgPool2d final : public Layer<T> {
public:
  // Requires kernel >= 1 and stride >= 1.
  AvgPool2d(int64_t kernel, int64_t stride);

  // As MaxPool2d::from_config.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  // {"type": "avgpool", "kernel", "stride"}.
  nlohmann::json config() const override;

  // As MaxPool2d::output_shape.
  Shape output_shape(const Shape& sample_input) const override;

  // y (N, C, Ho, Wo) from x (N, C, H, W).
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  // dx (N, C, H, W) gets dy / k^2 added at every pixel of each window.
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

  int64_t kernel() const { return kernel_; }
  int64_t stride() const { return stride_; }

private:
  int64_t kernel_;
  int64_t stride_;
  Shape input_shape_;  // (N, C, H, W) of the last forward; backward needs only the shape
};

// Samples per task in the pooling layers' parallel loops. Samples are independent, so
// any split gives the same results; the chunk only sets the task size.
inline constexpr int64_t kPoolChunkSamples = 8;

}  // namespace felis
