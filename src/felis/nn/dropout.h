// Dropout: inverted dropout. In training mode each input element is kept with probability
// 1 - rate and scaled by 1 / (1 - rate), or set to zero, so that the expected output equals
// the input. In inference mode the layer is the identity.
//
// Legend: N samples. Any sample shape; the output has the input's shape.
#pragma once

#include "felis/nn/layer.h"

#include <cstdint>
#include <memory>
#include <random>

namespace felis {

// Config: {"type": "dropout", "rate": r, "seed": s}.
template <typename T>
class Dropout final : public Layer<T> {
public:
  // Throws felis::Error unless 0 <= rate < 1.
  Dropout(double rate, uint64_t seed);

  // Builds the layer from {"type": "dropout", "rate": r} with an optional "seed", an
  // integer in [0, 2^64) that defaults to 0. Throws felis::Error naming the field and its
  // valid range when the config is invalid.
  // build_model gives each dropout layer the seed 1000 * run seed + its position, so a
  // config without "seed" appears only in hand-written architectures.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  // Restarts the mask generator from `seed`, as the constructor does.
  void reseed(uint64_t seed);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;
  std::string generator_state() const override;
  void set_generator_state(const std::string& state) override;

  double rate() const { return rate_; }
  uint64_t seed() const { return seed_; }

private:
  double rate_;          // probability of dropping an element, in [0, 1)
  uint64_t seed_;        // the generator's last starting seed, saved by config()
  std::mt19937_64 rng_;  // draws one 64-bit value per element in each training forward
  Tensor<T> mask_;       // (N, ...) 0 or 1 / (1 - rate), cached by forward for backward
  bool masked_ = false;  // whether the last forward was in training mode and used mask_
};

}  // namespace felis
