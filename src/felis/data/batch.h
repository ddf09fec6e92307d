// Conversion of stored uint8 images to a floating-point batch.
//
// Legend: B images in the batch, C channels, H x W pixels.
#pragma once

#include "felis/data/dataset.h"
#include "felis/tensor/tensor.h"

#include <span>

namespace felis {

// Fills x (B, C, H, W) with pixels / 255 of the images at `indices`, converting from the
// stored (H, W, C) layout, and `labels` (B) with their labels. A non-empty `permutation`
// (H W) moves pixel positions on the way: position p of x comes from position
// permutation[p] of the image (see pixel_permutation.h).
template <typename T>
void make_batch(const Dataset& data, std::span<const int64_t> indices, Tensor<T>& x,
                std::vector<int32_t>& labels, std::span<const int32_t> permutation = {});

// Fills x (1, C, H, W) with pixels / 255 of one (H, W, C) image, permuted as make_batch does.
template <typename T>
void make_image_batch(const uint8_t* pixels, int64_t height, int64_t width, int64_t channels,
                      Tensor<T>& x, std::span<const int32_t> permutation = {});

}  // namespace felis
