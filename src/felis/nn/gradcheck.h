// Gradient check: every layer's backward against central finite differences.
//
// The network runs in float64 on a small batch. Each layer gets a random input. The check
// perturbs the layer's parameters and input one value at a time and reruns the network
// from that layer. It then compares (L(v + h) - L(v - h)) / 2h with the back-propagated
// gradient.
#pragma once

#include "felis/nn/network.h"

#include <string>
#include <vector>

namespace felis {

struct LayerCheck {
  size_t index = 0;
  std::string type;           // the layer's config type, e.g. "conv2d"
  int64_t values_checked = 0;
  double max_relative_error = 0.0;  // |a - n| / max(|a| + |n|, 1e-4) at its worst
  double max_absolute_error = 0.0;
};

struct GradcheckOptions {
  int64_t batch = 4;
  int64_t max_values_per_tensor = 40;  // sampled at random when a tensor has more
  double step = 1e-5;                  // h
  uint64_t seed = 1;
};

// Checks every layer of `network` on a random batch with random labels. Layers are run in
// inference mode when the network has dropout (so the mask is fixed), else training mode.
std::vector<LayerCheck> check_gradients(Network<double>& network, int64_t classes,
                                        const GradcheckOptions& options);

}  // namespace felis
