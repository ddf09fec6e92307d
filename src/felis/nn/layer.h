// Layer: one step of a network, with its forward pass beside its backward pass.
//
// Legend: N samples in the batch, D input features per sample, K outputs per sample.
// A layer receives the whole batch; shapes carry the batch as their first dimension.
#pragma once

#include "felis/tensor/tensor.h"
#include "felis/tensor/thread_pool.h"

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

namespace felis {

// A trainable tensor and the gradient of the loss with respect to it, same shape.
template <typename T>
struct Parameter {
  std::string name;  // unique within the layer: "W", "b"
  Tensor<T>* value;
  Tensor<T>* gradient;
  bool decays;  // whether the L2 penalty applies (weights yes, biases no)
};

// A tensor a layer keeps and saves but does not train, such as batch normalization's
// running mean.
template <typename T>
struct Buffer {
  std::string name;  // unique within the layer, and distinct from its parameters' names
  Tensor<T>* value;
};

// Resources and mode of a forward or backward pass, besides its tensors.
struct PassContext {
  ThreadPool* pool;
  bool training;  // training mode (dropout active, batch statistics) or inference mode
};

template <typename T>
class Layer {
public:
  virtual ~Layer() = default;

  // The layer's entry in a model file's architecture, e.g. {"type": "dense", "units": 1}.
  virtual nlohmann::json config() const = 0;

  // Shape of one sample's output for one sample's input shape (no batch dimension).
  // Throws felis::Error when the input shape does not fit the layer.
  virtual Shape output_shape(const Shape& sample_input) const = 0;

  // y = f(x) for a batch. May keep a pointer to x for backward(); x must outlive it.
  virtual void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) = 0;

  // From dy = dL/dy, sets the parameters' gradients (overwriting them) and, when dx is
  // not null, writes dx = dL/dx. Requires a forward() of the same batch before it.
  virtual void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) = 0;

  virtual std::vector<Parameter<T>> parameters() { return {}; }
  virtual std::vector<Buffer<T>> buffers() { return {}; }
  // The layer's random generator as text, for checkpoints; empty for a layer that draws
  // nothing.
  virtual std::string generator_state() const { return {}; }
  // Restores a state that generator_state() returned. Throws felis::Error for other text.
  virtual void set_generator_state(const std::string& state) { (void)state; }
};

}  // namespace felis
