// Network: a sequence of layers from pixels to logits, plus how logits become
// probabilities (sigmoid or softmax) and the loss that goes with it.
//
// Legend: N samples, C x H x W the input image, K logits per sample.
// Logistic regression is the network [flatten, dense 1] with a sigmoid output; softmax
// regression is [flatten, dense K] with a softmax output.
#pragma once

#include "felis/nn/layer.h"
#include "felis/nn/loss.h"

#include <memory>

namespace felis {

template <typename T>
class Network {
public:
  using Scalar = T;

  // input_shape is one sample's (C, H, W).
  Network(Shape input_shape, OutputKind output);

  // Appends a layer. Throws felis::Error when it does not fit the current output shape.
  void add(std::unique_ptr<Layer<T>> layer);

  // Logits (N, K) for a batch x (N, C, H, W). The returned tensor lives until the next call.
  const Tensor<T>& forward(const Tensor<T>& x, const PassContext& context);

  // Logits for `x` fed to layer `first` instead of the network's input; layers before it
  // are not run. For gradient checks.
  const Tensor<T>& forward_from(size_t first, const Tensor<T>& x, const PassContext& context);

  // Back-propagates dL/dlogits through every layer, setting every parameter's gradient.
  // With `input_gradients`, also keeps dL/d(input of layer i) for every i, see
  // input_gradient(). Requires forward() of the same batch just before.
  // Layers before `first` are left alone, which a forward_from(first, ...) requires.
  void backward(const Tensor<T>& dlogits, const PassContext& context, bool input_gradients = false,
                size_t first = 0);

  // dL/d(input of layer i) from the last backward(..., true), and that input's shape in
  // the last forward().
  const Tensor<T>& input_gradient(size_t i) const { return gradients_.at(i); }
  const Shape& layer_input_shape(size_t i) const { return input_shapes_.at(i); }

  std::vector<Parameter<T>> parameters();
  int64_t parameter_count();

  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }  // one sample's, (K)
  OutputKind output() const { return output_; }
  size_t layer_count() const { return layers_.size(); }
  Layer<T>& layer(size_t i) { return *layers_.at(i); }

  // {"input_shape": [C, H, W], "output": "sigmoid", "layers": [...]}.
  nlohmann::json architecture() const;

  // Builds the layers an architecture() describes, with zero weights. Throws felis::Error
  // on an unknown layer type, a missing field or a shape that does not fit; checks sizes
  // against `max_parameters` before allocating anything.
  static Network from_architecture(const nlohmann::json& architecture, int64_t max_parameters);

private:
  Shape input_shape_;
  Shape output_shape_;
  OutputKind output_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<Tensor<T>> outputs_;    // outputs_[i] is layer i's output for the last batch
  std::vector<Tensor<T>> gradients_;  // scratch for dL/d(input of layer i)
  std::vector<Shape> input_shapes_;   // input_shapes_[i] is layer i's input shape, last batch
  // skipped_[i]: layer i is a flatten before a dense layer, which reads any input as
  // (N, D) anyway, so the batch is not copied.
  std::vector<bool> skipped_;
  // fusable_relu_[i]: layer i is a ReLU after a Conv2d, which a pass starting at or before
  // that conv runs inside the conv (Conv2d::forward_relu), saving a pass over the batch.
  std::vector<bool> fusable_relu_;
  // fusable_pool_[i]: layer i is a MaxPool2d(2, 2) after such a ReLU, which the conv can
  // run too (Conv2d::forward_relu_pool), so the ReLU's output is never written.
  std::vector<bool> fusable_pool_;
  // ran_fused_[i]: the last forward ran ReLU or pool i inside the conv before it.
  std::vector<bool> ran_fused_;
};

}  // namespace felis
