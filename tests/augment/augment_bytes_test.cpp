// Exact output bytes of augmentation. Training runs and stored study results depend on
// them, so a faster implementation must keep every one:
//  - hashes of the bytes that shift, rotate, tint, scale, shear and whole pipelines give for
//    fixed images, seeds, epochs and indices, recorded from the pixel-by-pixel shift, the
//    std::lround lookup tables and cv::warpAffine that the fast paths replaced;
//  - the fast paths against those oracles on random cases: the affine warp against
//    cv::warpAffine, shift against a per-pixel copy, tint and rounding against std::lround.
#include "felis/augment/affine_warp.h"
#include "felis/augment/augment_dataset.h"
#include "felis/augment/opencv_image.h"
#include "felis/augment/pipeline.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace felis {
namespace {

// Seeded uniform values in [0, 255]. std::mt19937_64's output is fixed by the C++
// standard, so the image is the same with every standard library.
Image seeded_image(int64_t height, int64_t width, int64_t channels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Image image{.shape = {.height = height, .width = width, .channels = channels}, .pixels = {}};
  image.pixels.resize(static_cast<size_t>(height * width * channels));
  for (uint8_t& value : image.pixels) value = static_cast<uint8_t>(rng() % 256);
  return image;
}

// 64-bit FNV-1a over the bytes, printed in hex so that a new expected value can be pasted.
std::string fnv1a_hex(const std::vector<uint8_t>& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const uint8_t byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(hash));
  return text;
}

struct PinnedCase {
  std::string spec;
  int64_t height;
  int64_t width;
  int64_t channels;
  uint64_t seed;
  int64_t epoch;
  int64_t index;
  std::string expected_hash;
};

// The image is seeded_image(height, width, channels, 5) for every case.
const std::vector<PinnedCase>& pinned_cases() {
  static const std::vector<PinnedCase> cases = {
      {"shift:4", 64, 64, 3, 1, 0, 0, "0x290164d54b3158ab"},
      {"shift:4", 64, 64, 3, 1, 7, 123, "0x91a7b46ce1344641"},
      {"rotate:15", 64, 64, 3, 1, 0, 0, "0x6e67361794126cfc"},
      {"rotate:15", 64, 64, 3, 1, 7, 123, "0xb510c51bc11356a3"},
      {"tint:0.2", 64, 64, 3, 1, 0, 0, "0x82049addf4e98e20"},
      {"tint:0.2", 64, 64, 3, 1, 7, 123, "0x66c1260c05fb9e87"},
      {"shift:4, rotate:15, tint:0.2", 64, 64, 3, 1, 0, 0, "0x8cc3d3c9a9784523"},
      {"shift:4, rotate:15, tint:0.2", 64, 64, 3, 1, 7, 123, "0x417b765b344ee771"},
      {"shift:4, rotate:15, tint:0.2", 64, 64, 3, 2021, 1999, 208, "0x8be0a61b53852ec8"},
      {"shift:5:border=constant, rotate:40:border=constant", 20, 24, 3, 3, 1, 2, "0x2a34bda422e7f07e"},
      {"shift:5:border=replicate, rotate:40:border=replicate", 20, 24, 3, 3, 1, 2, "0x202e784d3b13c868"},
      {"rotate:180", 20, 24, 3, 3, 1, 2, "0x9d04eb479c4dc82f"},
      {"rotate:180", 17, 17, 1, 4, 0, 9, "0xe918f44d58ce4818"},
      {"scale:0.5, shear:30", 20, 24, 3, 3, 1, 2, "0xe5677a4d657f0b61"},
      {"scale:0.9:border=constant", 28, 28, 1, 8, 2, 3, "0xa087097e828dc8cf"},
      {"shift:3, rotate:15, tint:1", 28, 28, 1, 8, 2, 3, "0xb195361137e8a9cf"},
      {"shift:2, rotate:20, scale:0.2, crop:0.7, hflip, vflip, shear:10, elastic:8:3, tint:0.3, "
       "brightness:0.2, contrast:0.3, saturation:0.5, hue:30, gamma:0.5, noise:10, blur:1, cutout:3",
       20, 24, 3, 6, 3, 4, "0xc594fe1b6194670f"},
  };
  return cases;
}

TEST(AugmentBytes, PipelineApplyKeepsPinnedBytes) {
  for (const PinnedCase& c : pinned_cases()) {
    const Image image = seeded_image(c.height, c.width, c.channels, 5);
    const Pipeline pipeline = Pipeline::parse(c.spec);
    pipeline.check(image.shape);
    const Image out = pipeline.apply(image, c.seed, c.epoch, c.index);
    EXPECT_EQ(fnv1a_hex(out.pixels), c.expected_hash)
        << "'" << c.spec << "' on " << c.height << "x" << c.width << "x" << c.channels
        << ", seed " << c.seed << ", epoch " << c.epoch << ", index " << c.index;
  }
}

// augment_images reaches the transforms through its own buffers, so it is pinned separately:
// the image at `index` of a data set gets the bytes of the case above.
TEST(AugmentBytes, AugmentImagesKeepsPinnedBytes) {
  ThreadPool pool(2);
  for (const PinnedCase& c : pinned_cases()) {
    const Image image = seeded_image(c.height, c.width, c.channels, 5);
    Dataset data;
    data.count = c.index + 1;
    data.height = c.height;
    data.width = c.width;
    data.channels = c.channels;
    data.pixels.resize(static_cast<size_t>(data.count * data.image_size()));
    std::copy(image.pixels.begin(), image.pixels.end(),
              data.pixels.begin() + c.index * data.image_size());
    data.labels.assign(static_cast<size_t>(data.count), 0);
    const std::vector<int64_t> indices = {c.index};

    Dataset out;
    augment_images(data, indices, Pipeline::parse(c.spec), c.seed, c.epoch, pool, out);
    EXPECT_EQ(fnv1a_hex(out.pixels), c.expected_hash)
        << "'" << c.spec << "' on " << c.height << "x" << c.width << "x" << c.channels
        << ", seed " << c.seed << ", epoch " << c.epoch << ", index " << c.index;
  }
}

constexpr std::array kBorders = {Border::reflect, Border::constant, Border::replicate};

// The index of the first differing byte, or -1 when the bytes are equal.
int64_t first_difference(const std::vector<uint8_t>& actual, const std::vector<uint8_t>& expected) {
  if (actual.size() != expected.size()) return 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i]) return static_cast<int64_t>(i);
  }
  return -1;
}

Image opencv_warp(const Image& image, const std::array<double, 6>& matrix, Border border) {
  Image out = detail::blank_like(image);
  cv::Mat destination = detail::mat_view(out);
  cv::warpAffine(detail::input_mat_view(image), destination, cv::Matx23d(matrix.data()),
                 destination.size(), cv::INTER_LINEAR, detail::cv_border(border), cv::Scalar::all(0));
  return out;
}

// Rotations, zooms in and out, and shears, on square, wide, tall and one-pixel images: every
// kind of matrix the pipeline builds, and zooms far enough out that warp_affine_into hands
// them to OpenCV.
TEST(AffineWarp, MatchesOpenCVWarpAffine) {
  const std::vector<std::pair<int64_t, int64_t>> sides = {{64, 64}, {28, 28}, {17, 40}, {41, 9},
                                                          {1, 1},   {2, 3},   {5, 1}};
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int64_t cases = 0;
  for (const auto& [height, width] : sides) {
    for (const int64_t channels : {1, 3}) {
      for (const Border border : kBorders) {
        for (int trial = 0; trial < 60; ++trial) {
          const Image image = seeded_image(height, width, channels, rng());
          const cv::Point2f centre(static_cast<float>(width - 1) / 2.0f, static_cast<float>(height - 1) / 2.0f);
          cv::Matx23d matrix;
          if (trial % 3 == 0) {
            matrix = cv::getRotationMatrix2D_(centre, 360.0 * unit(rng) - 180.0, 1.0);
          } else if (trial % 3 == 1) {
            matrix = cv::getRotationMatrix2D_(centre, 30.0 * unit(rng) - 15.0, 0.1 + 1.8 * unit(rng));
          } else {
            const double t = std::tan((120.0 * unit(rng) - 60.0) * std::numbers::pi / 180.0);
            matrix = cv::Matx23d(1.0, t, -t * static_cast<double>(height - 1) / 2.0, 0.0, 1.0, 0.0);
          }
          std::array<double, 6> entries;
          std::copy(matrix.val, matrix.val + 6, entries.begin());

          Image out = detail::blank_like(image);
          detail::WarpBuffers buffers;
          detail::warp_affine_into(detail::view(image), entries, border, detail::view(out), buffers);
          const Image expected = opencv_warp(image, entries, border);
          EXPECT_EQ(first_difference(out.pixels, expected.pixels), -1)
              << height << "x" << width << "x" << channels << ", border " << to_string(border)
              << ", matrix (" << entries[0] << ", " << entries[1] << ", " << entries[2] << "; "
              << entries[3] << ", " << entries[4] << ", " << entries[5] << ")";
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 7 * 2 * 3 * 60);
}

// out(x, y) = in(x - dx, y - dy) one pixel at a time, with cv::borderInterpolate for the
// source outside the image and 0 where it returns -1.
Image shift_oracle(const Image& image, int dx, int dy, Border border) {
  Image out = detail::blank_like(image);
  const int height = static_cast<int>(image.shape.height);
  const int width = static_cast<int>(image.shape.width);
  const int channels = static_cast<int>(image.shape.channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int source_x = cv::borderInterpolate(x - dx, width, detail::cv_border(border));
      const int source_y = cv::borderInterpolate(y - dy, height, detail::cv_border(border));
      if (source_x < 0 || source_y < 0) continue;
      for (int c = 0; c < channels; ++c) {
        out.pixels[(y * width + x) * channels + c] =
            image.pixels[(source_y * width + source_x) * channels + c];
      }
    }
  }
  return out;
}

// Every shift from fully out to the left and top to fully out to the right and bottom.
TEST(ShiftSpans, MatchPerPixelShift) {
  for (const int64_t channels : {1, 3}) {
    const Image image = seeded_image(6, 9, channels, 3);
    for (const Border border : kBorders) {
      for (int dy = -8; dy <= 8; ++dy) {
        for (int dx = -11; dx <= 11; ++dx) {
          const Image out = shift(image, dx, dy, border);
          EXPECT_EQ(first_difference(out.pixels, shift_oracle(image, dx, dy, border).pixels), -1)
              << "dx " << dx << ", dy " << dy << ", border " << to_string(border) << ", C "
              << channels;
        }
      }
    }
  }
}

// round_to_uint8 rounds like std::lround, including values one ulp beside a half.
TEST(RoundToUint8, MatchesLround) {
  std::vector<double> values = {0.0, -0.0, -1.0, 0.5, 1.5, 254.5, 254.49999999999997, 255.0,
                                300.0, 1e-300, std::numeric_limits<double>::infinity()};
  for (int k = 0; k < 255; ++k) {
    const double half = k + 0.5;
    values.push_back(half);
    values.push_back(std::nextafter(half, 0.0));
    values.push_back(std::nextafter(half, 256.0));
  }
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> any(-10.0, 270.0);
  for (int i = 0; i < 100000; ++i) values.push_back(any(rng));
  for (const double value : values) {
    long expected = 0;
    if (value >= 255.0) {
      expected = 255;
    } else if (value > 0.0) {
      expected = std::lround(value);
    }
    EXPECT_EQ(detail::round_to_uint8(value), expected) << "value " << value;
  }
  EXPECT_EQ(detail::round_to_uint8(std::numeric_limits<double>::quiet_NaN()), 0);
}

// Gains a little below (k + 0.5) / v put gain v just below a half, where the fixed-point
// gains would round up, so tint falls back to its lookup tables. Random gains rarely do.
TEST(TintGains, MatchLroundNearHalves) {
  std::vector<uint8_t> every_value(256 * 3);
  for (size_t i = 0; i < every_value.size(); ++i) every_value[i] = static_cast<uint8_t>(i / 3);
  const Image rgb{.shape = {.height = 16, .width = 16, .channels = 3}, .pixels = every_value};
  const Image gray{.shape = {.height = 16, .width = 16, .channels = 1},
                   .pixels = std::vector<uint8_t>(every_value.begin(), every_value.begin() + 256)};

  std::vector<double> gains = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 0.5 - 1e-9, 1.5 - 1e-9, 2.5 / 3.0 - 1e-10};
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> unit(0.0, 2.0);
  for (int i = 0; i < 3000; ++i) gains.push_back(unit(rng));
  for (size_t i = 0; i + 2 < gains.size(); ++i) {
    const std::array<double, 3> three = {gains[i], gains[i + 1], gains[i + 2]};
    const Image out = tint(rgb, three);
    const Image out_gray = tint(gray, std::span(three).first(1));
    for (size_t k = 0; k < out.pixels.size(); ++k) {
      const double exact = three[k % 3] * rgb.pixels[k];
      ASSERT_EQ(out.pixels[k], exact >= 255.0 ? 255 : std::lround(exact))
          << "gain " << three[k % 3] << ", value " << int{rgb.pixels[k]};
    }
    for (size_t k = 0; k < out_gray.pixels.size(); ++k) {
      const double exact = three[0] * gray.pixels[k];
      ASSERT_EQ(out_gray.pixels[k], exact >= 255.0 ? 255 : std::lround(exact))
          << "gain " << three[0] << ", value " << int{gray.pixels[k]};
    }
  }
}

}  // namespace
}  // namespace felis
