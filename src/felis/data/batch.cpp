#include "felis/data/batch.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace felis {

namespace {

// v / 255 rounded to T, as a division would round it. With FMA, a product by 1 / 255 and
// one correction step give the correctly rounded quotient for every byte v (the test
// checks all 256), at half a vector division's cost. Unlike a table lookup, both forms
// compile to vector instructions.
template <typename T>
inline T divide_by_255(uint8_t v) {
  const T x = static_cast<T>(v);
#ifdef __FMA__
  constexpr T kInverse = T(1) / T(255);
  const T q = x * kInverse;
  return std::fma(std::fma(-q, T(255), x), kInverse, q);
#else
  return x / T(255);
#endif
}

// out (C, H, W) = in (H, W, C) / 255, position p taken from position permutation[p].
template <typename T>
void convert_image(const uint8_t* in, int64_t height, int64_t width, int64_t channels, T* out,
                   std::span<const int32_t> permutation) {
  const int64_t plane = height * width;
  assert(permutation.empty() || static_cast<int64_t>(permutation.size()) == plane);
  if (permutation.empty() && channels == 1) {
    for (int64_t p = 0; p < plane; ++p) out[p] = divide_by_255<T>(in[p]);
    return;
  }
  for (int64_t c = 0; c < channels; ++c) {
    T* out_plane = out + c * plane;
    if (permutation.empty()) {
      for (int64_t p = 0; p < plane; ++p) out_plane[p] = divide_by_255<T>(in[p * channels + c]);
    } else {
      for (int64_t p = 0; p < plane; ++p) {
        out_plane[p] = divide_by_255<T>(in[permutation[p] * channels + c]);
      }
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
  // Shuffled batches read images from anywhere in the data set, so fetch each image's
  // cache lines a few images ahead of its conversion.
  constexpr int64_t kAhead = 4;
  const int64_t size = data.image_size();
  auto prefetch = [&](int64_t b) {
    const uint8_t* image = data.image(indices[b]);
    for (int64_t offset = 0; offset < size; offset += 64) __builtin_prefetch(image + offset);
  };
  for (int64_t b = 0; b < std::min(kAhead, count); ++b) prefetch(b);
  for (int64_t b = 0; b < count; ++b) {
    if (b + kAhead < count) prefetch(b + kAhead);
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
