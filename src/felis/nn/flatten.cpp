#include "felis/nn/flatten.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace felis {

template <typename T>
std::unique_ptr<Layer<T>> Flatten<T>::from_config(const nlohmann::json& config) {
  if (!config.is_object() || config.size() != 1 || !config.contains("type") ||
      config["type"] != "flatten") {
    throw Error(fmt::format("flatten layer {} is invalid; expected {{\"type\": \"flatten\"}}",
                            config.dump().substr(0, 200)));
  }
  return std::make_unique<Flatten<T>>();
}

template <typename T>
nlohmann::json Flatten<T>::config() const {
  return {{"type", "flatten"}};
}

template <typename T>
Shape Flatten<T>::output_shape(const Shape& sample_input) const {
  const bool positive = std::all_of(sample_input.begin(), sample_input.end(),
                                    [](int64_t side) { return side >= 1; });
  if (sample_input.empty() || !positive) {
    std::string shape;
    for (int64_t side : sample_input) shape += (shape.empty() ? "" : ", ") + std::to_string(side);
    throw Error(fmt::format("flatten layer expects a sample of shape (C, H, W) but gets ({})",
                            shape));
  }
  return {element_count(sample_input)};
}

template <typename T>
void Flatten<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext&) {
  input_shape_ = x.shape();
  y.resize({x.rows(), x.row_size()});
  std::copy(x.data(), x.data() + x.size(), y.data());
}

template <typename T>
void Flatten<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext&) {
  if (dx == nullptr) return;
  assert(dy.size() == element_count(input_shape_));
  dx->resize(input_shape_);
  std::copy(dy.data(), dy.data() + dy.size(), dx->data());
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace felis
