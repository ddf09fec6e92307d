// Weight initializers: fill a layer's weight tensor in place from a NumpyRandom.
//
// Legend: K outputs (units or filters), D inputs per output, C channels, H x W pixels,
// k x k kernel. A weight tensor W has shape (fan_out, ...): (K, D) for a dense layer,
// (K, C, k, k) for a convolution. fan_in is the product of W's dimensions after the
// first: D for dense, C*k*k for a convolution.
//
// Draws fill W in row-major order, one per element, as numpy fills an array, so a
// dense W drawn here equals np.random.randn(K, D) scaled the same way in a notebook
// seeded with the same number.
#pragma once

#include "felis/nn/numpy_random.h"
#include "felis/tensor/tensor.h"

#include <cstdint>
#include <string_view>

namespace felis {

enum class InitKind {
  zeros,          // W = 0, with no draws from the generator
  course_small,   // W = randn * 0.01, as the course's two-layer model
  course_scaled,  // W = randn / sqrt(fan_in), as the course's L-layer model
  he,             // W = randn * sqrt(2 / fan_in)
  glorot,         // W ~ uniform(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))
};

// Parses "zeros", "course-small", "course-scaled", "he" or "glorot".
// Throws felis::UsageError naming the value and listing the valid names otherwise.
InitKind parse_init_kind(std::string_view name);

// The name that parse_init_kind accepts for `kind`.
std::string_view init_kind_name(InitKind kind);

// Fills W (fan_out, ...) as `kind` selects, drawing from `rng` in row-major order.
// Glorot's fan_out is W.dim(0) times the product of the dimensions after the second:
// K for a dense (K, D) and K*k*k for a convolution (K, C, k, k). Keras's _compute_fans
// counts the same for its (k, k, C, K) kernels.
// Values are computed in double and then rounded to T.
// Requires: W has at least two dimensions, each at least 1, else throws felis::Error.
template <typename T>
void init_weights(Tensor<T>& W, InitKind kind, NumpyRandom& rng);

// Reorders the columns of a dense W (K, D) from the course's flattening of an image to
// felis's, so that a notebook's weights apply to felis's input order. The course
// flattens (H, W, C) with the channel varying fastest. felis flattens (C, H, W) with the
// pixel column varying fastest. For channel c, pixel row h and pixel column w:
//   new column c*height*width + h*width + w = old column (h*width + w)*channels + c
// Requires: W has two dimensions and D = channels * height * width, else throws
// felis::Error.
template <typename T>
void permute_columns_hwc_to_chw(Tensor<T>& W, int64_t channels, int64_t height, int64_t width);

}  // namespace felis
