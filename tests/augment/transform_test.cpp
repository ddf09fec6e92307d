// Image transforms: hand-computed small cases, identities (shift and back, four quarter
// turns, flips twice, factors that change nothing), saturation at 0 and 255, seeded
// determinism, and the output shape of every transform.
#include "felis/augment/transform.h"

#include "felis/error.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <random>
#include <string>

namespace felis {
namespace {

constexpr std::array kBorders = {Border::reflect, Border::constant, Border::replicate};

Image image_of(int64_t height, int64_t width, int64_t channels, std::vector<uint8_t> pixels) {
  EXPECT_EQ(pixels.size(), static_cast<size_t>(height * width * channels));
  return Image{.shape = {.height = height, .width = width, .channels = channels},
               .pixels = std::move(pixels)};
}

// Seeded uniform values in [0, 255].
Image random_image(int64_t height, int64_t width, int64_t channels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width * channels));
  for (uint8_t& value : pixels) value = static_cast<uint8_t>(rng() % 256);
  return image_of(height, width, channels, std::move(pixels));
}

Image uniform_image(int64_t height, int64_t width, int64_t channels, uint8_t value) {
  return image_of(height, width, channels,
                  std::vector<uint8_t>(static_cast<size_t>(height * width * channels), value));
}

// The 3 x 3 gray image with values 1 to 9 in row-major order.
Image one_to_nine() { return image_of(3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }

uint8_t at(const Image& image, int64_t x, int64_t y, int64_t c = 0) {
  return image.pixels[static_cast<size_t>((y * image.shape.width + x) * image.shape.channels + c)];
}

std::string shape_text(const ImageShape& shape) {
  return std::to_string(shape.height) + "x" + std::to_string(shape.width) + "x" +
         std::to_string(shape.channels);
}

// Compares the pixels with x in [x_margin, W - x_margin) and y in [y_margin, H - y_margin),
// and on failure names the first differing value, the count and the largest difference.
testing::AssertionResult same_pixels(const Image& actual, const Image& expected,
                                     int64_t x_margin = 0, int64_t y_margin = 0) {
  const ImageShape& shape = expected.shape;
  if (actual.shape.height != shape.height || actual.shape.width != shape.width ||
      actual.shape.channels != shape.channels || actual.pixels.size() != expected.pixels.size()) {
    return testing::AssertionFailure() << "shape " << shape_text(actual.shape) << " (H x W x C), "
                                       << "expected " << shape_text(shape);
  }
  int64_t differences = 0;
  int largest = 0;
  std::string first;
  for (int64_t y = y_margin; y < shape.height - y_margin; ++y) {
    for (int64_t x = x_margin; x < shape.width - x_margin; ++x) {
      for (int64_t c = 0; c < shape.channels; ++c) {
        const int difference = std::abs(at(actual, x, y, c) - at(expected, x, y, c));
        if (difference == 0) continue;
        if (differences == 0) {
          first = "(x " + std::to_string(x) + ", y " + std::to_string(y) + ", c " +
                  std::to_string(c) + ") is " + std::to_string(at(actual, x, y, c)) +
                  ", expected " + std::to_string(at(expected, x, y, c));
        }
        ++differences;
        largest = std::max(largest, difference);
      }
    }
  }
  if (differences == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << differences << " values differ, the largest by "
                                     << largest << "; first " << first;
}

// ---- Border names

TEST(TransformBorder, NamesRoundTrip) {
  for (const Border border : kBorders) {
    EXPECT_EQ(border_from_string(to_string(border)), border) << to_string(border);
  }
  EXPECT_EQ(to_string(Border::reflect), "reflect");
  EXPECT_EQ(to_string(Border::constant), "constant");
  EXPECT_EQ(to_string(Border::replicate), "replicate");
}

TEST(TransformBorder, UnknownNameThrows) {
  try {
    border_from_string("wrap");
    FAIL() << "expected felis::UsageError";
  } catch (const UsageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'wrap'"), std::string::npos) << message;
    EXPECT_NE(message.find("reflect, constant, replicate"), std::string::npos) << message;
  }
}

// ---- Geometric transforms

TEST(TransformGeometric, ShiftAndBackRestoresInterior) {
  const Image image = random_image(9, 11, 3, /*seed=*/1);
  const std::array<std::pair<int, int>, 8> moves = {
      {{1, 0}, {0, 1}, {2, 3}, {-3, 2}, {4, -1}, {-2, -4}, {5, 0}, {0, -4}}};
  for (const Border border : kBorders) {
    for (const auto& [dx, dy] : moves) {
      const Image moved = shift(image, dx, dy, border);
      const Image back = shift(moved, -dx, -dy, border);
      EXPECT_TRUE(same_pixels(back, image, std::abs(dx), std::abs(dy)))
          << "dx " << dx << ", dy " << dy << ", border " << to_string(border);
    }
  }
}

TEST(TransformGeometric, ShiftRightThreeByThree) {
  // out(x, y) = in(x - 1, y). Column -1 reads as 0 (constant), column 0 (replicate) or
  // column 1 (reflect).
  const Image image = one_to_nine();
  EXPECT_TRUE(same_pixels(shift(image, 1, 0, Border::constant),
                          image_of(3, 3, 1, {0, 1, 2, 0, 4, 5, 0, 7, 8})));
  EXPECT_TRUE(same_pixels(shift(image, 1, 0, Border::replicate),
                          image_of(3, 3, 1, {1, 1, 2, 4, 4, 5, 7, 7, 8})));
  EXPECT_TRUE(same_pixels(shift(image, 1, 0, Border::reflect),
                          image_of(3, 3, 1, {2, 1, 2, 5, 4, 5, 8, 7, 8})));
}

TEST(TransformGeometric, ShiftUpThreeByThree) {
  // out(x, y) = in(x, y + 1). Row 3 reads as 0 (constant), row 2 (replicate) or row 1
  // (reflect).
  const Image image = one_to_nine();
  EXPECT_TRUE(same_pixels(shift(image, 0, -1, Border::constant),
                          image_of(3, 3, 1, {4, 5, 6, 7, 8, 9, 0, 0, 0})));
  EXPECT_TRUE(same_pixels(shift(image, 0, -1, Border::replicate),
                          image_of(3, 3, 1, {4, 5, 6, 7, 8, 9, 7, 8, 9})));
  EXPECT_TRUE(same_pixels(shift(image, 0, -1, Border::reflect),
                          image_of(3, 3, 1, {4, 5, 6, 7, 8, 9, 4, 5, 6})));
}

TEST(TransformGeometric, ShiftDiagonalThreeByThree) {
  // out(x, y) = in(x - 2, y - 1): reflection maps column -2 to 2, -1 to 1 and row -1 to 1.
  const Image image = one_to_nine();
  EXPECT_TRUE(same_pixels(shift(image, 2, 1, Border::reflect),
                          image_of(3, 3, 1, {6, 5, 4, 3, 2, 1, 6, 5, 4})));
  EXPECT_TRUE(same_pixels(shift(image, 2, 1, Border::constant),
                          image_of(3, 3, 1, {0, 0, 0, 0, 0, 1, 0, 0, 4})));
  EXPECT_TRUE(same_pixels(shift(image, 2, 1, Border::replicate),
                          image_of(3, 3, 1, {1, 1, 1, 1, 1, 1, 4, 4, 4})));
}

TEST(TransformGeometric, ShiftKeepsChannelsTogether) {
  const Image image = image_of(1, 2, 3, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(same_pixels(shift(image, 1, 0, Border::constant),
                          image_of(1, 2, 3, {0, 0, 0, 1, 2, 3})));
  EXPECT_TRUE(same_pixels(shift(image, -1, 0, Border::replicate),
                          image_of(1, 2, 3, {4, 5, 6, 4, 5, 6})));
}

TEST(TransformGeometric, RotateFullTurnsAreIdentity) {
  const Image image = random_image(5, 8, 3, /*seed=*/2);
  for (const double degrees : {0.0, 360.0, -360.0, 720.0}) {
    for (const Border border : kBorders) {
      EXPECT_TRUE(same_pixels(rotate(image, degrees, border), image))
          << degrees << " degrees, border " << to_string(border);
    }
  }
}

TEST(TransformGeometric, RotateNinetyFourTimesIsIdentity) {
  const Image image = random_image(6, 6, 3, /*seed=*/3);
  Image turned = image;
  for (int i = 0; i < 4; ++i) turned = rotate(turned, 90.0, Border::constant);
  EXPECT_TRUE(same_pixels(turned, image));
}

TEST(TransformGeometric, RotateNinetyTurnsCounterclockwise) {
  // The top right corner moves to the top left.
  EXPECT_TRUE(same_pixels(rotate(image_of(2, 2, 1, {1, 2, 3, 4}), 90.0, Border::constant),
                          image_of(2, 2, 1, {2, 4, 1, 3})));
  const Image image = one_to_nine();
  const Image counterclockwise = image_of(3, 3, 1, {3, 6, 9, 2, 5, 8, 1, 4, 7});
  const Image clockwise = image_of(3, 3, 1, {7, 4, 1, 8, 5, 2, 9, 6, 3});
  EXPECT_TRUE(same_pixels(rotate(image, 90.0, Border::reflect), counterclockwise));
  EXPECT_TRUE(same_pixels(rotate(image, -270.0, Border::reflect), counterclockwise));
  EXPECT_TRUE(same_pixels(rotate(image, 450.0, Border::reflect), counterclockwise));
  EXPECT_TRUE(same_pixels(rotate(image, 270.0, Border::reflect), clockwise));
  EXPECT_TRUE(same_pixels(rotate(image, -90.0, Border::reflect), clockwise));
}

TEST(TransformGeometric, RotateNinetyWarpsNonSquare) {
  // H 3, W 5: the centre (2, 1) is a pixel, so the warp lands on whole pixels. Turning
  // counterclockwise gives out(x, y) = in(3 - y, x - 1), and 0 where that is outside.
  const Image image = random_image(3, 5, 1, /*seed=*/4);
  const Image turned = rotate(image, 90.0, Border::constant);
  ASSERT_EQ(turned.shape.height, 3);
  ASSERT_EQ(turned.shape.width, 5);
  for (int64_t y = 0; y < 3; ++y) {
    for (int64_t x = 0; x < 5; ++x) {
      const bool inside = x >= 1 && x <= 3;
      const uint8_t expected = inside ? at(image, 3 - y, x - 1) : 0;
      EXPECT_EQ(at(turned, x, y), expected) << "x " << x << ", y " << y;
    }
  }
}

TEST(TransformGeometric, Rotate180EqualsBothFlips) {
  const Image image = random_image(4, 7, 3, /*seed=*/5);
  const Image flipped = flip_horizontal(flip_vertical(image));
  for (const double degrees : {180.0, -180.0, 540.0}) {
    EXPECT_TRUE(same_pixels(rotate(image, degrees, Border::constant), flipped)) << degrees;
  }
}

TEST(TransformGeometric, RotateSmallAngleKeepsUniformImage) {
  // A replicated border and bilinear weights that sum to 1 keep every pixel at 90.
  const Image image = uniform_image(6, 9, 3, 90);
  EXPECT_TRUE(same_pixels(rotate(image, 17.0, Border::replicate), image));
  EXPECT_TRUE(same_pixels(rotate(image, -33.0, Border::reflect), image));
}

TEST(TransformGeometric, FlipTwiceIsIdentity) {
  const Image image = random_image(5, 6, 3, /*seed=*/6);
  EXPECT_TRUE(same_pixels(flip_horizontal(flip_horizontal(image)), image));
  EXPECT_TRUE(same_pixels(flip_vertical(flip_vertical(image)), image));
}

TEST(TransformGeometric, FlipMirrorsHandMadeImages) {
  EXPECT_TRUE(same_pixels(flip_horizontal(image_of(1, 4, 1, {1, 2, 3, 4})),
                          image_of(1, 4, 1, {4, 3, 2, 1})));
  // Channels keep their order inside a pixel.
  EXPECT_TRUE(same_pixels(flip_horizontal(image_of(1, 2, 3, {1, 2, 3, 4, 5, 6})),
                          image_of(1, 2, 3, {4, 5, 6, 1, 2, 3})));
  EXPECT_TRUE(same_pixels(flip_vertical(image_of(3, 1, 1, {1, 2, 3})),
                          image_of(3, 1, 1, {3, 2, 1})));
  EXPECT_TRUE(same_pixels(flip_vertical(one_to_nine()),
                          image_of(3, 3, 1, {7, 8, 9, 4, 5, 6, 1, 2, 3})));
}

TEST(TransformGeometric, ScaleOneIsIdentity) {
  const Image image = random_image(5, 8, 3, /*seed=*/7);
  for (const Border border : kBorders) {
    EXPECT_TRUE(same_pixels(scale(image, 1.0, border), image)) << to_string(border);
  }
}

TEST(TransformGeometric, ScaleTwoZoomsIntoCentre) {
  // out(x, y) = in(2 + (x - 2) / 2, 2 + (y - 2) / 2) about the centre (2, 2). The pixels
  // at even distance from it come from whole source pixels.
  const Image image = random_image(5, 5, 1, /*seed=*/8);
  const Image zoomed = scale(image, 2.0, Border::constant);
  for (const int64_t y : {0, 2, 4}) {
    for (const int64_t x : {0, 2, 4}) {
      EXPECT_EQ(at(zoomed, x, y), at(image, 2 + (x - 2) / 2, 2 + (y - 2) / 2))
          << "x " << x << ", y " << y;
    }
  }
}

TEST(TransformGeometric, ScaleHalfFillsByBorder) {
  // out(x, y) = in(2 + 2 (x - 2), 2 + 2 (y - 2)): the diagonal samples in(0, 0), in(2, 2)
  // and in(4, 4), and the corners fall outside.
  const Image image = random_image(5, 5, 1, /*seed=*/9);
  const Image shrunk = scale(image, 0.5, Border::constant);
  EXPECT_EQ(at(shrunk, 0, 0), 0);
  EXPECT_EQ(at(shrunk, 4, 4), 0);
  EXPECT_EQ(at(shrunk, 1, 1), at(image, 0, 0));
  EXPECT_EQ(at(shrunk, 2, 2), at(image, 2, 2));
  EXPECT_EQ(at(shrunk, 3, 3), at(image, 4, 4));
  EXPECT_EQ(at(shrunk, 3, 1), at(image, 4, 0));
  // Replicate gives the corner pixels to the corners.
  const Image replicated = scale(image, 0.5, Border::replicate);
  EXPECT_EQ(at(replicated, 0, 0), at(image, 0, 0));
  EXPECT_EQ(at(replicated, 4, 4), at(image, 4, 4));
}

TEST(TransformGeometric, ShearZeroIsIdentity) {
  const Image image = random_image(5, 8, 3, /*seed=*/10);
  for (const Border border : kBorders) {
    EXPECT_TRUE(same_pixels(shear(image, 0.0, border), image)) << to_string(border);
  }
}

TEST(TransformGeometric, ShearFortyFiveMovesRows) {
  // x' = x + (y - 1) on H 3: row 0 moves one pixel left, row 1 stays, row 2 moves right.
  const Image image = image_of(3, 4, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  EXPECT_TRUE(same_pixels(shear(image, 45.0, Border::constant),
                          image_of(3, 4, 1, {2, 3, 4, 0, 5, 6, 7, 8, 0, 9, 10, 11})));
}

TEST(TransformGeometric, CropResizeFullRectangleIsIdentity) {
  const Image image = random_image(5, 8, 3, /*seed=*/11);
  EXPECT_TRUE(same_pixels(crop_resize(image, 0, 0, 8, 5), image));
}

TEST(TransformGeometric, CropResizeStretchesRegion) {
  // Columns 0-1 are 50 and columns 2-3 are 200, so the left half stretches to all 50.
  const Image image = image_of(2, 4, 1, {50, 50, 200, 200, 50, 50, 200, 200});
  EXPECT_TRUE(same_pixels(crop_resize(image, 0, 0, 2, 2), uniform_image(2, 4, 1, 50)));
  EXPECT_TRUE(same_pixels(crop_resize(image, 2, 1, 2, 1), uniform_image(2, 4, 1, 200)));
  // A 1 x 1 rectangle fills the image with its pixel.
  const Image colored = random_image(4, 6, 3, /*seed=*/12);
  const Image filled = crop_resize(colored, 3, 2, 1, 1);
  for (int64_t y = 0; y < 4; ++y) {
    for (int64_t x = 0; x < 6; ++x) {
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(at(filled, x, y, c), at(colored, 3, 2, c));
    }
  }
}

TEST(TransformGeometric, ElasticAlphaZeroIsIdentity) {
  const Image image = random_image(12, 10, 3, /*seed=*/13);
  SampleRandom random(/*seed=*/1, /*epoch=*/0, /*index=*/0, /*step=*/0);
  EXPECT_TRUE(same_pixels(elastic(image, 0.0, 3.0, random, Border::reflect), image));
}

TEST(TransformGeometric, ElasticIsDeterministicForSeed) {
  const Image image = random_image(16, 14, 3, /*seed=*/14);
  SampleRandom first(/*seed=*/7, /*epoch=*/1, /*index=*/2, /*step=*/3);
  SampleRandom again(/*seed=*/7, /*epoch=*/1, /*index=*/2, /*step=*/3);
  SampleRandom other(/*seed=*/8, /*epoch=*/1, /*index=*/2, /*step=*/3);
  const Image distorted = elastic(image, 8.0, 3.0, first, Border::reflect);
  EXPECT_TRUE(same_pixels(elastic(image, 8.0, 3.0, again, Border::reflect), distorted));
  EXPECT_NE(elastic(image, 8.0, 3.0, other, Border::reflect).pixels, distorted.pixels);
  EXPECT_NE(distorted.pixels, image.pixels);
}

// ---- Color transforms

TEST(TransformColor, TintSaturates) {
  const std::array gain = {1.5};
  EXPECT_TRUE(same_pixels(tint(image_of(1, 2, 1, {200, 100}), gain),
                          image_of(1, 2, 1, {255, 150})));
}

TEST(TransformColor, TintRoundsToNearest) {
  // 101 * 0.5 = 50.5 rounds up, 10 * 1.26 = 12.6 to 13, 3 * 0.3 = 0.9 to 1 (not truncated to 0).
  const std::array gains = {0.5, 1.26, 0.3};
  EXPECT_TRUE(same_pixels(tint(image_of(1, 1, 3, {101, 10, 3}), gains),
                          image_of(1, 1, 3, {51, 13, 1})));
}

TEST(TransformColor, TintScalesEachChannel) {
  const std::array gains = {1.0, 0.0, 2.0};
  EXPECT_TRUE(same_pixels(tint(image_of(1, 2, 3, {10, 20, 30, 40, 50, 60}), gains),
                          image_of(1, 2, 3, {10, 0, 60, 40, 0, 120})));
}

TEST(TransformColor, BrightnessSaturatesAndRounds) {
  // 10 - 25.5 saturates to 0, 30 - 25.5 = 4.5 rounds to 5, 250 + 25.5 saturates to 255 and
  // 100 + 25.5 rounds to 126.
  EXPECT_TRUE(same_pixels(brightness(image_of(1, 2, 1, {10, 30}), -0.1),
                          image_of(1, 2, 1, {0, 5})));
  EXPECT_TRUE(same_pixels(brightness(image_of(1, 2, 1, {250, 100}), 0.1),
                          image_of(1, 2, 1, {255, 126})));
  const Image image = random_image(4, 5, 3, /*seed=*/15);
  EXPECT_TRUE(same_pixels(brightness(image, 0.0), image));
}

TEST(TransformColor, ContrastZeroIsFlatAtMean) {
  // mean (10 + 21) / 2 = 15.5 rounds to 16
  EXPECT_TRUE(same_pixels(contrast(image_of(1, 2, 1, {10, 21}), 0.0), image_of(1, 2, 1, {16, 16})));
  // The mean runs over every channel: (0 + 30 + 60) / 3 = 30.
  EXPECT_TRUE(same_pixels(contrast(image_of(1, 1, 3, {0, 30, 60}), 0.0),
                          image_of(1, 1, 3, {30, 30, 30})));
}

TEST(TransformColor, ContrastOneIsIdentity) {
  const Image image = random_image(6, 5, 3, /*seed=*/16);
  EXPECT_TRUE(same_pixels(contrast(image, 1.0), image));
}

TEST(TransformColor, ContrastTwoDoublesDistanceFromMean) {
  // mean 20: 10 -> 0, 20 -> 20, 30 -> 40
  EXPECT_TRUE(same_pixels(contrast(image_of(1, 3, 1, {10, 20, 30}), 2.0),
                          image_of(1, 3, 1, {0, 20, 40})));
  // mean 130: 10 -> -110 (0), 250 -> 370 (255)
  EXPECT_TRUE(same_pixels(contrast(image_of(1, 2, 1, {10, 250}), 2.0),
                          image_of(1, 2, 1, {0, 255})));
}

TEST(TransformColor, SaturationZeroGivesLuma) {
  // 0.299 * 255 = 76.245 and 0.587 * 255 = 149.685
  EXPECT_TRUE(same_pixels(saturation(image_of(1, 2, 3, {255, 0, 0, 0, 255, 0}), 0.0),
                          image_of(1, 2, 3, {76, 76, 76, 150, 150, 150})));
}

TEST(TransformColor, SaturationOneIsIdentity) {
  const Image image = random_image(5, 4, 3, /*seed=*/17);
  EXPECT_TRUE(same_pixels(saturation(image, 1.0), image));
}

TEST(TransformColor, SaturationTwoHandCase) {
  // gray = 0.299 * 100 + 0.587 * 50 + 0.114 * 0 = 59.25, and out = 59.25 + 2 (v - 59.25)
  // gives 140.75, 40.75 and -59.25.
  EXPECT_TRUE(same_pixels(saturation(image_of(1, 1, 3, {100, 50, 0}), 2.0),
                          image_of(1, 1, 3, {141, 41, 0})));
}

// Every gray level once per channel count: R = G = B = v for v in 0..255.
Image gray_levels(int64_t channels) {
  std::vector<uint8_t> pixels;
  for (int v = 0; v < 256; ++v) {
    for (int64_t c = 0; c < channels; ++c) pixels.push_back(static_cast<uint8_t>(v));
  }
  return image_of(16, 16, channels, std::move(pixels));
}

TEST(TransformColor, SaturationKeepsGray) {
  const Image gray_image = random_image(5, 7, 1, /*seed=*/18);
  const Image gray_rgb = gray_levels(3);
  for (const double factor : {0.0, 0.5, 2.0, 3.7}) {
    EXPECT_TRUE(same_pixels(saturation(gray_image, factor), gray_image)) << factor;
    EXPECT_TRUE(same_pixels(saturation(gray_rgb, factor), gray_rgb)) << factor;
  }
}

TEST(TransformColor, HueKeepsGray) {
  const Image gray_image = random_image(5, 7, 1, /*seed=*/19);
  const Image gray_rgb = gray_levels(3);
  for (const double degrees : {30.0, 180.0, -75.0, 400.0}) {
    EXPECT_TRUE(same_pixels(hue(gray_image, degrees), gray_image)) << degrees;
    EXPECT_TRUE(same_pixels(hue(gray_rgb, degrees), gray_rgb)) << degrees;
  }
}

TEST(TransformColor, HueRotatesPrimaries) {
  const Image red = image_of(1, 1, 3, {255, 0, 0});
  EXPECT_TRUE(same_pixels(hue(red, 120.0), image_of(1, 1, 3, {0, 255, 0})));
  EXPECT_TRUE(same_pixels(hue(red, 240.0), image_of(1, 1, 3, {0, 0, 255})));
  EXPECT_TRUE(same_pixels(hue(red, -120.0), image_of(1, 1, 3, {0, 0, 255})));
  // Yellow (hue 60) turned by 120 is cyan (hue 180), keeping saturation and value.
  EXPECT_TRUE(same_pixels(hue(image_of(1, 1, 3, {200, 200, 0}), 120.0),
                          image_of(1, 1, 3, {0, 200, 200})));
}

TEST(TransformColor, HueFullTurnsAreIdentity) {
  const Image image = random_image(8, 9, 3, /*seed=*/20);
  EXPECT_TRUE(same_pixels(hue(image, 0.0), image));
  EXPECT_TRUE(same_pixels(hue(image, 360.0), image));
}

TEST(TransformColor, GammaOneIsIdentity) {
  const Image image = random_image(6, 7, 3, /*seed=*/21);
  EXPECT_TRUE(same_pixels(gamma(image, 1.0), image));
}

TEST(TransformColor, GammaHandCase) {
  // 255 (64 / 255)^2 = 16.06 and 255 (64 / 255)^0.5 = 127.75, while 0 and 255 stay.
  const Image image = image_of(1, 3, 1, {0, 64, 255});
  EXPECT_TRUE(same_pixels(gamma(image, 2.0), image_of(1, 3, 1, {0, 16, 255})));
  EXPECT_TRUE(same_pixels(gamma(image, 0.5), image_of(1, 3, 1, {0, 128, 255})));
}

// ---- Noise and occlusion

TEST(TransformNoise, GaussianNoiseKeepsMean) {
  const Image image = uniform_image(64, 64, 3, 128);
  SampleRandom random(/*seed=*/1, /*epoch=*/0, /*index=*/0, /*step=*/0);
  const Image noisy = gaussian_noise(image, 20.0, random);
  double sum = 0.0;
  size_t changed = 0;
  for (const uint8_t value : noisy.pixels) {
    sum += value;
    if (value != 128) ++changed;
  }
  const double mean = sum / static_cast<double>(noisy.pixels.size());
  EXPECT_NEAR(mean, 128.0, 0.5);
  // P(|20 z| < 0.5) is about 2 %, so nearly every value changes.
  EXPECT_GT(changed, noisy.pixels.size() * 9 / 10);
}

TEST(TransformNoise, GaussianNoiseIsDeterministicForSeed) {
  const Image image = random_image(10, 12, 3, /*seed=*/22);
  SampleRandom first(/*seed=*/5, /*epoch=*/2, /*index=*/9, /*step=*/1);
  SampleRandom again(/*seed=*/5, /*epoch=*/2, /*index=*/9, /*step=*/1);
  SampleRandom other(/*seed=*/6, /*epoch=*/2, /*index=*/9, /*step=*/1);
  const Image noisy = gaussian_noise(image, 10.0, first);
  EXPECT_TRUE(same_pixels(gaussian_noise(image, 10.0, again), noisy));
  EXPECT_NE(gaussian_noise(image, 10.0, other).pixels, noisy.pixels);
}

TEST(TransformNoise, GaussianNoiseSigmaZeroIsIdentity) {
  const Image image = random_image(4, 4, 3, /*seed=*/23);
  SampleRandom random(/*seed=*/1, /*epoch=*/0, /*index=*/0, /*step=*/0);
  EXPECT_TRUE(same_pixels(gaussian_noise(image, 0.0, random), image));
}

TEST(TransformNoise, BlurZeroIsIdentity) {
  const Image image = random_image(6, 9, 3, /*seed=*/24);
  EXPECT_TRUE(same_pixels(blur(image, 0.0), image));
}

TEST(TransformNoise, BlurKeepsUniformImage) {
  const Image image = uniform_image(9, 13, 3, 77);
  for (const double sigma : {0.5, 1.5, 4.0}) {
    EXPECT_TRUE(same_pixels(blur(image, sigma), image)) << sigma;
  }
}

TEST(TransformNoise, BlurSpreadsImpulseSymmetrically) {
  std::vector<uint8_t> pixels(49, 0);
  pixels[3 * 7 + 3] = 255;
  const Image blurred = blur(image_of(7, 7, 1, std::move(pixels)), 1.0);
  const uint8_t centre = at(blurred, 3, 3);
  const uint8_t neighbour = at(blurred, 2, 3);
  EXPECT_LT(centre, 255);
  EXPECT_GT(neighbour, 0);
  EXPECT_GT(centre, neighbour);
  EXPECT_EQ(at(blurred, 4, 3), neighbour);
  EXPECT_EQ(at(blurred, 3, 2), neighbour);
  EXPECT_EQ(at(blurred, 3, 4), neighbour);
}

// Checks that exactly the pixels with x in [left, right) and y in [top, bottom) are `fill`
// and every other value is the input's.
void expect_cutout(const Image& out, const Image& image, int64_t left, int64_t top,
                   int64_t right, int64_t bottom, uint8_t fill) {
  for (int64_t y = 0; y < image.shape.height; ++y) {
    for (int64_t x = 0; x < image.shape.width; ++x) {
      const bool inside = x >= left && x < right && y >= top && y < bottom;
      for (int64_t c = 0; c < image.shape.channels; ++c) {
        EXPECT_EQ(at(out, x, y, c), inside ? fill : at(image, x, y, c))
            << "x " << x << ", y " << y << ", c " << c;
      }
    }
  }
}

TEST(TransformNoise, CutoutFillsClippedSquare) {
  const Image image = random_image(6, 8, 3, /*seed=*/25);
  // Side 3 centred on (5, 3): columns 4-6, rows 2-4.
  expect_cutout(cutout(image, 5, 3, 3, 7), image, 4, 2, 7, 5, 7);
  // Side 4 centred on (1, 1) covers [-1, 3) on both axes, clipped to [0, 3).
  expect_cutout(cutout(image, 1, 1, 4, 0), image, 0, 0, 3, 3, 0);
  // Side 5 centred on (7, 5), the bottom right pixel: columns 5-7, rows 3-5.
  expect_cutout(cutout(image, 7, 5, 5, 255), image, 5, 3, 8, 6, 255);
}

TEST(TransformNoise, CutoutOutsideOrEmptyIsIdentity) {
  const Image image = random_image(6, 8, 3, /*seed=*/26);
  EXPECT_TRUE(same_pixels(cutout(image, 3, 3, 0, 0), image));
  EXPECT_TRUE(same_pixels(cutout(image, 20, 3, 5, 0), image));
  EXPECT_TRUE(same_pixels(cutout(image, -10, -10, 5, 0), image));
}

// ---- Shapes

TEST(TransformShape, EveryTransformKeepsShape) {
  for (const Image& image : {random_image(5, 7, 3, /*seed=*/27), random_image(6, 4, 1, 28)}) {
    const std::vector<double> gains(static_cast<size_t>(image.shape.channels), 1.2);
    SampleRandom random(/*seed=*/3, /*epoch=*/0, /*index=*/0, /*step=*/0);
    const std::vector<std::pair<std::string, Image>> outputs = {
        {"shift", shift(image, 2, -1, Border::reflect)},
        {"rotate 30", rotate(image, 30.0, Border::constant)},
        {"rotate 90", rotate(image, 90.0, Border::replicate)},
        {"rotate 180", rotate(image, 180.0, Border::reflect)},
        {"rotate 270", rotate(image, 270.0, Border::reflect)},
        {"scale", scale(image, 1.3, Border::reflect)},
        {"crop_resize", crop_resize(image, 1, 1, 2, 3)},
        {"flip_horizontal", flip_horizontal(image)},
        {"flip_vertical", flip_vertical(image)},
        {"shear", shear(image, 20.0, Border::replicate)},
        {"elastic", elastic(image, 4.0, 2.0, random, Border::reflect)},
        {"tint", tint(image, gains)},
        {"brightness", brightness(image, 0.1)},
        {"contrast", contrast(image, 1.5)},
        {"saturation", saturation(image, 1.5)},
        {"hue", hue(image, 45.0)},
        {"gamma", gamma(image, 0.8)},
        {"gaussian_noise", gaussian_noise(image, 5.0, random)},
        {"blur", blur(image, 1.0)},
        {"cutout", cutout(image, 2, 2, 3, 0)},
    };
    for (const auto& [name, out] : outputs) {
      const std::string label = name + " on " + shape_text(image.shape);
      EXPECT_EQ(out.shape.height, image.shape.height) << label;
      EXPECT_EQ(out.shape.width, image.shape.width) << label;
      EXPECT_EQ(out.shape.channels, image.shape.channels) << label;
      EXPECT_EQ(out.pixels.size(), image.pixels.size()) << label;
    }
  }
}

}  // namespace
}  // namespace felis
