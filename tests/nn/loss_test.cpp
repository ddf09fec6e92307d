// Hand-computed values of the losses and the probabilities they imply.
#include "felis/nn/loss.h"

#include <gtest/gtest.h>

#include <cmath>

namespace felis {
namespace {

Tensor<double> column(std::vector<double> values) {
  Tensor<double> t({static_cast<int64_t>(values.size()), 1});
  for (size_t i = 0; i < values.size(); ++i) t[static_cast<int64_t>(i)] = values[i];
  return t;
}

TEST(BinaryCrossEntropy, ThreeSamplesByHand) {
  // log(1 + e^0) for (0, y=1), log(1 + e^2) for (2, y=0), log(1 + e^-1) for (-1, y=0).
  const double expected = (std::log(2.0) + std::log1p(std::exp(2.0)) + std::log1p(std::exp(-1.0))) / 3;
  const std::vector<int32_t> labels = {1, 0, 0};
  Tensor<double> dz;
  const double cost = binary_cross_entropy(column({0.0, 2.0, -1.0}), labels, &dz);
  EXPECT_NEAR(cost, 1.0444456263737136, 1e-15);
  EXPECT_NEAR(cost, expected, 1e-15);
  // dz = (sigmoid(z) - y) / 3
  EXPECT_NEAR(dz[0], (0.5 - 1.0) / 3, 1e-15);
  EXPECT_NEAR(dz[1], (1.0 / (1.0 + std::exp(-2.0))) / 3, 1e-15);
  EXPECT_NEAR(dz[2], (1.0 / (1.0 + std::exp(1.0))) / 3, 1e-15);
}

TEST(BinaryCrossEntropy, SaturatedLogitsStayFinite) {
  const std::vector<int32_t> labels = {0, 1, 1, 0};
  Tensor<double> dz;
  const double cost = binary_cross_entropy(column({800.0, -800.0, 800.0, -800.0}), labels, &dz);
  ASSERT_TRUE(std::isfinite(cost));
  EXPECT_DOUBLE_EQ(cost, 400.0);  // two samples cost 800 each, two cost e^-800 ~ 0
  EXPECT_DOUBLE_EQ(dz[0], 0.25);
  EXPECT_DOUBLE_EQ(dz[1], -0.25);
}

TEST(SoftmaxCrossEntropy, TwoSamplesByHand) {
  Tensor<double> z({2, 3});
  const double values[] = {1.0, 2.0, 3.0, 0.0, 0.0, 0.0};
  for (int i = 0; i < 6; ++i) z[i] = values[i];
  const std::vector<int32_t> labels = {2, 0};
  Tensor<double> dz;
  const double cost = softmax_cross_entropy(z, labels, &dz);
  const double log_sum = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(cost, ((log_sum - 3.0) + std::log(3.0)) / 2, 1e-15);
  EXPECT_NEAR(dz[2], (std::exp(3.0 - log_sum) - 1.0) / 2, 1e-15);
  EXPECT_NEAR(dz[3], (1.0 / 3 - 1.0) / 2, 1e-15);
  EXPECT_NEAR(dz[4], (1.0 / 3) / 2, 1e-15);
}

TEST(SoftmaxCrossEntropy, HugeLogitsStayFinite) {
  Tensor<float> z({1, 2});
  z[0] = 1e30f;
  z[1] = -1e30f;
  const std::vector<int32_t> labels = {1};
  EXPECT_TRUE(std::isfinite(softmax_cross_entropy(z, labels, static_cast<Tensor<float>*>(nullptr))));
}

TEST(ClassProbabilities, SigmoidGivesBothClasses) {
  const auto p = class_probabilities(OutputKind::sigmoid, column({0.0, std::log(3.0)}));
  EXPECT_DOUBLE_EQ(p(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(p(0, 1), 0.5);
  EXPECT_NEAR(p(1, 1), 0.75, 1e-15);
  EXPECT_NEAR(p(1, 0), 0.25, 1e-15);
}

}  // namespace
}  // namespace felis
