#include "felis/nn/optimizer.h"

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
void GradientDescent<T>::step(const std::vector<Parameter<T>>& parameters) {
  const T rate = static_cast<T>(learning_rate_);
  for (const auto& parameter : parameters) {
    parameter.value->matrix() -= rate * parameter.gradient->matrix();
  }
}

template double apply_l2_penalty(const std::vector<Parameter<float>>&, double, int64_t);
template double apply_l2_penalty(const std::vector<Parameter<double>>&, double, int64_t);
template class GradientDescent<float>;
template class GradientDescent<double>;

}  // namespace felis
