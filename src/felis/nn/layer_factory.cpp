#include "felis/nn/layer_factory.h"

#include "felis/error.h"
#include "felis/nn/activation.h"
#include "felis/nn/batchnorm.h"
#include "felis/nn/conv2d.h"
#include "felis/nn/dense.h"
#include "felis/nn/dropout.h"
#include "felis/nn/flatten.h"
#include "felis/nn/pool2d.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <functional>
#include <map>

namespace felis {

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const nlohmann::json& config) {
  using Maker = std::function<std::unique_ptr<Layer<T>>(const nlohmann::json&)>;
  static const std::map<std::string, Maker> makers = {
      {"dense", &Dense<T>::from_config},         {"conv2d", &Conv2d<T>::from_config},
      {"maxpool", &MaxPool2d<T>::from_config},   {"avgpool", &AvgPool2d<T>::from_config},
      {"flatten", &Flatten<T>::from_config},     {"relu", &ReLU<T>::from_config},
      {"leaky_relu", &LeakyReLU<T>::from_config}, {"tanh", &Tanh<T>::from_config},
      {"sigmoid", &Sigmoid<T>::from_config},     {"softmax", &Softmax<T>::from_config},
      {"dropout", &Dropout<T>::from_config},     {"batchnorm", &BatchNorm<T>::from_config},
  };
  if (!config.is_object() || !config.contains("type") || !config["type"].is_string()) {
    throw Error(fmt::format("layer {} has no type", config.dump().substr(0, 200)));
  }
  const auto maker = makers.find(config["type"].get<std::string>());
  if (maker == makers.end()) {
    throw Error(fmt::format("unknown layer type '{}'", config["type"].get<std::string>()));
  }
  return maker->second(config);
}

int64_t declared_size(const nlohmann::json& config) {
  auto field = [&](const char* key) -> int64_t {
    if (!config.is_object() || !config.contains(key) || !config[key].is_number_integer()) return 0;
    return std::clamp<int64_t>(config[key].get<int64_t>(), 0, int64_t{1} << 31);
  };
  const std::string type = config.is_object() ? config.value("type", "") : "";
  // Each factor is at most 2^31, so every product below fits in 64 bits but the last.
  auto multiply = [](int64_t a, int64_t b) {
    return (a != 0 && b > INT64_MAX / a) ? INT64_MAX : a * b;
  };
  if (type == "dense") return multiply(field("inputs") + 1, field("units"));
  if (type == "conv2d") {
    const int64_t kernel = field("kernel");
    return multiply(field("out_channels"), multiply(field("in_channels"), kernel * kernel) + 1);
  }
  if (type == "batchnorm") return multiply(4, field("features"));
  return 0;
}

template std::unique_ptr<Layer<float>> make_layer<float>(const nlohmann::json&);
template std::unique_ptr<Layer<double>> make_layer<double>(const nlohmann::json&);

}  // namespace felis
