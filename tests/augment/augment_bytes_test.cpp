// Exact output bytes of augmentation: hashes of the bytes that shift, rotate, tint, scale,
// shear and whole pipelines give for fixed images, seeds, epochs and indices. Training runs
// and stored study results depend on these bytes, so a faster implementation must keep
// every one of them.
#include "felis/augment/augment_dataset.h"
#include "felis/augment/pipeline.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
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

}  // namespace
}  // namespace felis
