// Noise and occlusion: additive Gaussian noise, Gaussian blur and cutout.
#include "felis/augment/opencv_image.h"
#include "felis/augment/transform.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cassert>

namespace felis {

Image gaussian_noise(const Image& image, double sigma, SampleRandom& random) {
  assert(sigma >= 0.0);
  detail::assert_valid_image(image);
  // v' = round(v + sigma z), z standard normal, one draw per value in (H, W, C) order
  Image out = image;
  for (uint8_t& value : out.pixels) {
    value = detail::round_to_uint8(static_cast<double>(value) + sigma * random.normal());
  }
  return out;
}

Image blur(const Image& image, double sigma) {
  assert(sigma >= 0.0);
  detail::assert_valid_image(image);
  if (sigma == 0.0) return image;

  Image out = detail::blank_like(image);
  cv::Mat destination = detail::mat_view(out);
  // cv::Size(0, 0) lets OpenCV size the kernel from sigma.
  cv::GaussianBlur(detail::input_mat_view(image), destination, cv::Size(0, 0), sigma, sigma,
                   cv::BORDER_REFLECT_101);
  assert(destination.data == out.pixels.data());
  return out;
}

Image cutout(const Image& image, int x, int y, int size, uint8_t fill) {
  assert(size >= 0);
  detail::assert_valid_image(image);
  const int64_t width = image.shape.width;
  const int64_t channels = image.shape.channels;

  // The square covers [x - size / 2, x - size / 2 + size) on each axis, so an even side
  // reaches one pixel further left and up of (x, y) than right and down.
  const int64_t left = std::max<int64_t>(int64_t{x} - size / 2, 0);
  const int64_t top = std::max<int64_t>(int64_t{y} - size / 2, 0);
  const int64_t right = std::min<int64_t>(int64_t{x} - size / 2 + size, width);
  const int64_t bottom = std::min<int64_t>(int64_t{y} - size / 2 + size, image.shape.height);

  Image out = image;
  for (int64_t row = top; row < bottom; ++row) {
    for (int64_t column = left; column < right; ++column) {
      uint8_t* pixel = out.pixels.data() + (row * width + column) * channels;
      std::fill(pixel, pixel + channels, fill);
    }
  }
  return out;
}

}  // namespace felis
