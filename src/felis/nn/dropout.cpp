#include "felis/nn/dropout.h"

#include "felis/error.h"
#include "felis/nn/layer_config.h"

#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <sstream>

namespace felis {

template <typename T>
Dropout<T>::Dropout(double rate, uint64_t seed) : rate_(rate), seed_(seed), rng_(seed) {
  if (!(rate >= 0.0 && rate < 1.0)) {  // also rejects NaN
    throw Error(fmt::format("dropout \"rate\" is {}; expected a probability in [0, 1)", rate));
  }
}

template <typename T>
std::unique_ptr<Layer<T>> Dropout<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "dropout", {"rate", "seed"});

  if (!config.contains("rate")) {
    throw Error("dropout layer config is missing \"rate\", a probability in [0, 1)");
  }
  if (!config["rate"].is_number()) {
    throw Error(fmt::format("dropout \"rate\" is {}; expected a probability in [0, 1)",
                            config["rate"].dump().substr(0, 100)));
  }
  const double rate = config["rate"].get<double>();

  uint64_t seed = 0;
  if (config.contains("seed")) {
    const nlohmann::json& value = config["seed"];
    // Parsed JSON stores non-negative integers as unsigned, but a json built in code may
    // store them as signed.
    const bool valid = value.is_number_unsigned() ||
                       (value.is_number_integer() && value.get<int64_t>() >= 0);
    if (!valid) {
      throw Error(fmt::format("dropout \"seed\" is {}; expected an integer in [0, 2^64)",
                              value.dump().substr(0, 100)));
    }
    seed = value.get<uint64_t>();
  }
  return std::make_unique<Dropout<T>>(rate, seed);
}

template <typename T>
void Dropout<T>::reseed(uint64_t seed) {
  seed_ = seed;
  rng_.seed(seed);
}

template <typename T>
std::string Dropout<T>::generator_state() const {
  std::ostringstream text;
  text << rng_;
  return text.str();
}

template <typename T>
void Dropout<T>::set_generator_state(const std::string& state) {
  std::istringstream text(state);
  std::mt19937_64 restored;
  text >> restored;
  if (text.fail()) throw Error("dropout generator state is not a std::mt19937_64 state");
  rng_ = restored;
}

template <typename T>
nlohmann::json Dropout<T>::config() const {
  return {{"type", "dropout"}, {"rate", rate_}, {"seed", seed_}};
}

template <typename T>
Shape Dropout<T>::output_shape(const Shape& sample_input) const {
  return sample_input;
}

// Training: y = x * mask with mask = 1 / (1 - rate) where u >= rate * 2^64, else 0, for
// a fresh 64-bit draw u per element, so P(keep) = 1 - rate up to rounding. Comparing raw
// draws, instead of a std::uniform_real_distribution whose algorithm the standard leaves
// open, gives the same masks with every standard library. The draws run on one thread in
// element order.
// Inference: y = x.
template <typename T>
void Dropout<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  masked_ = context.training;
  if (!context.training) {
    y = x;
    return;
  }
  y.resize(x.shape());
  mask_.resize(x.shape());
  const uint64_t threshold = static_cast<uint64_t>(std::ldexp(rate_, 64));  // < 2^64 as rate < 1
  const T scale = static_cast<T>(1.0 / (1.0 - rate_));
  const T* X = x.data();
  T* Y = y.data();
  T* mask = mask_.data();
  for (int64_t i = 0; i < x.size(); ++i) {
    mask[i] = rng_() >= threshold ? scale : T(0);
    Y[i] = X[i] * mask[i];
  }
}

// dx = dy * mask after a training forward, dx = dy after an inference forward.
template <typename T>
void Dropout<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& /*context*/) {
  if (dx == nullptr) return;
  if (!masked_) {
    *dx = dy;
    return;
  }
  assert(dy.shape() == mask_.shape());
  dx->resize(dy.shape());
  const T* dY = dy.data();
  const T* mask = mask_.data();
  T* dX = dx->data();
  for (int64_t i = 0; i < dy.size(); ++i) dX[i] = dY[i] * mask[i];
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace felis
