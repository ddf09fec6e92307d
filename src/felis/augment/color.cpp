// Color transforms: per-channel gains, brightness, contrast, saturation, hue and gamma.
// Values are computed in double and rounded by detail::round_to_uint8, except hue, which
// goes through OpenCV's float HSV conversion. Tint reaches the same bytes in fixed point
// where that is exact.
#include "felis/augment/opencv_image.h"
#include "felis/augment/transform.h"
#include "felis/augment/transform_into.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <optional>

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

// Gains in fixed point, v' = min(255, (v m + 2^22) >> 23) with m = round(gain 2^23), which
// the compiler vectorizes where it cannot vectorize table lookups. The result equals
// round_to_uint8(gain v) unless gain v lies within about 2^-16 of a half integer for some v,
// so exact_gain_multiplier checks all 256 values of v against the lookup table.
constexpr int kGainBits = 23;
constexpr size_t kGainBlock = 48;  // values per block: 16 RGB pixels or 48 gray ones

uint8_t apply_fixed_point_gain(uint32_t value, uint32_t multiplier) {
  const uint32_t scaled = (value * multiplier + (uint32_t{1} << (kGainBits - 1))) >> kGainBits;
  return static_cast<uint8_t>(std::min<uint32_t>(scaled, 255));
}

// m for `gain`, if apply_fixed_point_gain(v, m) equals table[v] for every v. Gains above 2
// could overflow 32 bits, so they have none.
std::optional<uint32_t> exact_gain_multiplier(double gain, const LookupTable& table) {
  if (!(gain <= 2.0)) return std::nullopt;
  const auto multiplier = static_cast<uint32_t>(std::nearbyint(gain * (1 << kGainBits)));
  bool exact = true;
  for (uint32_t v = 0; v < 256; ++v) exact &= apply_fixed_point_gain(v, multiplier) == table[v];
  if (!exact) return std::nullopt;
  return multiplier;
}

// Scales the first count - count % 48 values, value k of each block of 48 by multipliers[k],
// and returns how many it scaled.
size_t apply_gain_blocks(const uint8_t* in, uint8_t* out, size_t count,
                         const std::array<uint32_t, kGainBlock>& multipliers) {
  size_t first = 0;
  for (; first + kGainBlock <= count; first += kGainBlock) {
    for (size_t k = 0; k < kGainBlock; ++k) {
      out[first + k] = apply_fixed_point_gain(in[first + k], multipliers[k]);
    }
  }
  return first;
}

}  // namespace

namespace detail {

void tint_into(ConstImageView image, std::span<const double> gains, ImageView out) {
  assert(gains.size() == static_cast<size_t>(image.shape.channels));
  assert(std::all_of(gains.begin(), gains.end(), [](double gain) { return gain >= 0.0; }));
  assert(out.shape.height == image.shape.height);
  assert(out.shape.width == image.shape.width);
  const size_t channels = gains.size();
  const size_t count = byte_count(image.shape);

  // One lookup table per channel. The fixed-point gains do the blocks of 48 values when
  // they reproduce every table, and the tables do the rest.
  std::array<LookupTable, 3> tables;
  std::array<uint32_t, kGainBlock> multipliers;
  bool exact = true;
  for (size_t c = 0; c < channels; ++c) {
    const double gain = gains[c];
    tables[c] = make_lookup_table([gain](double v) { return gain * v; });
    const auto multiplier = exact_gain_multiplier(gain, tables[c]);
    if (!multiplier) {
      exact = false;
      continue;
    }
    for (size_t k = c; k < kGainBlock; k += channels) multipliers[k] = *multiplier;
  }
  const size_t done = exact ? apply_gain_blocks(image.pixels, out.pixels, count, multipliers) : 0;
  for (size_t first = done; first < count; first += channels) {
    for (size_t c = 0; c < channels; ++c) {
      out.pixels[first + c] = tables[c][image.pixels[first + c]];
    }
  }
}

}  // namespace detail

Image tint(const Image& image, std::span<const double> gains) {
  Image out = detail::blank_like(image);
  detail::tint_into(detail::view(image), gains, detail::view(out));
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
