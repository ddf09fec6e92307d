#include "felis/nn/model.h"

#include "felis/error.h"
#include "felis/nn/dense.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

std::string to_string(Precision precision) {
  return precision == Precision::float32 ? "float32" : "float64";
}

Precision precision_from_string(const std::string& name) {
  if (name == "float32") return Precision::float32;
  if (name == "float64") return Precision::float64;
  throw UsageError(fmt::format("unknown precision '{}'; use float32 or float64", name));
}

Init init_from_string(const std::string& name) {
  if (name == "zeros") return Init::zeros;
  if (name == "normal") return Init::normal;
  throw UsageError(fmt::format("unknown initialization '{}'; use zeros or normal", name));
}

const std::vector<std::pair<std::string, std::string>>& model_presets() {
  static const std::vector<std::pair<std::string, std::string>> presets = {
      {"logreg", "binary logistic regression: dense 1, sigmoid (2 classes)"},
      {"softmax", "softmax regression: dense K, softmax (any number of classes)"},
  };
  return presets;
}

Model::Model(Networks network, std::string name, std::vector<std::string> class_names)
    : network_(std::move(network)), name_(std::move(name)), class_names_(std::move(class_names)) {}

Precision Model::precision() const {
  return std::holds_alternative<Network<float>>(network_) ? Precision::float32
                                                          : Precision::float64;
}

const Shape& Model::input_shape() const {
  return std::visit([](const auto& network) -> const Shape& { return network.input_shape(); },
                    network_);
}

nlohmann::json Model::architecture() const {
  return std::visit([](const auto& network) { return network.architecture(); }, network_);
}

int64_t Model::parameter_count() {
  return visit([](auto& network) { return network.parameter_count(); });
}

namespace {

template <typename T>
Network<T> build_network(const ModelOptions& options, const Shape& input_shape, int64_t classes) {
  const int64_t inputs = element_count(input_shape);
  const bool binary = options.preset == "logreg";
  Network<T> network(input_shape, binary ? OutputKind::sigmoid : OutputKind::softmax);
  auto dense = std::make_unique<Dense<T>>(inputs, binary ? 1 : classes);
  if (options.init == Init::normal) {
    std::mt19937_64 rng(options.seed);
    dense->init_normal(options.init_stddev, rng);
  }
  network.add(std::move(dense));
  return network;
}

}  // namespace

Model build_model(const ModelOptions& options, const Shape& input_shape,
                  const std::vector<std::string>& class_names) {
  const auto classes = static_cast<int64_t>(class_names.size());
  if (options.preset != "logreg" && options.preset != "softmax") {
    throw UsageError(fmt::format("unknown model '{}'; use logreg or softmax", options.preset));
  }
  if (options.preset == "logreg" && classes != 2) {
    throw UsageError(fmt::format("logreg is binary but the data set has {} classes; "
                                 "use --model softmax",
                                 classes));
  }
  Model::Networks network = options.precision == Precision::float32
                                ? Model::Networks(build_network<float>(options, input_shape, classes))
                                : Model::Networks(build_network<double>(options, input_shape, classes));
  return Model(std::move(network), options.preset, class_names);
}

}  // namespace felis
