#include "felis/train/train_state.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

template <typename T>
void capture_state(Network<T>& network, Optimizer<T>& optimizer,
                   const std::vector<Parameter<T>>& parameters, TrainState& state) {
  state.learning_rate = optimizer.learning_rate();
  state.optimizer_steps = optimizer.step_count();
  state.optimizer.clear();
  for (const auto& tensor : optimizer.state(parameters)) {
    state.optimizer.emplace_back(tensor.name,
                                 std::vector<double>(tensor.value->data(),
                                                     tensor.value->data() + tensor.value->size()));
  }
  state.generators.clear();
  for (size_t i = 0; i < network.layer_count(); ++i) {
    state.generators.push_back(network.layer(i).generator_state());
  }
}

template <typename T>
void restore_state(const TrainState& state, Network<T>& network, Optimizer<T>& optimizer,
                   const std::vector<Parameter<T>>& parameters) {
  const auto tensors = optimizer.state(parameters);
  if (tensors.size() != state.optimizer.size()) {
    throw Error(fmt::format("the checkpoint has {} optimizer tensors and this optimizer {}; "
                            "resume with the optimizer that wrote it",
                            state.optimizer.size(), tensors.size()));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, values] = state.optimizer[i];
    if (name != tensors[i].name || static_cast<int64_t>(values.size()) != tensors[i].value->size()) {
      throw Error(fmt::format("the checkpoint's optimizer tensor {} ({} values) does not fit "
                              "{} ({} values); resume with the model and optimizer that wrote it",
                              name, values.size(), tensors[i].name, tensors[i].value->size()));
    }
  }
  if (state.generators.size() != network.layer_count()) {
    throw Error(fmt::format("the checkpoint has generators for {} layers and the model has {}",
                            state.generators.size(), network.layer_count()));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& values = state.optimizer[i].second;
    T* out = tensors[i].value->data();
    for (size_t k = 0; k < values.size(); ++k) out[k] = static_cast<T>(values[k]);
  }
  for (size_t i = 0; i < network.layer_count(); ++i) {
    if (!state.generators[i].empty()) network.layer(i).set_generator_state(state.generators[i]);
  }
  optimizer.set_learning_rate(state.learning_rate);
  optimizer.set_step_count(state.optimizer_steps);
}

template <typename T>
void check_finite_gradients(const std::vector<Parameter<T>>& parameters, int64_t step,
                            double learning_rate) {
  for (const auto& parameter : parameters) {
    if (parameter.gradient->matrix().allFinite()) continue;
    throw DivergenceError(fmt::format(
        "the gradient of {} became NaN or infinite at iteration {} with learning rate {}; no "
        "model was written; try a learning rate 100 times smaller, {}",
        parameter.name, step, learning_rate, learning_rate / 100));
  }
}

template <typename T>
bool parameters_finite(const std::vector<Parameter<T>>& parameters) {
  for (const auto& parameter : parameters) {
    if (!parameter.value->matrix().allFinite()) return false;
  }
  return true;
}

#define FELIS_INSTANTIATE_TRAIN_STATE(T)                                                      \
  template void capture_state(Network<T>&, Optimizer<T>&, const std::vector<Parameter<T>>&,   \
                              TrainState&);                                                   \
  template void restore_state(const TrainState&, Network<T>&, Optimizer<T>&,                  \
                              const std::vector<Parameter<T>>&);                              \
  template void check_finite_gradients(const std::vector<Parameter<T>>&, int64_t, double);    \
  template bool parameters_finite(const std::vector<Parameter<T>>&);
FELIS_INSTANTIATE_TRAIN_STATE(float)
FELIS_INSTANTIATE_TRAIN_STATE(double)
#undef FELIS_INSTANTIATE_TRAIN_STATE

}  // namespace felis
