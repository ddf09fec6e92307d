#include "felis/nn/init.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <utility>
#include <vector>

namespace felis {
namespace {

constexpr std::array<std::pair<std::string_view, InitKind>, 5> kInitKindNames = {{
    {"zeros", InitKind::zeros},
    {"course-small", InitKind::course_small},
    {"course-scaled", InitKind::course_scaled},
    {"he", InitKind::he},
    {"glorot", InitKind::glorot},
}};

void check_weight_shape(const Shape& shape) {
  bool valid = shape.size() >= 2;
  for (const int64_t dim : shape) valid = valid && dim >= 1;
  if (!valid) {
    throw Error(fmt::format("invalid weight tensor shape ({}). Weight initialization needs "
                            "at least two dimensions, each at least 1.",
                            fmt::join(shape, ", ")));
  }
}

// W[i] = randn * scale for every element in order. A single multiplication per
// element, as numpy's `np.random.randn(...) * scale`.
template <typename T>
void fill_scaled_normal(Tensor<T>& W, double scale, NumpyRandom& rng) {
  for (int64_t i = 0; i < W.size(); ++i) W[i] = static_cast<T>(rng.standard_normal() * scale);
}

}  // namespace

InitKind parse_init_kind(std::string_view name) {
  for (const auto& [known, kind] : kInitKindNames) {
    if (name == known) return kind;
  }
  std::vector<std::string_view> names;
  for (const auto& entry : kInitKindNames) names.push_back(entry.first);
  throw UsageError(fmt::format("invalid weight initializer \"{}\". Use one of: {}", name,
                               fmt::join(names, ", ")));
}

std::string_view init_kind_name(InitKind kind) {
  for (const auto& [known, candidate] : kInitKindNames) {
    if (candidate == kind) return known;
  }
  assert(false && "InitKind missing from kInitKindNames");
  return {};
}

template <typename T>
void init_weights(Tensor<T>& W, InitKind kind, NumpyRandom& rng) {
  check_weight_shape(W.shape());
  const auto fan_in = static_cast<double>(W.row_size());

  switch (kind) {
    case InitKind::zeros:
      W.set_zero();
      return;

    case InitKind::course_small:
      fill_scaled_normal(W, 0.01, rng);
      return;

    // The course divides by sqrt(fan_in) rather than multiplying by its inverse, and
    // the two differ in the last bit for some fan_in.
    case InitKind::course_scaled: {
      const double divisor = std::sqrt(fan_in);
      for (int64_t i = 0; i < W.size(); ++i) {
        W[i] = static_cast<T>(rng.standard_normal() / divisor);
      }
      return;
    }

    case InitKind::he:
      fill_scaled_normal(W, std::sqrt(2.0 / fan_in), rng);
      return;

    // fan_out = K * (receptive field), where the receptive field is the product of the
    // dimensions after (K, C): 1 for a dense W (K, D), k*k for a convolution (K, C, k, k).
    case InitKind::glorot: {
      const double receptive_field = static_cast<double>(W.row_size() / W.dim(1));
      const double fan_out = static_cast<double>(W.dim(0)) * receptive_field;
      const double limit = std::sqrt(6.0 / (fan_in + fan_out));
      for (int64_t i = 0; i < W.size(); ++i) W[i] = static_cast<T>(rng.uniform(-limit, limit));
      return;
    }
  }
  assert(false && "unhandled InitKind");
}

template <typename T>
void permute_columns_hwc_to_chw(Tensor<T>& W, int64_t channels, int64_t height, int64_t width) {
  if (W.shape().size() != 2 || channels < 1 || height < 1 || width < 1 ||
      W.dim(1) != channels * height * width) {
    throw Error(fmt::format("invalid weight matrix shape ({}) for reordering columns from "
                            "(H, W, C) to (C, H, W) order. Expected (K, {} * {} * {}).",
                            fmt::join(W.shape(), ", "), height, width, channels));
  }

  const int64_t pixels = height * width;
  std::vector<T> old_row(static_cast<size_t>(W.dim(1)));
  for (int64_t k = 0; k < W.dim(0); ++k) {
    T* row = W.data() + k * W.dim(1);
    std::copy(row, row + W.dim(1), old_row.begin());
    // Pixel p = h*width + w, so (h*width + w)*C + c is p*C + c and c*H*W + h*W + w is
    // c*pixels + p.
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t p = 0; p < pixels; ++p) {
        row[c * pixels + p] = old_row[static_cast<size_t>(p * channels + c)];
      }
    }
  }
}

template void init_weights(Tensor<float>&, InitKind, NumpyRandom&);
template void init_weights(Tensor<double>&, InitKind, NumpyRandom&);
template void permute_columns_hwc_to_chw(Tensor<float>&, int64_t, int64_t, int64_t);
template void permute_columns_hwc_to_chw(Tensor<double>&, int64_t, int64_t, int64_t);

}  // namespace felis
