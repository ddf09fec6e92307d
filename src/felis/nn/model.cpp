#include "felis/nn/model.h"

#include "felis/error.h"
#include "felis/nn/init.h"
#include "felis/nn/layer_factory.h"
#include "felis/nn/model_spec.h"
#include "felis/nn/numpy_random.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

std::string to_string(Precision precision) {
  return precision == Precision::float32 ? "float32" : "float64";
}

Precision precision_from_string(const std::string& name) {
  if (name == "float32" || name == "float") return Precision::float32;
  if (name == "float64" || name == "double") return Precision::float64;
  throw UsageError(fmt::format("unknown precision '{}'; use float32 (or float) or float64 (or "
                               "double)",
                               name));
}

Init init_from_string(const std::string& name) {
  if (name == "auto") return Init::automatic;
  if (name == "zeros") return Init::zeros;
  if (name == "course") return Init::course;
  if (name == "he") return Init::he;
  if (name == "glorot") return Init::glorot;
  throw UsageError(fmt::format("unknown initialization '{}'; use auto, zeros, course, he or "
                               "glorot",
                               name));
}

std::string to_string(Init init) {
  switch (init) {
    case Init::automatic: return "auto";
    case Init::zeros: return "zeros";
    case Init::course: return "course";
    case Init::he: return "he";
    case Init::glorot: return "glorot";
  }
  return "auto";
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

InitKind weight_init(Init init, const std::string& preset) {
  switch (init) {
    case Init::automatic:
      return preset == "logreg" || preset == "softmax" ? InitKind::zeros : InitKind::he;
    case Init::zeros: return InitKind::zeros;
    case Init::course:
      return preset == "course-2layer" ? InitKind::course_small : InitKind::course_scaled;
    case Init::he: return InitKind::he;
    case Init::glorot: return InitKind::glorot;
  }
  return InitKind::zeros;
}

// Builds the layers of `spec` and draws every weight tensor named W, layer by layer, from
// one generator, as the course's notebooks draw W1, W2, ... after np.random.seed(seed).
template <typename T>
Network<T> build_network(const ModelSpec& spec, const Shape& input_shape, InitKind init,
                         uint64_t seed) {
  Network<T> network(input_shape, spec.output);
  NumpyRandom rng(static_cast<uint32_t>(seed));
  bool first_dense_after_flatten = spec.layers.front().value("type", "") == "flatten";
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    nlohmann::json config = spec.layers[i];
    // Each dropout layer draws its masks from the run's seed and its own position.
    if (config.value("type", "") == "dropout") config["seed"] = seed * 1000 + i;
    auto layer = make_layer<T>(config);
    for (auto& parameter : layer->parameters()) {
      if (parameter.name != "W") continue;
      init_weights(*parameter.value, init, rng);
      // The course flattens images as (H, W, C); felis feeds (C, H, W).
      if (init != InitKind::zeros && config.value("type", "") == "dense" &&
          first_dense_after_flatten) {
        permute_columns_hwc_to_chw(*parameter.value, input_shape[0], input_shape[1],
                                   input_shape[2]);
      }
    }
    if (config.value("type", "") == "dense") first_dense_after_flatten = false;
    network.add(std::move(layer));
  }
  return network;
}

}  // namespace

Model build_model(const ModelOptions& options, const Shape& input_shape,
                  const std::vector<std::string>& class_names) {
  const auto classes = static_cast<int64_t>(class_names.size());
  const ModelSpec spec = resolve_model_spec(options.preset, input_shape, classes);
  if (options.seed > UINT32_MAX) {
    throw UsageError(fmt::format("--seed {} is larger than numpy's limit of 2^32 - 1",
                                 options.seed));
  }
  const InitKind init = weight_init(options.init, spec.name);
  Model::Networks network =
      options.precision == Precision::float32
          ? Model::Networks(build_network<float>(spec, input_shape, init, options.seed))
          : Model::Networks(build_network<double>(spec, input_shape, init, options.seed));
  return Model(std::move(network), spec.name, class_names);
}

}  // namespace felis
