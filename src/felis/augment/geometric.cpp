// Geometric transforms: shifts, rotations, zoom, crops, flips, shear and elastic
// distortion, with the border modes they share. Warps are OpenCV's warpAffine and remap
// with bilinear interpolation.
#include "felis/augment/opencv_image.h"
#include "felis/augment/transform.h"
#include "felis/error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/fmt/fmt.h>

#include <cassert>
#include <cmath>
#include <cstring>
#include <numbers>

namespace felis {

using detail::input_mat_view;
using detail::mat_view;

namespace {

// The rotation centre ((W - 1) / 2, (H - 1) / 2), exact in float for any side below 2^23.
cv::Point2f image_centre(const Image& image) {
  return {static_cast<float>(image.shape.width - 1) / 2.0f,
          static_cast<float>(image.shape.height - 1) / 2.0f};
}

// Applies the (2, 3) affine matrix, which maps input to output coordinates, with
// bilinear interpolation.
Image warp_affine(const Image& image, const cv::Mat& matrix, Border border) {
  Image out = detail::blank_like(image);
  cv::Mat destination = mat_view(out);
  cv::warpAffine(input_mat_view(image), destination, matrix, destination.size(),
                 cv::INTER_LINEAR, detail::cv_border(border), cv::Scalar::all(0));
  assert(destination.data == out.pixels.data());
  return out;
}

// cv::flip with OpenCV's code: 1 mirrors left to right, 0 top to bottom, -1 both.
Image flip(const Image& image, int flip_code) {
  Image out = detail::blank_like(image);
  cv::Mat destination = mat_view(out);
  cv::flip(input_mat_view(image), destination, flip_code);
  assert(destination.data == out.pixels.data());
  return out;
}

// An exact quarter turn of a square image, so the output has the input's shape.
Image rotate_quarter_turn(const Image& image, cv::RotateFlags direction) {
  assert(image.shape.height == image.shape.width);
  Image out = detail::blank_like(image);
  cv::Mat destination = mat_view(out);
  cv::rotate(input_mat_view(image), destination, direction);
  assert(destination.data == out.pixels.data());
  return out;
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

Image shift(const Image& image, int dx, int dy, Border border) {
  detail::assert_valid_image(image);
  const int height = static_cast<int>(image.shape.height);
  const int width = static_cast<int>(image.shape.width);
  const size_t channels = static_cast<size_t>(image.shape.channels);
  const int mode = detail::cv_border(border);

  // out(x, y) = in(x - dx, y - dy), with the source index mapped into the image by the
  // border mode. cv::borderInterpolate returns -1 for BORDER_CONSTANT outside the image,
  // and those pixels keep blank_like's 0.
  std::vector<int> source_x(static_cast<size_t>(width));
  for (int x = 0; x < width; ++x) source_x[x] = cv::borderInterpolate(x - dx, width, mode);

  Image out = detail::blank_like(image);
  for (int y = 0; y < height; ++y) {
    const int source_y = cv::borderInterpolate(y - dy, height, mode);
    if (source_y < 0) continue;
    const uint8_t* in_row = image.pixels.data() + static_cast<size_t>(source_y) * width * channels;
    uint8_t* out_row = out.pixels.data() + static_cast<size_t>(y) * width * channels;
    for (int x = 0; x < width; ++x) {
      if (source_x[x] < 0) continue;
      std::memcpy(out_row + x * channels, in_row + source_x[x] * channels, channels);
    }
  }
  return out;
}

Image rotate(const Image& image, double degrees, Border border) {
  assert(std::isfinite(degrees));
  detail::assert_valid_image(image);

  // Multiples of 90 degrees move whole pixels. std::fmod is exact, so 450 and -270 are
  // recognised as 90.
  double turn = std::fmod(degrees, 360.0);
  if (turn < 0.0) turn += 360.0;
  const bool square = image.shape.height == image.shape.width;
  if (turn == 0.0 || turn == 360.0) return image;
  if (turn == 180.0) return flip(image, -1);
  if (square && turn == 90.0) return rotate_quarter_turn(image, cv::ROTATE_90_COUNTERCLOCKWISE);
  if (square && turn == 270.0) return rotate_quarter_turn(image, cv::ROTATE_90_CLOCKWISE);

  // OpenCV's positive angles turn counterclockwise on screen, with y pointing down.
  return warp_affine(image, cv::getRotationMatrix2D(image_centre(image), degrees, 1.0), border);
}

Image scale(const Image& image, double factor, Border border) {
  assert(factor > 0.0);
  detail::assert_valid_image(image);
  // out = factor (in - centre) + centre: a rotation matrix of angle 0 and scale `factor`.
  return warp_affine(image, cv::getRotationMatrix2D(image_centre(image), 0.0, factor), border);
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
  const cv::Mat matrix = (cv::Mat_<double>(2, 3) << 1.0, t, -t * cy, 0.0, 1.0, 0.0);
  return warp_affine(image, matrix, border);
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
