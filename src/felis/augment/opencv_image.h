// Helpers shared by the transform sources: views and cv::Mat headers over felis::Image
// pixels, the OpenCV border codes, and rounding to uint8. Internal to src/felis/augment.
#pragma once

#include "felis/augment/image_view.h"
#include "felis/augment/transform.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

namespace felis::detail {

inline void assert_valid_image([[maybe_unused]] const Image& image) {
  assert(image.shape.height > 0);
  assert(image.shape.width > 0);
  assert(image.shape.channels == 1 || image.shape.channels == 3);
  assert(image.pixels.size() ==
         static_cast<size_t>(image.shape.height * image.shape.width * image.shape.channels));
}

inline ImageView view(Image& image) {
  assert_valid_image(image);
  return {.shape = image.shape, .pixels = image.pixels.data()};
}

inline ConstImageView view(const Image& image) {
  assert_valid_image(image);
  return {.shape = image.shape, .pixels = image.pixels.data()};
}

// A CV_8UC1 or CV_8UC3 header over the view's (H, W, C) pixels, without a copy. The Mat is
// valid while the pixels are.
inline cv::Mat mat_view(ImageView image) {
  return cv::Mat(static_cast<int>(image.shape.height), static_cast<int>(image.shape.width),
                 CV_8UC(static_cast<int>(image.shape.channels)), image.pixels);
}

// The same header over const pixels. OpenCV has no read-only Mat, so the caller must use
// the result only as an input.
inline cv::Mat input_mat_view(ConstImageView image) {
  return mat_view(ImageView{.shape = image.shape, .pixels = const_cast<uint8_t*>(image.pixels)});
}

inline cv::Mat mat_view(Image& image) { return mat_view(view(image)); }

inline cv::Mat input_mat_view(const Image& image) { return input_mat_view(view(image)); }

// An image of the same shape with every value 0, to be written by an OpenCV function
// through mat_view. OpenCV writes into a destination Mat of the right size and type
// instead of reallocating it.
inline Image blank_like(const Image& image) {
  return Image{.shape = image.shape, .pixels = std::vector<uint8_t>(image.pixels.size(), 0)};
}

// OpenCV's border code for `border`. Callers pass cv::Scalar::all(0) as the value that
// Border::constant pads with.
inline int cv_border(Border border) {
  switch (border) {
    case Border::reflect: return cv::BORDER_REFLECT_101;
    case Border::constant: return cv::BORDER_CONSTANT;
    case Border::replicate: return cv::BORDER_REPLICATE;
  }
  assert(false && "unknown Border");
  return cv::BORDER_REFLECT_101;
}

// Rounds to the nearest integer, halves away from zero (50.5 gives 51), and saturates to
// [0, 255]. NaN gives 0.
inline uint8_t round_to_uint8(double value) {
  if (!(value > 0.0)) return 0;
  if (value >= 255.0) return 255;
  // std::lround's result without the library call: value - whole is exact for a double.
  const double whole = std::trunc(value);
  return static_cast<uint8_t>(static_cast<int>(whole) + (value - whole >= 0.5 ? 1 : 0));
}

}  // namespace felis::detail
