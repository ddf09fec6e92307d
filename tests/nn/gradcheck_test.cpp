// The gradient check over networks that hold every layer type, in both output kinds.
#include "felis/nn/gradcheck.h"
#include "felis/nn/model.h"

#include <gtest/gtest.h>

namespace felis {
namespace {

void expect_gradients_pass(const std::string& spec, int classes) {
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) names.push_back(std::to_string(c));
  Model model = build_model({.preset = spec, .precision = Precision::float64, .init = Init::he},
                            {3, 10, 10}, names);
  model.visit([&](auto& network) {
    using T = typename std::remove_reference_t<decltype(network)>::Scalar;
    if constexpr (std::is_same_v<T, double>) {
      for (const LayerCheck& check : check_gradients(network, classes, {})) {
        EXPECT_LT(check.max_relative_error, 1e-6)
            << "layer " << check.index + 1 << " (" << check.type << ") of " << spec;
        EXPECT_GT(check.values_checked, 0);
      }
    }
  });
}

TEST(Gradcheck, EveryLayerTypeSoftmaxOutput) {
  expect_gradients_pass(
      "conv:4:3:p=1:s=2, batchnorm, leaky_relu, avgpool:2, dropout:0.3, conv:3:1, relu, "
      "maxpool:2:s=1, flatten, dense:5, tanh, dense:6, batchnorm, sigmoid, dense:3, softmax",
      3);
}

TEST(Gradcheck, PresetsWithSigmoidOutput) {
  for (const char* preset : {"cnn", "hier3", "hier4", "course-4layer"}) {
    expect_gradients_pass(preset, 2);
  }
}

}  // namespace
}  // namespace felis
