// Geometric transforms: shifts, rotations, zoom, crops, flips, shear and elastic
// distortion, with the border modes they share. Affine warps give the bytes of OpenCV's
// warpAffine (see affine_warp.cpp), and elastic distortion is OpenCV's remap, both with
// bilinear interpolation.
#include "felis/augment/affine_warp.h"
#include "felis/augment/opencv_image.h"
#include "felis/augment/transform.h"
#include "felis/augment/transform_into.h"
#include "felis/error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

namespace felis {

using detail::input_mat_view;
using detail::mat_view;

namespace {

// The rotation centre ((W - 1) / 2, (H - 1) / 2), exact in float for any side below 2^23.
cv::Point2f image_centre(const ImageShape& shape) {
  return {static_cast<float>(shape.width - 1) / 2.0f, static_cast<float>(shape.height - 1) / 2.0f};
}

// The (2, 3) matrix of a rotation by `degrees` and a zoom by `factor` about the centre.
// OpenCV's positive angles turn counterclockwise on screen, with y pointing down.
std::array<double, 6> rotation_matrix(const ImageShape& shape, double degrees, double factor) {
  const cv::Matx23d matrix = cv::getRotationMatrix2D_(image_centre(shape), degrees, factor);
  std::array<double, 6> entries;
  std::copy(matrix.val, matrix.val + 6, entries.begin());
  return entries;
}

// Applies the (2, 3) affine matrix, which maps input to output coordinates, with
// bilinear interpolation.
Image warp_affine(const Image& image, const std::array<double, 6>& matrix, Border border) {
  Image out = detail::blank_like(image);
  detail::WarpBuffers buffers;
  detail::warp_affine_into(detail::view(image), matrix, border, detail::view(out), buffers);
  return out;
}

// cv::flip with OpenCV's code: 1 mirrors left to right, 0 top to bottom, -1 both.
void flip_into(ConstImageView image, int flip_code, ImageView out) {
  cv::Mat destination = mat_view(out);
  cv::flip(input_mat_view(image), destination, flip_code);
  assert(destination.data == out.pixels);
}

Image flip(const Image& image, int flip_code) {
  Image out = detail::blank_like(image);
  flip_into(detail::view(image), flip_code, detail::view(out));
  return out;
}

// An exact quarter turn of a square image, so the output has the input's shape.
void rotate_quarter_turn(ConstImageView image, cv::RotateFlags direction, ImageView out) {
  assert(image.shape.height == image.shape.width);
  cv::Mat destination = mat_view(out);
  cv::rotate(input_mat_view(image), destination, direction);
  assert(destination.data == out.pixels);
}

// The source index of output index `i` along an axis of `size` pixels shifted by `delta`:
// i - delta inside the image, else mapped by the OpenCV border code `mode`, which gives -1
// for BORDER_CONSTANT.
int shift_source(int i, int delta, int size, int mode) {
  const int source = i - delta;
  return source >= 0 && source < size ? source : cv::borderInterpolate(source, size, mode);
}

}  // namespace

std::string to_string(Border border) {
  switch (border) {
    case Border::reflect: return "reflect";
    case Border::constant: return "constant";
    case Border::replicate: return "replicate";
  }
  assert(false && "unknown Border");
  return "reflect";
}

Border border_from_string(const std::string& name) {
  if (name == "reflect") return Border::reflect;
  if (name == "constant") return Border::constant;
  if (name == "replicate") return Border::replicate;
  throw UsageError(
      fmt::format("unknown border mode '{}'; use one of: reflect, constant, replicate", name));
}

namespace detail {

void shift_into(ConstImageView image, int dx, int dy, Border border, ImageView out) {
  const int height = static_cast<int>(image.shape.height);
  const int width = static_cast<int>(image.shape.width);
  const size_t channels = static_cast<size_t>(image.shape.channels);
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  const int mode = cv_border(border);
  assert(out.shape.height == height);
  assert(out.shape.width == width);

  // out(x, y) = in(x - dx, y - dy). Output columns [first, last) read one contiguous span
  // of their source row. The other columns, and rows, take their source from the border
  // mode, where -1 (outside, constant) gives 0.
  const int first = std::clamp(dx, 0, width);
  const int last = std::clamp(width + dx, 0, width);
  struct EdgeColumn {
    int x;
    int source_x;
  };
  std::vector<EdgeColumn> edge_columns;
  for (int x = 0; x < width; ++x) {
    if (x < first || x >= last) edge_columns.push_back({x, shift_source(x, dx, width, mode)});
  }

  for (int y = 0; y < height; ++y) {
    uint8_t* out_row = out.pixels + static_cast<size_t>(y) * row_bytes;
    const int source_y = shift_source(y, dy, height, mode);
    if (source_y < 0) {
      std::memset(out_row, 0, row_bytes);
      continue;
    }
    const uint8_t* in_row = image.pixels + static_cast<size_t>(source_y) * row_bytes;
    if (last > first) {
      std::memcpy(out_row + first * channels, in_row + (first - dx) * channels,
                  static_cast<size_t>(last - first) * channels);
    }
    for (const EdgeColumn& column : edge_columns) {
      uint8_t* pixel = out_row + column.x * channels;
      if (column.source_x < 0) {
        std::memset(pixel, 0, channels);
      } else {
        std::memcpy(pixel, in_row + column.source_x * channels, channels);
      }
    }
  }
}

void rotate_into(ConstImageView image, double degrees, Border border, ImageView out,
                 WarpBuffers& buffers) {
  assert(std::isfinite(degrees));
  // Multiples of 90 degrees move whole pixels. std::fmod is exact, so 450 and -270 are
  // recognised as 90.
  double turn = std::fmod(degrees, 360.0);
  if (turn < 0.0) turn += 360.0;
  const bool square = image.shape.height == image.shape.width;
  if (turn == 0.0 || turn == 360.0) {
    std::memcpy(out.pixels, image.pixels, byte_count(image.shape));
  } else if (turn == 180.0) {
    flip_into(image, -1, out);
  } else if (square && turn == 90.0) {
    rotate_quarter_turn(image, cv::ROTATE_90_COUNTERCLOCKWISE, out);
  } else if (square && turn == 270.0) {
    rotate_quarter_turn(image, cv::ROTATE_90_CLOCKWISE, out);
  } else {
    warp_affine_into(image, rotation_matrix(image.shape, degrees, 1.0), border, out, buffers);
  }
}

}  // namespace detail

Image shift(const Image& image, int dx, int dy, Border border) {
  Image out = detail::blank_like(image);
  detail::shift_into(detail::view(image), dx, dy, border, detail::view(out));
  return out;
}

Image rotate(const Image& image, double degrees, Border border) {
  Image out = detail::blank_like(image);
  detail::WarpBuffers buffers;
  detail::rotate_into(detail::view(image), degrees, border, detail::view(out), buffers);
  return out;
}

Image scale(const Image& image, double factor, Border border) {
  assert(factor > 0.0);
  detail::assert_valid_image(image);
  // out = factor (in - centre) + centre: a rotation matrix of angle 0 and scale `factor`.
  return warp_affine(image, rotation_matrix(image.shape, 0.0, factor), border);
}

Image crop_resize(const Image& image, int x, int y, int width, int height) {
  detail::assert_valid_image(image);
  assert(x >= 0);
  assert(y >= 0);
  assert(width >= 1);
  assert(height >= 1);
  assert(x + width <= image.shape.width);
  assert(y + height <= image.shape.height);

  Image out = detail::blank_like(image);
  cv::Mat destination = mat_view(out);
  // cv::resize copies when the rectangle already has the output's size.
  cv::resize(input_mat_view(image)(cv::Rect(x, y, width, height)), destination,
             destination.size(), 0.0, 0.0, cv::INTER_LINEAR);
  assert(destination.data == out.pixels.data());
  return out;
}

Image flip_horizontal(const Image& image) { return flip(image, 1); }

Image flip_vertical(const Image& image) { return flip(image, 0); }

Image shear(const Image& image, double degrees, Border border) {
  assert(std::abs(degrees) < 90.0);
  detail::assert_valid_image(image);
  // x' = x + t (y - cy), y' = y, with t = tan(degrees).
  const double t = std::tan(degrees * std::numbers::pi / 180.0);
  const double cy = static_cast<double>(image.shape.height - 1) / 2.0;
  return warp_affine(image, {1.0, t, -t * cy, 0.0, 1.0, 0.0}, border);
}

Image elastic(const Image& image, double alpha, double sigma, SampleRandom& random,
              Border border) {
  assert(alpha >= 0.0);
  assert(sigma > 0.0);
  detail::assert_valid_image(image);
  const int height = static_cast<int>(image.shape.height);
  const int width = static_cast<int>(image.shape.width);

  // Displacement fields dx, dy (H, W): uniform draws in [-1, 1] in row-major order, all
  // of dx before dy, then smoothed by a Gaussian. cv::Size(0, 0) lets OpenCV size the
  // kernel from sigma. GaussianBlur may work in place.
  cv::Mat dx(height, width, CV_64F);
  cv::Mat dy(height, width, CV_64F);
  for (cv::Mat* field : {&dx, &dy}) {
    for (int y = 0; y < height; ++y) {
      double* row = field->ptr<double>(y);
      for (int x = 0; x < width; ++x) row[x] = random.uniform(-1.0, 1.0);
    }
    cv::GaussianBlur(*field, *field, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
  }

  // out(x, y) = in(x + alpha dx(y, x), y + alpha dy(y, x)), interpolated bilinearly.
  cv::Mat map_x(height, width, CV_32F);
  cv::Mat map_y(height, width, CV_32F);
  for (int y = 0; y < height; ++y) {
    const double* dx_row = dx.ptr<double>(y);
    const double* dy_row = dy.ptr<double>(y);
    float* map_x_row = map_x.ptr<float>(y);
    float* map_y_row = map_y.ptr<float>(y);
    for (int x = 0; x < width; ++x) {
      map_x_row[x] = static_cast<float>(x + alpha * dx_row[x]);
      map_y_row[x] = static_cast<float>(y + alpha * dy_row[x]);
    }
  }

  Image out = detail::blank_like(image);
  cv::Mat destination = mat_view(out);
  cv::remap(input_mat_view(image), destination, map_x, map_y, cv::INTER_LINEAR,
            detail::cv_border(border), cv::Scalar::all(0));
  assert(destination.data == out.pixels.data());
  return out;
}

}  // namespace felis
