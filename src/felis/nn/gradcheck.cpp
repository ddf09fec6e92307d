#include "felis/nn/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace felis {

namespace {

// Up to `limit` distinct indices of [0, size), in a seeded random order.
std::vector<int64_t> sample_indices(int64_t size, int64_t limit, std::mt19937_64& rng) {
  std::vector<int64_t> indices(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) indices[static_cast<size_t>(i)] = i;
  std::shuffle(indices.begin(), indices.end(), rng);
  if (size > limit) indices.resize(static_cast<size_t>(limit));
  return indices;
}

// Below this, |a| + |n| is dominated by the rounding of the finite difference, about
// 1e-16 * L / h = 1e-11 for a loss near 1 and h = 1e-5, so the relative error uses it instead.
constexpr double kFloor = 1e-4;

struct Errors {
  double relative = 0.0;
  double absolute = 0.0;
  int64_t count = 0;

  void add(double analytic, double numeric) {
    const double difference = std::abs(analytic - numeric);
    absolute = std::max(absolute, difference);
    relative = std::max(relative, difference / std::max(std::abs(analytic) + std::abs(numeric), kFloor));
    ++count;
  }
};

}  // namespace

std::vector<LayerCheck> check_gradients(Network<double>& network, int64_t classes,
                                        const GradcheckOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Shape shape = network.input_shape();
  shape.insert(shape.begin(), options.batch);
  Tensor<double> x(shape);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = uniform(rng);
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < options.batch; ++i) labels.push_back(static_cast<int32_t>(rng() % classes));

  bool has_dropout = false;
  for (size_t i = 0; i < network.layer_count(); ++i) {
    has_dropout = has_dropout || network.layer(i).config().value("type", "") == "dropout";
  }
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = !has_dropout};

  // Each layer is checked on its own random input, so that no input sits on a kink of
  // ReLU or a tie of max pooling, as the zeros a ReLU outputs would.
  network.forward(x, context);
  auto loss_from = [&](size_t layer, const Tensor<double>& input) {
    const auto& z = network.forward_from(layer, input, context);
    return cross_entropy<double>(network.output(), z, labels, nullptr);
  };
  auto numeric = [&](double& value, size_t layer, const Tensor<double>& input) {
    const double saved = value;
    value = saved + options.step;
    const double plus = loss_from(layer, input);
    value = saved - options.step;
    const double minus = loss_from(layer, input);
    value = saved;
    return (plus - minus) / (2 * options.step);
  };

  std::uniform_real_distribution<double> symmetric(-1.0, 1.0);
  std::vector<LayerCheck> checks;
  for (size_t i = 0; i < network.layer_count(); ++i) {
    Tensor<double> input(network.layer_input_shape(i));
    for (int64_t k = 0; k < input.size(); ++k) input[k] = symmetric(rng);

    // Analytic gradients at this input.
    Tensor<double> dlogits;
    cross_entropy(network.output(), network.forward_from(i, input, context), labels, &dlogits);
    network.backward(dlogits, context, /*input_gradients=*/true, /*first=*/i);
    const Tensor<double> input_gradient = network.input_gradient(i);
    std::vector<Tensor<double>> parameter_gradients;
    auto parameters = network.layer(i).parameters();
    for (const auto& parameter : parameters) parameter_gradients.push_back(*parameter.gradient);

    Errors errors;
    for (size_t p = 0; p < parameters.size(); ++p) {
      Tensor<double>& value = *parameters[p].value;
      for (int64_t index : sample_indices(value.size(), options.max_values_per_tensor, rng)) {
        errors.add(parameter_gradients[p][index], numeric(value[index], i, input));
      }
    }
    for (int64_t index : sample_indices(input.size(), options.max_values_per_tensor, rng)) {
      errors.add(input_gradient[index], numeric(input[index], i, input));
    }
    checks.push_back({.index = i,
                      .type = network.layer(i).config().value("type", ""),
                      .values_checked = errors.count,
                      .max_relative_error = errors.relative,
                      .max_absolute_error = errors.absolute});
  }
  return checks;
}

}  // namespace felis
