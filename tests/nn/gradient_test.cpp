// Finite-difference checks of the dense layer and both losses: the analytic gradient of
// the cost with respect to every weight, bias and input must match central differences.
#include "felis/nn/dense.h"
#include "felis/nn/loss.h"
#include "felis/nn/network.h"

#include <gtest/gtest.h>

#include <random>

namespace felis {
namespace {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

struct Problem {
  Network<double> network;
  Tensor<double> x;  // (N, C, H, W)
  std::vector<int32_t> labels;
};

// Two dense layers, so that the first one's input gradient is exercised too.
Problem make_problem(OutputKind output, int64_t classes) {
  std::mt19937_64 rng(7);
  Problem p{Network<double>({1, 2, 3}, output), Tensor<double>({5, 1, 2, 3}), {}};
  auto hidden = std::make_unique<Dense<double>>(6, 4);
  hidden->init_normal(0.5, rng);
  auto last = std::make_unique<Dense<double>>(4, output == OutputKind::sigmoid ? 1 : classes);
  last->init_normal(0.5, rng);
  p.network.add(std::move(hidden));
  p.network.add(std::move(last));
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int64_t i = 0; i < p.x.size(); ++i) p.x[i] = uniform(rng);
  for (int i = 0; i < 5; ++i) p.labels.push_back(static_cast<int32_t>(rng() % classes));
  return p;
}

double cost_of(Problem& p, ThreadPool& pool) {
  const auto& logits = p.network.forward(p.x, {.pool = &pool, .training = true});
  return cross_entropy<double>(p.network.output(), logits, p.labels, nullptr);
}

// Largest |analytic - numeric| over every parameter.
double max_parameter_error(OutputKind output, int64_t classes) {
  Problem p = make_problem(output, classes);
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  Tensor<double> dlogits;
  const auto& logits = p.network.forward(p.x, context);
  cross_entropy(output, logits, p.labels, &dlogits);
  p.network.backward(dlogits, context);

  double worst = 0.0;
  for (auto& parameter : p.network.parameters()) {
    const Tensor<double> analytic = *parameter.gradient;
    for (int64_t i = 0; i < parameter.value->size(); ++i) {
      double& w = (*parameter.value)[i];
      const double saved = w;
      w = saved + kStep;
      const double plus = cost_of(p, pool);
      w = saved - kStep;
      const double minus = cost_of(p, pool);
      w = saved;
      worst = std::max(worst, std::abs(analytic[i] - (plus - minus) / (2 * kStep)));
    }
  }
  return worst;
}

TEST(Gradient, DenseWithBinaryCrossEntropy) {
  EXPECT_LT(max_parameter_error(OutputKind::sigmoid, 2), kTolerance);
}

TEST(Gradient, DenseWithSoftmaxCrossEntropy) {
  EXPECT_LT(max_parameter_error(OutputKind::softmax, 3), kTolerance);
}

TEST(Gradient, DenseInputGradient) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  std::mt19937_64 rng(3);
  Dense<double> dense(4, 3);
  dense.init_normal(1.0, rng);
  Tensor<double> x({2, 4});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = 0.1 * static_cast<double>(i) - 0.3;
  // L = sum of y * r for a fixed r, so dL/dy = r.
  Tensor<double> r({2, 3});
  for (int64_t i = 0; i < r.size(); ++i) r[i] = 0.5 - 0.2 * static_cast<double>(i);
  auto loss = [&] {
    Tensor<double> y;
    dense.forward(x, y, context);
    return y.matrix().cwiseProduct(r.matrix()).sum();
  };
  Tensor<double> y;
  Tensor<double> dx;
  dense.forward(x, y, context);
  dense.backward(r, &dx, context);
  double worst = 0.0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + kStep;
    const double plus = loss();
    x[i] = saved - kStep;
    const double minus = loss();
    x[i] = saved;
    worst = std::max(worst, std::abs(dx[i] - (plus - minus) / (2 * kStep)));
  }
  EXPECT_LT(worst, kTolerance);
}

}  // namespace
}  // namespace felis
