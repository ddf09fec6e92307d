#include "felis/nn/network.h"

#include "felis/error.h"
#include "felis/nn/conv2d.h"
#include "felis/nn/layer_factory.h"

#include <spdlog/fmt/fmt.h>

namespace felis {
namespace {

// dx = dy where y > 0, else 0: ReLU's backward pass from its output y = max(x, 0), which
// is positive exactly where x is.
template <typename T>
void relu_backward_from_output(const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx) {
  assert(y.shape() == dy.shape());
  dx.resize(dy.shape());
  for (int64_t i = 0; i < dy.size(); ++i) {
    const T gradient = dy[i];
    dx[i] = y[i] > 0 ? gradient : T(0);
  }
}

}  // namespace

template <typename T>
Network<T>::Network(Shape input_shape, OutputKind output)
    : input_shape_(std::move(input_shape)), output_shape_(input_shape_), output_(output) {}

template <typename T>
void Network<T>::add(std::unique_ptr<Layer<T>> layer) {
  output_shape_ = layer->output_shape(output_shape_);
  const std::string type = layer->config().value("type", "");
  if (type == "dense" && !layers_.empty() && layers_.back()->config().value("type", "") == "flatten") {
    skipped_.back() = true;
  }
  const bool after_conv = !layers_.empty() && dynamic_cast<Conv2d<T>*>(layers_.back().get());
  const bool after_fusable_relu = !fusable_relu_.empty() && fusable_relu_.back();
  const nlohmann::json config = layer->config();
  const bool pool_2x2 = type == "maxpool" && config.value("kernel", 0) == 2 &&
                        config.value("stride", 0) == 2;
  layers_.push_back(std::move(layer));
  skipped_.push_back(false);
  fusable_relu_.push_back(type == "relu" && after_conv);
  fusable_pool_.push_back(pool_2x2 && after_fusable_relu);
  ran_fused_.push_back(false);
  outputs_.resize(layers_.size());
  gradients_.resize(layers_.size());
  input_shapes_.resize(layers_.size());
}

template <typename T>
const Tensor<T>& Network<T>::forward(const Tensor<T>& x, const PassContext& context) {
  return forward_from(0, x, context);
}

template <typename T>
const Tensor<T>& Network<T>::forward_from(size_t first, const Tensor<T>& x,
                                          const PassContext& context) {
  assert(first < layers_.size());
  const Tensor<T>* input = &x;
  std::fill(ran_fused_.begin(), ran_fused_.end(), false);
  for (size_t i = first; i < layers_.size(); ++i) {
    input_shapes_[i] = input->shape();
    if (skipped_[i]) continue;
    if (i + 2 < layers_.size() && fusable_relu_[i + 1] && fusable_pool_[i + 2]) {
      // The conv writes the pool's output; outputs_[i] and outputs_[i + 1] stay unused.
      auto& conv = static_cast<Conv2d<T>&>(*layers_[i]);
      if (conv.forward_relu_pool(*input, outputs_[i + 2], context)) {
        Shape conv_output = conv.output_shape({input->dim(1), input->dim(2), input->dim(3)});
        conv_output.insert(conv_output.begin(), input->dim(0));
        input_shapes_[i + 1] = conv_output;
        input_shapes_[i + 2] = conv_output;
        ran_fused_[i + 1] = true;
        ran_fused_[i + 2] = true;
        input = &outputs_[i + 2];
        i += 2;
        continue;
      }
    }
    if (i + 1 < layers_.size() && fusable_relu_[i + 1]) {
      // The conv writes the ReLU's output; outputs_[i] stays unused.
      static_cast<Conv2d<T>&>(*layers_[i]).forward_relu(*input, outputs_[i + 1], context);
      ran_fused_[i + 1] = true;
      input_shapes_[i + 1] = outputs_[i + 1].shape();
      input = &outputs_[i + 1];
      ++i;
      continue;
    }
    layers_[i]->forward(*input, outputs_[i], context);
    input = &outputs_[i];
  }
  return *input;
}

template <typename T>
void Network<T>::backward(const Tensor<T>& dlogits, const PassContext& context,
                          bool input_gradients, size_t first) {
  const Tensor<T>* dy = &dlogits;
  for (size_t i = layers_.size(); i-- > first;) {
    if (skipped_[i]) {
      // dy is the next dense layer's dx; give it the shape flatten received.
      if (i > 0 || input_gradients) gradients_[i + 1].reshape(input_shapes_[i]);
      if (input_gradients) gradients_[i] = gradients_[i + 1];
      continue;
    }
    // The network's input gradient is not needed in training, nor is the gradient at a
    // skipped flatten that comes first.
    const bool needs_dx = input_gradients || (i > 0 && !(i == 1 && skipped_[0]));
    Tensor<T>* dx = needs_dx ? &gradients_[i] : nullptr;
    if (ran_fused_[i] && fusable_pool_[i]) {
      auto& conv = static_cast<Conv2d<T>&>(*layers_[i - 2]);
      if (input_gradients || i - 2 < first) {
        // Every layer's input gradient is kept, so the pool and the ReLU run their own
        // backward passes, from the ReLU output that the conv writes now. The pool's
        // forward sets what its backward reads and recomputes the same output bits.
        conv.relu_output(outputs_[i - 1], context);
        layers_[i]->forward(outputs_[i - 1], outputs_[i], context);
        layers_[i]->backward(*dy, dx, context);
        dy = dx;
        continue;
      }
      const size_t c = i - 2;
      const bool conv_needs_dx = c > 0 && !(c == 1 && skipped_[0]);
      conv.backward_relu_pool(*dy, conv_needs_dx ? &gradients_[c] : nullptr, context);
      dy = &gradients_[c];
      i = c;
      continue;
    }
    if (ran_fused_[i]) {
      // The ReLU ran inside the conv before it. Its own backward would read an input it
      // never got, so the gradient is masked here by its output, as ReLU::backward does,
      // unless the conv can take the ReLU's gradient and mask it on the way.
      if (input_gradients || i == first) {
        relu_backward_from_output(outputs_[i], *dy, gradients_[i]);
        dy = &gradients_[i];
        continue;
      }
      auto& conv = static_cast<Conv2d<T>&>(*layers_[i - 1]);
      const bool conv_needs_dx = i - 1 > 0 && !(i - 1 == 1 && skipped_[0]);
      conv.backward_relu(*dy, conv_needs_dx ? &gradients_[i - 1] : nullptr, context);
      dy = &gradients_[i - 1];
      --i;
      continue;
    }
    layers_[i]->backward(*dy, dx, context);
    dy = dx;
  }
}

template <typename T>
std::vector<Parameter<T>> Network<T>::parameters() {
  std::vector<Parameter<T>> all;
  for (auto& layer : layers_) {
    for (auto& parameter : layer->parameters()) all.push_back(parameter);
  }
  return all;
}

template <typename T>
int64_t Network<T>::parameter_count() {
  int64_t count = 0;
  for (auto& parameter : parameters()) count += parameter.value->size();
  return count;
}

template <typename T>
nlohmann::json Network<T>::architecture() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : layers_) layers.push_back(layer->config());
  return {{"input_shape", input_shape_}, {"output", to_string(output_)}, {"layers", layers}};
}

template <typename T>
Network<T> Network<T>::from_architecture(const nlohmann::json& architecture,
                                         int64_t max_parameters) {
  try {
    auto input_shape = architecture.at("input_shape").get<Shape>();
    if (input_shape.size() != 3) throw Error("input_shape must be [C, H, W]");
    if (input_shape[0] != 1 && input_shape[0] != 3) {
      throw Error(fmt::format("input_shape has {} channels; expected 1 or 3", input_shape[0]));
    }
    for (int64_t side : {input_shape[1], input_shape[2]}) {
      if (side < 1 || side > 65536) {
        throw Error(fmt::format("input side {} is outside 1 to 65536", side));
      }
    }
    Network network(input_shape, output_kind_from_string(architecture.at("output")));
    int64_t parameters = 0;
    for (const auto& config : architecture.at("layers")) {
      // The sizes are bounded before anything is allocated; make_layer checks the rest.
      const int64_t size = declared_size(config);
      if (size > max_parameters - parameters) {
        throw Error(fmt::format("layer {} needs more than the limit of {} values",
                                config.dump().substr(0, 200), max_parameters));
      }
      parameters += size;
      network.add(make_layer<T>(config));
    }
    if (network.layer_count() == 0) throw Error("the architecture has no layers");
    return network;
  } catch (const nlohmann::json::exception&) {
    throw Error(fmt::format("invalid architecture {}; expected {{\"input_shape\": [C, H, W], "
                            "\"output\": ..., \"layers\": [...]}}",
                            architecture.dump().substr(0, 200)));
  }
}

template class Network<float>;
template class Network<double>;

}  // namespace felis
