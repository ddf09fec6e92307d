// Full-batch gradient descent on the Gram matrix of the training images, for networks
// that open with a dense layer and data with far fewer images than pixels.
//
// Legend: N training images, D pixels per image, K units of the first dense layer,
// X (N, D) the training batch (pixels / 255), W (K, D) and b (K) that layer's parameters.
//
// The gradient of W is dZ^T X, a combination of the training images' rows. So plain
// gradient descent from W0 keeps W = W0 + A X for some A (K, N), and the layer's output
// on the training set is
//   Z = X W^T + b = X W0^T + G A^T + b,   with G = X X^T (N, N).
// Each step then costs N^2 K instead of N D K: G replaces the pixels. A step on A is
// A -= lr dZ^T. G is computed once, exactly, from the uint8 pixels in integers, and W is
// formed once at the end. In exact arithmetic the weights equal the pixel path's; in
// floating point they differ by rounding (about 1e-12 relative in float64).
#pragma once

#include "felis/data/dataset.h"
#include "felis/nn/network.h"
#include "felis/train/trainer.h"

#include <span>

namespace felis {

// Returns the index of the first dense layer when the Gram path applies, else -1.
// It applies to a float64 network that starts with a dense layer (after an optional
// flatten), trained by plain full-batch descent without augmentation, L2 or clipping.
// The data must have at most one image for every two pixels and at most 4096 images, and
// the run enough steps to repay G.
template <typename T>
int span_descent_layer(Network<T>& network, const Dataset& train, const TrainOptions& options);

template <typename T>
class SpanDescent {
public:
  // Computes G and X W0^T. `layer` comes from span_descent_layer().
  SpanDescent(Network<T>& network, int layer, const Dataset& train,
              std::span<const int32_t> permutation, ThreadPool& pool);

  // The training set's cost at the current weights. Sets the gradients of the layers after
  // the first dense layer, and keeps dZ for step().
  double forward_backward(std::span<const int32_t> labels);

  // One gradient-descent step of every parameter at `learning_rate`.
  void step(double learning_rate);

  // Writes W = W0 + A X into the first dense layer. Call once, after the last step.
  void finish();

private:
  Network<T>& network_;
  int layer_;
  const Dataset& train_;
  std::span<const int32_t> permutation_;
  ThreadPool& pool_;
  PassContext context_;
  RowMatrix<T> gram_;     // G (N, N)
  RowMatrix<T> initial_;  // X W0^T (N, K)
  RowMatrix<T> span_;     // A (K, N)
  Tensor<T> z_;           // Z (N, K)
  Tensor<T> dlogits_;
  const Tensor<T>* dz_ = nullptr;  // dL/dZ (N, K) of the last forward_backward
  std::vector<Parameter<T>> later_;  // parameters of the layers after the first dense one
};

// G = X X^T of the uint8 images in `data`, in integers scaled by 1 / 255^2 at the end:
// exact up to that one rounding. Rows of G are spread over the pool's threads.
template <typename T>
RowMatrix<T> pixel_gram(const Dataset& data, ThreadPool& pool);

}  // namespace felis
