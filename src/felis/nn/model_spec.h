// Model specs: presets and compact architecture strings, turned into layer configs.
//
// A spec string lists layers separated by commas, for example
//   conv:16:3:p=1, relu, maxpool:2, flatten, dense:1
// Layer tokens (square kernels; s= stride, p= zero padding):
//   dense:K   conv:F:k[:s=S][:p=P]   maxpool:k[:s=S]   avgpool:k[:s=S]   flatten
//   relu   leaky_relu[:alpha]   tanh   sigmoid   softmax   dropout:rate   batchnorm
// The input's channels and size come from the data set. The last layer must be a dense
// layer of 1 unit (binary, sigmoid output) or of K units for K classes (softmax output);
// a trailing `sigmoid` or `softmax` token after it only restates that output.
#pragma once

#include "felis/nn/loss.h"
#include "felis/tensor/tensor.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace felis {

struct ModelSpec {
  std::string name;                     // the preset's name, or "custom"
  std::string text;                     // the spec string
  std::vector<nlohmann::json> layers;   // one config per layer, shapes filled in
  OutputKind output = OutputKind::sigmoid;
};

// The presets and a line of help for each.
const std::vector<std::pair<std::string, std::string>>& model_presets();

// Resolves a preset name or a spec string for inputs of `input_shape` (C, H, W) and
// `classes` classes. Throws felis::UsageError naming the token or the layer, and the
// shape it got, when the spec is invalid or does not fit the input.
ModelSpec resolve_model_spec(const std::string& preset_or_spec, const Shape& input_shape,
                             int64_t classes);

}  // namespace felis
