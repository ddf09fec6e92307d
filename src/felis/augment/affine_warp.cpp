// warp_affine_into: cv::warpAffine's bilinear arithmetic with a branch-free inner loop.
//
// cv::warpAffine with INTER_LINEAR (OpenCV 4.6, modules/imgproc/src/imgwarp.cpp) works in
// four steps, and this file repeats each with the same integer and double operations:
//  1. It inverts the matrix in double, so that M maps output to input coordinates.
//  2. It maps output pixel (x, y) to the source in fixed point with 10 fractional bits,
//       X = round(M0 x 1024) + round((M1 y + M2) 1024) + 16,
//     rounding halves to even, and keeps 5 of them: the source column is X >> 10 and the
//     fraction fx = (X >> 5) & 31 in 1/32 pixel. Y, fy the same with M3, M4, M5.
//  3. It blends the 2 x 2 neighbours with weights of 15 fractional bits, 32 (32 - fx) (32 - fy),
//     32 fx (32 - fy), 32 (32 - fx) fy and 32 fx fy, and rounds to nearest. With the common
//     factor 32 taken out, that is
//       out = ((32 - fy) upper + fy lower + 512) >> 10,
//       upper = (32 - fx) top_left + fx top_right, lower the same for the bottom row.
//     For fx = fy = 0 its 16-bit table cannot hold 32768 and moves one unit to another
//     weight, which cannot change the rounded result.
//  4. Neighbours outside the image come from the border mode, one pixel at a time.
// Here step 4 is one cv::copyMakeBorder (the same border rules) of a border wide enough for
// every neighbour, so the loops over an output row have no branches. The compiler vectorizes
// the coordinates and the blending, and the gather between them is two loads per pixel.
// The double expressions must not become fused multiply-adds, which CMakeLists.txt turns off
// for all of felis. The tests compare the bytes with cv::warpAffine for rotations, zooms and
// shears.
#include "felis/augment/affine_warp.h"

#include "felis/augment/opencv_image.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>

namespace felis::detail {

namespace {

constexpr int kCoordinateBits = 10;       // fractional bits of the source coordinates
constexpr int kCoordinateScale = 1 << kCoordinateBits;
constexpr int kFractionBits = 5;          // of those, kept for the weights
constexpr int kFractionMask = (1 << kFractionBits) - 1;
constexpr int kRoundingOffset = 16;       // half a unit of the 5 bits that step 2 drops
constexpr size_t kSpareBytes = 8;         // past the border, for the 8-byte neighbour loads

// Step 1, in OpenCV's order of operations.
std::array<double, 6> invert_affine(const std::array<double, 6>& m) {
  const double determinant = m[0] * m[4] - m[1] * m[3];
  const double d = determinant != 0.0 ? 1.0 / determinant : 0.0;
  std::array<double, 6> inverse;
  inverse[0] = m[4] * d;
  inverse[1] = m[1] * -d;
  inverse[3] = m[3] * -d;
  inverse[4] = m[0] * d;
  inverse[2] = -inverse[0] * m[2] - inverse[1] * m[5];
  inverse[5] = -inverse[3] * m[2] - inverse[4] * m[5];
  return inverse;
}

// The fixed-point terms of step 2. std::nearbyint rounds halves to even, as OpenCV's
// cvRound does, and inlines where std::lrint is a library call.
int fixed_point(double value) { return static_cast<int>(std::nearbyint(value)); }

struct SourceBounds {
  int min_x, max_x, min_y, max_y;  // source columns and rows of the top-left neighbours
};

// The source rectangle that output (0, 0) to (W - 1, H - 1) reads, or nothing when a
// coordinate could overflow an int or OpenCV would clamp it to 16 bits. X and Y are
// monotonic in x and in y, so the four corners bound them.
std::optional<SourceBounds> source_bounds(const std::array<double, 6>& inverse, int height,
                                          int width) {
  constexpr double kLimit = 1 << 29;
  for (const double term : {inverse[0] * (width - 1) * kCoordinateScale,
                            inverse[3] * (width - 1) * kCoordinateScale,
                            (inverse[1] * (height - 1) + inverse[2]) * kCoordinateScale,
                            (inverse[4] * (height - 1) + inverse[5]) * kCoordinateScale,
                            inverse[2] * kCoordinateScale, inverse[5] * kCoordinateScale}) {
    if (!(std::abs(term) < kLimit)) return std::nullopt;
  }
  SourceBounds bounds{INT_MAX, INT_MIN, INT_MAX, INT_MIN};
  for (const int y : {0, height - 1}) {
    const int row_x = fixed_point((inverse[1] * y + inverse[2]) * kCoordinateScale) + kRoundingOffset;
    const int row_y = fixed_point((inverse[4] * y + inverse[5]) * kCoordinateScale) + kRoundingOffset;
    for (const int x : {0, width - 1}) {
      const int source_x = (row_x + fixed_point(inverse[0] * x * kCoordinateScale)) >> kCoordinateBits;
      const int source_y = (row_y + fixed_point(inverse[3] * x * kCoordinateScale)) >> kCoordinateBits;
      bounds.min_x = std::min(bounds.min_x, source_x);
      bounds.max_x = std::max(bounds.max_x, source_x);
      bounds.min_y = std::min(bounds.min_y, source_y);
      bounds.max_y = std::max(bounds.max_y, source_y);
    }
  }
  if (bounds.min_x < SHRT_MIN || bounds.max_x >= SHRT_MAX) return std::nullopt;
  if (bounds.min_y < SHRT_MIN || bounds.max_y >= SHRT_MAX) return std::nullopt;
  return bounds;
}

// Border widths in pixels.
struct Padding {
  int top, bottom, left, right;
};

// The border that contains every neighbour the warp reads, or nothing when it would be wider
// than the image, as for a zoom out by 5, or when byte offsets in the padded source could
// overflow an int. A top-left neighbour at column max_x has its right neighbour at max_x + 1.
std::optional<Padding> padding_for(const std::array<double, 6>& inverse, const ImageShape& shape) {
  const int height = static_cast<int>(shape.height);
  const int width = static_cast<int>(shape.width);
  const auto bounds = source_bounds(inverse, height, width);
  if (!bounds) return std::nullopt;
  const Padding pad{.top = std::max(0, -bounds->min_y),
                    .bottom = std::max(0, bounds->max_y + 2 - height),
                    .left = std::max(0, -bounds->min_x),
                    .right = std::max(0, bounds->max_x + 2 - width)};
  if (std::max(pad.top, pad.bottom) > height || std::max(pad.left, pad.right) > width) {
    return std::nullopt;
  }
  const int64_t padded_bytes = (int64_t{height} + pad.top + pad.bottom) *
                               (int64_t{width} + pad.left + pad.right) * shape.channels;
  if (padded_bytes + int64_t{kSpareBytes} > INT_MAX) return std::nullopt;
  return pad;
}

// The source with its border in buffers.padded: pixel (0, 0) of the source is at `origin`,
// and rows are `stride` bytes apart.
struct PaddedSource {
  const uint8_t* origin;
  int stride;
};

PaddedSource copy_with_border(ConstImageView in, const Padding& pad, Border border,
                              WarpBuffers& buffers) {
  const int height = static_cast<int>(in.shape.height) + pad.top + pad.bottom;
  const int width = static_cast<int>(in.shape.width) + pad.left + pad.right;
  const int channels = static_cast<int>(in.shape.channels);
  buffers.padded.resize(static_cast<size_t>(height) * width * channels + kSpareBytes);
  cv::Mat padded(height, width, CV_8UC(channels), buffers.padded.data());
  cv::copyMakeBorder(input_mat_view(in), padded, pad.top, pad.bottom, pad.left, pad.right,
                     cv_border(border), cv::Scalar::all(0));
  assert(padded.data == buffers.padded.data());
  const int stride = width * channels;
  return {.origin = buffers.padded.data() + static_cast<size_t>(pad.top) * stride + pad.left * channels,
          .stride = stride};
}

// Steps 2 and 3 for one output row, whose fixed-point terms of y are row_x and row_y.
template <int C>
void warp_row(const PaddedSource& source, int row_x, int row_y, WarpBuffers& buffers,
              uint8_t* out_row) {
  const uint8_t* origin = source.origin;
  const int stride = source.stride;
  const int width = static_cast<int>(buffers.column_x.size());
  const int32_t* column_x = buffers.column_x.data();
  const int32_t* column_y = buffers.column_y.data();
  int32_t* offsets = buffers.offsets.data();
  int32_t* x_fractions = buffers.x_fractions.data();
  int32_t* y_fractions = buffers.y_fractions.data();
  uint64_t* top_pairs = buffers.top_pairs.data();
  uint64_t* bottom_pairs = buffers.bottom_pairs.data();
  uint32_t* blended = buffers.blended.data();

  for (int x = 0; x < width; ++x) {
    const int source_x = (row_x + column_x[x]) >> kFractionBits;  // in 1/32 pixel
    const int source_y = (row_y + column_y[x]) >> kFractionBits;
    x_fractions[x] = source_x & kFractionMask;
    y_fractions[x] = source_y & kFractionMask;
    offsets[x] = (source_y >> kFractionBits) * stride + (source_x >> kFractionBits) * C;
  }

  // Eight bytes hold a neighbour and its right neighbour, for C = 1 and 3.
  for (int x = 0; x < width; ++x) {
    std::memcpy(&top_pairs[x], origin + offsets[x], sizeof(uint64_t));
    std::memcpy(&bottom_pairs[x], origin + offsets[x] + stride, sizeof(uint64_t));
  }

  for (int x = 0; x < width; ++x) {
    const uint32_t fx = static_cast<uint32_t>(x_fractions[x]);
    const uint32_t fy = static_cast<uint32_t>(y_fractions[x]);
    const auto top_left = static_cast<uint32_t>(top_pairs[x]);
    const auto top_right = static_cast<uint32_t>(top_pairs[x] >> (8 * C));
    const auto bottom_left = static_cast<uint32_t>(bottom_pairs[x]);
    const auto bottom_right = static_cast<uint32_t>(bottom_pairs[x] >> (8 * C));
    uint32_t pixel = 0;
    for (int c = 0; c < C; ++c) {
      const int shift = 8 * c;
      const uint32_t upper = (32 - fx) * ((top_left >> shift) & 255) + fx * ((top_right >> shift) & 255);
      const uint32_t lower = (32 - fx) * ((bottom_left >> shift) & 255) + fx * ((bottom_right >> shift) & 255);
      pixel |= (((32 - fy) * upper + fy * lower + 512) >> 10) << shift;
    }
    blended[x] = pixel;
  }

  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < C; ++c) out_row[x * C + c] = static_cast<uint8_t>(blended[x] >> (8 * c));
  }
}

void resize_row_buffers(WarpBuffers& buffers, size_t width) {
  for (auto* row : {&buffers.column_x, &buffers.column_y, &buffers.offsets, &buffers.x_fractions,
                    &buffers.y_fractions}) {
    row->resize(width);
  }
  buffers.top_pairs.resize(width);
  buffers.bottom_pairs.resize(width);
  buffers.blended.resize(width);
}

void opencv_warp_affine(ConstImageView in, const std::array<double, 6>& matrix, Border border,
                        ImageView out) {
  cv::Mat destination = mat_view(out);
  const cv::Matx23d opencv_matrix(matrix.data());
  cv::warpAffine(input_mat_view(in), destination, opencv_matrix, destination.size(),
                 cv::INTER_LINEAR, cv_border(border), cv::Scalar::all(0));
  assert(destination.data == out.pixels);
}

}  // namespace

void warp_affine_into(ConstImageView in, const std::array<double, 6>& matrix, Border border,
                      ImageView out, WarpBuffers& buffers) {
  const int height = static_cast<int>(in.shape.height);
  const int width = static_cast<int>(in.shape.width);
  const int channels = static_cast<int>(in.shape.channels);
  assert(out.shape.height == height);
  assert(out.shape.width == width);
  assert(out.shape.channels == channels);
  assert(channels == 1 || channels == 3);

  const std::array<double, 6> inverse = invert_affine(matrix);
  const std::optional<Padding> pad = padding_for(inverse, in.shape);
  if (!pad) {
    opencv_warp_affine(in, matrix, border, out);
    return;
  }
  const PaddedSource source = copy_with_border(in, *pad, border, buffers);

  resize_row_buffers(buffers, static_cast<size_t>(width));
  for (int x = 0; x < width; ++x) {
    buffers.column_x[x] = fixed_point(inverse[0] * x * kCoordinateScale);
    buffers.column_y[x] = fixed_point(inverse[3] * x * kCoordinateScale);
  }
  for (int y = 0; y < height; ++y) {
    const int row_x = fixed_point((inverse[1] * y + inverse[2]) * kCoordinateScale) + kRoundingOffset;
    const int row_y = fixed_point((inverse[4] * y + inverse[5]) * kCoordinateScale) + kRoundingOffset;
    uint8_t* out_row = out.pixels + static_cast<size_t>(y) * width * channels;
    if (channels == 1) {
      warp_row<1>(source, row_x, row_y, buffers, out_row);
    } else {
      warp_row<3>(source, row_x, row_y, buffers, out_row);
    }
  }
}

}  // namespace felis::detail
