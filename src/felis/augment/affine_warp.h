// Bilinear affine warps of uint8 images that give the bytes of OpenCV's cv::warpAffine with
// INTER_LINEAR, with fewer branches per pixel (bench/augment_bench.cpp times them in the
// pipeline). Internal to src/felis/augment.
//
// Legend: H x W pixels, C channels (1 or 3, interleaved), Hp x Wp the source with a border.
#pragma once

#include "felis/augment/image_view.h"
#include "felis/augment/transform.h"

#include <array>
#include <cstdint>
#include <vector>

namespace felis::detail {

// Scratch memory of warp_affine_into, kept between calls so that warping many images of
// one shape allocates only for the first.
struct WarpBuffers {
  std::vector<uint8_t> padded;         // (Hp, Wp, C) the source and its border, 8 bytes spare
  std::vector<int32_t> column_x;       // (W) fixed-point source x offset of each output column
  std::vector<int32_t> column_y;       // (W) the same for source y
  std::vector<int32_t> offsets;        // (W) a row's top-left neighbours, bytes from pixel (0, 0)
  std::vector<int32_t> x_fractions;    // (W) in 1/32 pixel
  std::vector<int32_t> y_fractions;    // (W) in 1/32 pixel
  std::vector<uint64_t> top_pairs;     // (W) top-left then top-right neighbour, C bytes each
  std::vector<uint64_t> bottom_pairs;  // (W) bottom-left then bottom-right neighbour
  std::vector<uint32_t> blended;       // (W) a row's output pixels, C bytes each
};

// Writes into `out` the image `in` warped by the affine `matrix`, (2, 3) row-major, which
// maps input to output coordinates. Pixels are interpolated bilinearly, and neighbours
// outside the image come from `border` (constant: 0). The bytes equal those of
// cv::warpAffine(in, out, matrix, size, INTER_LINEAR, border, 0) in OpenCV 4.6, which this
// calls itself for matrices that reach far outside the image.
// Requires `in` and `out` of one shape and not overlapping.
void warp_affine_into(ConstImageView in, const std::array<double, 6>& matrix, Border border,
                      ImageView out, WarpBuffers& buffers);

}  // namespace felis::detail
