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

struct Errors {
  double relative = 0.0;
  double absolute = 0.0;
  int64_t count = 0;

  void add(double analytic, double numeric) {
    const double difference = std::abs(analytic - numeric);
    absolute = std::max(absolute, difference);
    relative = std::max(relative, difference / std::max(std::abs(analytic) + std::abs(numeric), 1e-6));
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

  // Analytic gradients, and a copy of every layer's input for the perturbed reruns.
  Tensor<double> dlogits;
  const auto& logits = network.forward(x, context);
  cross_entropy(network.output(), logits, labels, &dlogits);
  network.backward(dlogits, context, /*input_gradients=*/true);
  std::vector<Tensor<double>> inputs;
  std::vector<Tensor<double>> input_gradients;
  std::vector<std::vector<Tensor<double>>> parameter_gradients;
  for (size_t i = 0; i < network.layer_count(); ++i) {
    inputs.push_back(network.layer_input(i, x));
    input_gradients.push_back(network.input_gradient(i));
    std::vector<Tensor<double>> gradients;
    for (const auto& parameter : network.layer(i).parameters()) gradients.push_back(*parameter.gradient);
    parameter_gradients.push_back(std::move(gradients));
  }
  // NOTE: batch normalization in training mode updates its running statistics on every
  // rerun; they do not enter the training-mode loss, so the check is unaffected.
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

  std::vector<LayerCheck> checks;
  for (size_t i = 0; i < network.layer_count(); ++i) {
    Errors errors;
    auto parameters = network.layer(i).parameters();
    for (size_t p = 0; p < parameters.size(); ++p) {
      Tensor<double>& value = *parameters[p].value;
      for (int64_t index : sample_indices(value.size(), options.max_values_per_tensor, rng)) {
        errors.add(parameter_gradients[i][p][index], numeric(value[index], i, inputs[i]));
      }
    }
    Tensor<double> input = inputs[i];
    for (int64_t index : sample_indices(input.size(), options.max_values_per_tensor, rng)) {
      errors.add(input_gradients[i][index], numeric(input[index], i, input));
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
