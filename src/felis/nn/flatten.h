// Flatten: turns a batch of images into a batch of feature vectors.
//
// Legend: N samples, C channels, H x W pixels.
// (N, C, H, W) becomes (N, C*H*W) in C, H, W order, which is the order Dense reads.
#pragma once

#include "felis/nn/layer.h"

#include <memory>

namespace felis {

template <typename T>
class Flatten final : public Layer<T> {
public:
  // Builds the layer from {"type": "flatten"}; the config has no other fields.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  // {"type": "flatten"}.
  nlohmann::json config() const override;

  // (C*H*W) for a sample (C, H, W), or the element count of any non-empty sample shape.
  // Throws felis::Error when the sample has no dimensions or a dimension below 1.
  Shape output_shape(const Shape& sample_input) const override;

  // y (N, C*H*W) is a copy of x (N, C, H, W): a Layer writes into its own output tensor,
  // so it cannot hand back a view of x. Caches only x's shape for backward.
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  // dx (N, C, H, W) is a copy of dy (N, C*H*W) in x's shape.
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

private:
  Shape input_shape_;  // (N, C, H, W) of the last forward
};

}  // namespace felis
