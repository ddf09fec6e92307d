#include "felis/nn/network.h"

#include "felis/error.h"
#include "felis/nn/dense.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

template <typename T>
Network<T>::Network(Shape input_shape, OutputKind output)
    : input_shape_(std::move(input_shape)), output_shape_(input_shape_), output_(output) {}

template <typename T>
void Network<T>::add(std::unique_ptr<Layer<T>> layer) {
  output_shape_ = layer->output_shape(output_shape_);
  layers_.push_back(std::move(layer));
  outputs_.resize(layers_.size());
  gradients_.resize(layers_.size());
}

template <typename T>
const Tensor<T>& Network<T>::forward(const Tensor<T>& x, const PassContext& context) {
  assert(!layers_.empty());
  const Tensor<T>* input = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*input, outputs_[i], context);
    input = &outputs_[i];
  }
  return *input;
}

template <typename T>
void Network<T>::backward(const Tensor<T>& dlogits, const PassContext& context) {
  const Tensor<T>* dy = &dlogits;
  for (size_t i = layers_.size(); i-- > 0;) {
    // The first layer's input gradient is never needed.
    Tensor<T>* dx = i == 0 ? nullptr : &gradients_[i];
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

namespace {

int64_t read_positive(const nlohmann::json& config, const char* key, int64_t max_value) {
  if (!config.contains(key) || !config[key].is_number_integer()) {
    throw Error(fmt::format("layer {} has no integer '{}'", config.dump(), key));
  }
  const auto value = config[key].get<int64_t>();
  if (value < 1 || value > max_value) {
    throw Error(fmt::format("layer {}: '{}' is {}, expected 1 to {}", config.dump(), key, value,
                            max_value));
  }
  return value;
}

}  // namespace

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
      const std::string type = config.at("type");
      if (type != "dense") throw Error(fmt::format("unknown layer type '{}'", type));
      const int64_t inputs = read_positive(config, "inputs", max_parameters);
      const int64_t units = read_positive(config, "units", max_parameters);
      parameters += (inputs + 1) * units;
      if (inputs > max_parameters / units || parameters > max_parameters) {
        throw Error(fmt::format("layer {} needs more than the limit of {} parameters",
                                config.dump(), max_parameters));
      }
      network.add(std::make_unique<Dense<T>>(inputs, units));
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
