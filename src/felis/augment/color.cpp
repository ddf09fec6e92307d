// Color transforms: per-channel gains, brightness, contrast, saturation, hue and gamma.
// Values are computed in double and rounded by detail::round_to_uint8, except hue, which
// goes through OpenCV's float HSV conversion.
#include "felis/augment/opencv_image.h"
#include "felis/augment/transform.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

namespace felis {

namespace {

using LookupTable = std::array<uint8_t, 256>;

// A table of round_to_uint8(function(v)) for every uint8 value v.
template <typename Function>
LookupTable make_lookup_table(Function function) {
  LookupTable table;
  for (int v = 0; v < 256; ++v) table[v] = detail::round_to_uint8(function(static_cast<double>(v)));
  return table;
}

// Replaces every value v of every channel by table[v].
Image apply_lookup_table(const Image& image, const LookupTable& table) {
  detail::assert_valid_image(image);
  Image out = image;
  for (uint8_t& value : out.pixels) value = table[value];
  return out;
}

}  // namespace

Image tint(const Image& image, std::span<const double> gains) {
  detail::assert_valid_image(image);
  assert(gains.size() == static_cast<size_t>(image.shape.channels));
  assert(std::all_of(gains.begin(), gains.end(), [](double gain) { return gain >= 0.0; }));

  const size_t channels = gains.size();
  std::vector<LookupTable> tables;  // one per channel
  for (const double gain : gains) {
    tables.push_back(make_lookup_table([gain](double v) { return gain * v; }));
  }
  Image out = image;
  for (size_t first = 0; first < out.pixels.size(); first += channels) {
    for (size_t c = 0; c < channels; ++c) out.pixels[first + c] = tables[c][out.pixels[first + c]];
  }
  return out;
}

Image brightness(const Image& image, double delta) {
  assert(std::isfinite(delta));
  return apply_lookup_table(
      image, make_lookup_table([delta](double v) { return v + delta * 255.0; }));
}

Image contrast(const Image& image, double factor) {
  assert(factor >= 0.0);
  detail::assert_valid_image(image);
  // mean over all pixels and channels, summed exactly in an integer
  uint64_t sum = 0;
  for (const uint8_t value : image.pixels) sum += value;
  const double mean = static_cast<double>(sum) / static_cast<double>(image.pixels.size());
  return apply_lookup_table(
      image, make_lookup_table([mean, factor](double v) { return mean + factor * (v - mean); }));
}

Image saturation(const Image& image, double factor) {
  assert(factor >= 0.0);
  detail::assert_valid_image(image);
  if (image.shape.channels == 1) return image;

  // gray = 0.299 R + 0.587 G + 0.114 B (BT.601 luma), then out = gray + factor (v - gray)
  Image out = image;
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    uint8_t* rgb = out.pixels.data() + i;
    // In double the weights sum to 1 only up to rounding, so gray pixels are copied to
    // stay exact for any factor.
    if (rgb[0] == rgb[1] && rgb[1] == rgb[2]) continue;
    const double gray = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
    for (int c = 0; c < 3; ++c) rgb[c] = detail::round_to_uint8(gray + factor * (rgb[c] - gray));
  }
  return out;
}

Image hue(const Image& image, double degrees) {
  assert(std::isfinite(degrees));
  detail::assert_valid_image(image);
  if (image.shape.channels == 1) return image;

  // OpenCV converts float RGB in [0, 1] to H in degrees [0, 360), S and V in [0, 1].
  cv::Mat rgb;
  detail::input_mat_view(image).convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  cv::Mat hsv;
  cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);
  for (int y = 0; y < hsv.rows; ++y) {
    cv::Vec3f* row = hsv.ptr<cv::Vec3f>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      double h = std::fmod(static_cast<double>(row[x][0]) + degrees, 360.0);
      if (h < 0.0) h += 360.0;
      row[x][0] = static_cast<float>(h);
    }
  }
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);

  Image out = image;
  assert(rgb.isContinuous());
  const float* rotated = rgb.ptr<float>(0);  // (H, W, 3)
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    uint8_t* pixel = out.pixels.data() + i;
    // Gray pixels have no hue. Copying them keeps them exact whatever the float round
    // trip does.
    if (pixel[0] == pixel[1] && pixel[1] == pixel[2]) continue;
    for (size_t c = 0; c < 3; ++c) {
      pixel[c] = detail::round_to_uint8(255.0 * static_cast<double>(rotated[i + c]));
    }
  }
  return out;
}

Image gamma(const Image& image, double g) {
  assert(g > 0.0);
  return apply_lookup_table(
      image, make_lookup_table([g](double v) { return 255.0 * std::pow(v / 255.0, g); }));
}

}  // namespace felis
