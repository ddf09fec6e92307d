#include "felis/data/batch.h"

#include <array>
#include <cassert>

namespace felis {

namespace {

// out (C, H, W) = in (H, W, C) / 255, position p taken from position permutation[p].
// A table lookup gives the same values as dividing each pixel, without the divisions.
template <typename T>
void convert_image(const uint8_t* in, int64_t height, int64_t width, int64_t channels, T* out,
                   std::span<const int32_t> permutation) {
  static const std::array<T, 256> scaled = [] {
    std::array<T, 256> table{};
    for (int v = 0; v < 256; ++v) table[static_cast<size_t>(v)] = static_cast<T>(v) / T(255);
    return table;
  }();
  const int64_t plane = height * width;
  assert(permutation.empty() || static_cast<int64_t>(permutation.size()) == plane);
  for (int64_t c = 0; c < channels; ++c) {
    T* out_plane = out + c * plane;
    if (permutation.empty()) {
      for (int64_t p = 0; p < plane; ++p) out_plane[p] = scaled[in[p * channels + c]];
    } else {
      for (int64_t p = 0; p < plane; ++p) out_plane[p] = scaled[in[permutation[p] * channels + c]];
    }
  }
}

}  // namespace

template <typename T>
void make_batch(const Dataset& data, std::span<const int64_t> indices, Tensor<T>& x,
                std::vector<int32_t>& labels, std::span<const int32_t> permutation) {
  const auto count = static_cast<int64_t>(indices.size());
  x.resize({count, data.channels, data.height, data.width});
  labels.resize(indices.size());
  for (int64_t b = 0; b < count; ++b) {
    const int64_t i = indices[b];
    convert_image(data.image(i), data.height, data.width, data.channels,
                  x.data() + b * data.image_size(), permutation);
    labels[b] = data.labels[i];
  }
}

template <typename T>
void make_image_batch(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels,
                      Tensor<T>& x, std::span<const int32_t> permutation) {
  x.resize({1, channels, height, width});
  convert_image(pixels, height, width, channels, x.data(), permutation);
}

template void make_batch(const Dataset&, std::span<const int64_t>, Tensor<float>&,
                         std::vector<int32_t>&, std::span<const int32_t>);
template void make_batch(const Dataset&, std::span<const int64_t>, Tensor<double>&,
                         std::vector<int32_t>&, std::span<const int32_t>);
template void make_image_batch(const uint8_t*, int64_t, int64_t, int64_t, Tensor<float>&,
                               std::span<const int32_t>);
template void make_image_batch(const uint8_t*, int64_t, int64_t, int64_t, Tensor<double>&,
                               std::span<const int32_t>);

}  // namespace felis
