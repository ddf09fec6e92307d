// Optimizer steps computed by hand.
#include "felis/error.h"
#include "felis/nn/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace felis {
namespace {

struct OneParameter {
  Tensor<double> value{Shape{1, 2}};
  Tensor<double> gradient{Shape{1, 2}};
  std::vector<Parameter<double>> list() { return {{"W", &value, &gradient, true}}; }
};

TEST(Optimizer, AdamFirstStepsByHand) {
  OneParameter p;
  p.value[0] = 1.0;
  p.value[1] = -1.0;
  p.gradient[0] = 0.5;
  p.gradient[1] = -2.0;
  Adam<double> adam(0.1, 0.9, 0.999, 1e-8);
  adam.step(p.list());
  // Step 1: v / (1 - 0.9) = g and s / (1 - 0.999) = g^2, so the step is lr * g / (|g| + eps).
  EXPECT_NEAR(p.value[0], 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-15);
  EXPECT_NEAR(p.value[1], -1.0 + 0.1 * 2.0 / (2.0 + 1e-8), 1e-15);
  // Step 2 with gradient 0: v = 0.9 * 0.1 g, s = 0.999 * 0.001 g^2.
  p.gradient[0] = 0.0;
  adam.step(p.list());
  const double v = 0.9 * 0.1 * 0.5 / (1 - 0.81);
  const double s = 0.999 * 0.001 * 0.25 / (1 - 0.999 * 0.999);
  EXPECT_NEAR(p.value[0], 1.0 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * v / (std::sqrt(s) + 1e-8), 1e-12);
}

TEST(Optimizer, MomentumAndRmsPropByHand) {
  OneParameter p;
  p.value[0] = 1.0;
  p.gradient[0] = 2.0;
  Momentum<double> momentum(0.5, 0.9);
  momentum.step(p.list());
  EXPECT_NEAR(p.value[0], 1.0 - 0.5 * 0.1 * 2.0, 1e-15);  // v = 0.1 g
  momentum.step(p.list());
  EXPECT_NEAR(p.value[0], 0.9 - 0.5 * (0.9 * 0.2 + 0.2), 1e-15);  // v = 0.9 v + 0.1 g

  OneParameter q;
  q.value[0] = 1.0;
  q.gradient[0] = 2.0;
  RmsProp<double> rmsprop(0.01, 0.99, 1e-8);
  rmsprop.step(q.list());
  EXPECT_NEAR(q.value[0], 1.0 - 0.01 * 2.0 / (std::sqrt(0.01 * 4.0) + 1e-8), 1e-15);
}

TEST(Optimizer, ClipsGlobalNorm) {
  OneParameter p;
  p.gradient[0] = 3.0;
  p.gradient[1] = 4.0;
  EXPECT_DOUBLE_EQ(clip_gradient_norm(p.list(), 10.0), 5.0);
  EXPECT_DOUBLE_EQ(p.gradient[0], 3.0);  // under the limit: untouched
  EXPECT_DOUBLE_EQ(clip_gradient_norm(p.list(), 1.0), 5.0);
  EXPECT_DOUBLE_EQ(p.gradient[0], 0.6);
  EXPECT_DOUBLE_EQ(p.gradient[1], 0.8);
}

TEST(Optimizer, RejectsUnknownName) {
  EXPECT_THROW(optimizer_kind_from_string("adagrad"), UsageError);
  EXPECT_EQ(optimizer_kind_from_string("adam"), OptimizerKind::adam);
}

}  // namespace
}  // namespace felis
