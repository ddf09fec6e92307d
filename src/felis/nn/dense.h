// Dense: a fully connected layer, y = x W^T + b.
//
// Legend: N samples, D input features, K units.
// Each sample is read as a vector of D values whatever its shape, so a (N, C, H, W)
// image batch enters as (N, C*H*W) in C, H, W order.
#pragma once

#include "felis/nn/layer.h"

#include <algorithm>
#include <memory>

namespace felis {

template <typename T>
class Dense final : public Layer<T> {
public:
  // Weights and bias start at zero; see init_normal for a seeded random start.
  Dense(int64_t inputs, int64_t units);

  // Draws every weight from N(0, stddev^2); biases stay zero.
  void init_normal(double stddev, std::mt19937_64& rng);

  // Builds {"type": "dense", "inputs": D, "units": K}; throws felis::Error when a field is
  // missing or outside 1 to 2^30.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  nlohmann::json config() const override;
  Shape output_shape(const Shape& sample_input) const override;
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;
  std::vector<Parameter<T>> parameters() override;

  int64_t inputs() const { return weights_.dim(1); }
  int64_t units() const { return weights_.dim(0); }

private:
  Tensor<T> weights_;      // W (K, D)
  Tensor<T> bias_;         // b (K)
  Tensor<T> weights_grad_; // dW (K, D)
  Tensor<T> bias_grad_;    // db (K)
  const Tensor<T>* input_ = nullptr;  // x (N, D), cached by forward for backward
  std::vector<Tensor<T>> chunk_grads_;  // per-chunk partial dW, summed in chunk order
};

// Rows per task in Dense's parallel loops for a batch of n rows: about an eighth of the
// batch, at least 16, a multiple of 8. It depends on the batch alone, never on the thread
// count, so results do not depend on the number of threads. Small chunks balance two
// threads on small batches; larger ones spare Eigen repacking W for every chunk.
inline int64_t dense_chunk_rows(int64_t n) { return std::max<int64_t>(16, (n / 8 + 7) / 8 * 8); }

// Units per task when Dense::backward sums the chunks' partial gradients. Every element
// is summed in chunk order whatever the split, so this sets only the task size.
inline constexpr int64_t kDenseReduceUnits = 16;

}  // namespace felis
