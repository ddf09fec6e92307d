// Builds a layer from the config its config() wrote, as model files store it.
#pragma once

#include "felis/nn/layer.h"

#include <memory>

namespace felis {

// Throws felis::Error for an unknown type or a missing or out-of-range field. The layer's
// parameters start at zero and its buffers at their initial values.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const nlohmann::json& config);

// The number of values a layer config's parameters and buffers take, computed from its
// fields without allocating; 0 for a layer without any or with invalid fields, which
// make_layer then rejects. Saturates at INT64_MAX.
int64_t declared_size(const nlohmann::json& config);

}  // namespace felis
