#include "felis/nn/optimizer.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <cmath>

namespace felis {

template <typename T>
double apply_l2_penalty(const std::vector<Parameter<T>>& parameters, double lambda, int64_t m) {
  if (lambda == 0.0) return 0.0;
  double sum_of_squares = 0.0;
  for (const auto& parameter : parameters) {
    if (!parameter.decays) continue;
    const auto W = parameter.value->matrix();
    sum_of_squares += W.template cast<double>().squaredNorm();
    parameter.gradient->matrix() += static_cast<T>(lambda / static_cast<double>(m)) * W;
  }
  return lambda / (2.0 * static_cast<double>(m)) * sum_of_squares;
}

template <typename T>
double clip_gradient_norm(const std::vector<Parameter<T>>& parameters, double max_norm) {
  double sum_of_squares = 0.0;
  for (const auto& parameter : parameters) {
    sum_of_squares += parameter.gradient->matrix().template cast<double>().squaredNorm();
  }
  const double norm = std::sqrt(sum_of_squares);
  if (max_norm > 0.0 && norm > max_norm) {
    const T scale = static_cast<T>(max_norm / norm);
    for (const auto& parameter : parameters) parameter.gradient->matrix() *= scale;
  }
  return norm;
}

OptimizerKind optimizer_kind_from_string(const std::string& name) {
  if (name == "sgd") return OptimizerKind::sgd;
  if (name == "momentum") return OptimizerKind::momentum;
  if (name == "rmsprop") return OptimizerKind::rmsprop;
  if (name == "adam") return OptimizerKind::adam;
  throw UsageError(fmt::format("unknown optimizer '{}'; use sgd, momentum, rmsprop or adam", name));
}

std::string to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::momentum: return "momentum";
    case OptimizerKind::rmsprop: return "rmsprop";
    case OptimizerKind::adam: return "adam";
  }
  return "sgd";
}

namespace {

// Gives `state` one zero tensor per parameter, shaped like it, on the first step.
template <typename T>
void ensure_state(std::vector<Tensor<T>>& state, const std::vector<Parameter<T>>& parameters) {
  if (state.size() == parameters.size()) return;
  state.clear();
  for (const auto& parameter : parameters) {
    state.emplace_back(parameter.value->shape());
    state.back().set_zero();
  }
}

// Names each tensor of a state slot "<slot>/<index>".
template <typename T>
void append_slot(std::vector<Buffer<T>>& named, const std::string& slot,
                 std::vector<Tensor<T>>& state) {
  for (size_t i = 0; i < state.size(); ++i) named.push_back({slot + "/" + std::to_string(i), &state[i]});
}

}  // namespace

template <typename T>
void GradientDescent<T>::step(const std::vector<Parameter<T>>& parameters) {
  const T rate = static_cast<T>(this->learning_rate_);
  for (const auto& parameter : parameters) {
    parameter.value->matrix() -= rate * parameter.gradient->matrix();
  }
}

template <typename T>
void Momentum<T>::step(const std::vector<Parameter<T>>& parameters) {
  ensure_state(velocity_, parameters);
  const T rate = static_cast<T>(this->learning_rate_);
  const T beta = static_cast<T>(beta_);
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto v = velocity_[i].matrix();
    v = beta * v + (T(1) - beta) * parameters[i].gradient->matrix();
    parameters[i].value->matrix() -= rate * v;
  }
}

template <typename T>
void RmsProp<T>::step(const std::vector<Parameter<T>>& parameters) {
  ensure_state(square_average_, parameters);
  const T rate = static_cast<T>(this->learning_rate_);
  const T beta2 = static_cast<T>(beta2_);
  const T epsilon = static_cast<T>(epsilon_);
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto g = parameters[i].gradient->matrix().array();
    auto s = square_average_[i].matrix().array();
    s = beta2 * s + (T(1) - beta2) * g.square();
    parameters[i].value->matrix().array() -= rate * g / (s.sqrt() + epsilon);
  }
}

template <typename T>
void Adam<T>::step(const std::vector<Parameter<T>>& parameters) {
  ensure_state(first_moment_, parameters);
  ensure_state(second_moment_, parameters);
  ++steps_;
  const T rate = static_cast<T>(this->learning_rate_);
  const T beta1 = static_cast<T>(beta1_);
  const T beta2 = static_cast<T>(beta2_);
  const T epsilon = static_cast<T>(epsilon_);
  const T correction1 = static_cast<T>(1.0 - std::pow(beta1_, static_cast<double>(steps_)));
  const T correction2 = static_cast<T>(1.0 - std::pow(beta2_, static_cast<double>(steps_)));
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto g = parameters[i].gradient->matrix().array();
    auto v = first_moment_[i].matrix().array();
    auto s = second_moment_[i].matrix().array();
    v = beta1 * v + (T(1) - beta1) * g;
    s = beta2 * s + (T(1) - beta2) * g.square();
    parameters[i].value->matrix().array() -=
        rate * (v / correction1) / ((s / correction2).sqrt() + epsilon);
  }
}

template <typename T>
std::vector<Buffer<T>> Momentum<T>::state(const std::vector<Parameter<T>>& parameters) {
  ensure_state(velocity_, parameters);
  std::vector<Buffer<T>> named;
  append_slot(named, "velocity", velocity_);
  return named;
}

template <typename T>
std::vector<Buffer<T>> RmsProp<T>::state(const std::vector<Parameter<T>>& parameters) {
  ensure_state(square_average_, parameters);
  std::vector<Buffer<T>> named;
  append_slot(named, "square_average", square_average_);
  return named;
}

template <typename T>
std::vector<Buffer<T>> Adam<T>::state(const std::vector<Parameter<T>>& parameters) {
  ensure_state(first_moment_, parameters);
  ensure_state(second_moment_, parameters);
  std::vector<Buffer<T>> named;
  append_slot(named, "first_moment", first_moment_);
  append_slot(named, "second_moment", second_moment_);
  return named;
}

template <typename T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerOptions& options) {
  switch (options.kind) {
    case OptimizerKind::sgd:
      return std::make_unique<GradientDescent<T>>(options.learning_rate);
    case OptimizerKind::momentum:
      return std::make_unique<Momentum<T>>(options.learning_rate, options.momentum);
    case OptimizerKind::rmsprop:
      return std::make_unique<RmsProp<T>>(options.learning_rate, options.beta2, options.epsilon);
    case OptimizerKind::adam:
      return std::make_unique<Adam<T>>(options.learning_rate, options.momentum, options.beta2,
                                       options.epsilon);
  }
  return nullptr;
}

#define FELIS_INSTANTIATE_OPTIMIZERS(T)                                                   \
  template double apply_l2_penalty(const std::vector<Parameter<T>>&, double, int64_t);    \
  template double clip_gradient_norm(const std::vector<Parameter<T>>&, double);           \
  template class GradientDescent<T>;                                                      \
  template class Momentum<T>;                                                             \
  template class RmsProp<T>;                                                              \
  template class Adam<T>;                                                                 \
  template std::unique_ptr<Optimizer<T>> make_optimizer<T>(const OptimizerOptions&);
FELIS_INSTANTIATE_OPTIMIZERS(float)
FELIS_INSTANTIATE_OPTIMIZERS(double)
#undef FELIS_INSTANTIATE_OPTIMIZERS

}  // namespace felis
