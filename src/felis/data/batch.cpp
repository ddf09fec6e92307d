#include "felis/data/batch.h"

namespace felis {

namespace {

// out (C, H, W) = in (H, W, C) / 255.
template <typename T>
void convert_image(const uint8_t* in, int64_t height, int64_t width, int64_t channels, T* out) {
  const int64_t plane = height * width;
  for (int64_t p = 0; p < plane; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      out[c * plane + p] = static_cast<T>(in[p * channels + c]) / T(255);
    }
  }
}

}  // namespace

template <typename T>
void make_batch(const Dataset& data, std::span<const int64_t> indices, Tensor<T>& x,
                std::vector<int32_t>& labels) {
  const auto count = static_cast<int64_t>(indices.size());
  x.resize({count, data.channels, data.height, data.width});
  labels.resize(indices.size());
  for (int64_t b = 0; b < count; ++b) {
    const int64_t i = indices[b];
    convert_image(data.image(i), data.height, data.width, data.channels,
                  x.data() + b * data.image_size());
    labels[b] = data.labels[i];
  }
}

template <typename T>
void make_image_batch(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels,
                      Tensor<T>& x) {
  x.resize({1, channels, height, width});
  convert_image(pixels, height, width, channels, x.data());
}

template void make_batch(const Dataset&, std::span<const int64_t>, Tensor<float>&,
                         std::vector<int32_t>&);
template void make_batch(const Dataset&, std::span<const int64_t>, Tensor<double>&,
                         std::vector<int32_t>&);
template void make_image_batch(const uint8_t*, int64_t, int64_t, int64_t, Tensor<float>&);
template void make_image_batch(const uint8_t*, int64_t, int64_t, int64_t, Tensor<double>&);

}  // namespace felis
