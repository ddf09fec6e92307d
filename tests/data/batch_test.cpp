// Batches of uint8 images as float tensors: every byte maps to exactly v / 255.
#include "felis/data/batch.h"

#include <gtest/gtest.h>

#include <numeric>

namespace felis {
namespace {

// One image with every byte value once: 16 x 16 gray, or 16 x 16 x 3 whose channel c
// at position p is (p + 85 c) mod 256.
Dataset every_byte(int64_t channels) {
  Dataset data;
  data.count = 1;
  data.height = 16;
  data.width = 16;
  data.channels = channels;
  data.pixels.resize(static_cast<size_t>(data.image_size()));
  for (int64_t p = 0; p < 256; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      data.pixels[static_cast<size_t>(p * channels + c)] = static_cast<uint8_t>((p + 85 * c) % 256);
    }
  }
  data.labels = {0};
  data.class_names = {"a"};
  return data;
}

template <typename T>
void expect_exact_quotients(int64_t channels) {
  const Dataset data = every_byte(channels);
  Tensor<T> x;
  std::vector<int32_t> labels;
  const std::vector<int64_t> indices = {0};
  make_batch(data, indices, x, labels, {});
  ASSERT_EQ(x.size(), 256 * channels);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t p = 0; p < 256; ++p) {
      const auto v = static_cast<T>((p + 85 * c) % 256);
      // Bit for bit the quotient a division rounds to, as numpy's X / 255 gives.
      ASSERT_EQ(x[c * 256 + p], v / T(255)) << "byte " << v << " channel " << c;
    }
  }
}

TEST(MakeBatch, ExactQuotientsInFloat64) {
  expect_exact_quotients<double>(1);
  expect_exact_quotients<double>(3);
}

TEST(MakeBatch, ExactQuotientsInFloat32) {
  expect_exact_quotients<float>(1);
  expect_exact_quotients<float>(3);
}

TEST(MakeBatch, PermutationWithinEachChannel) {
  const Dataset data = every_byte(3);
  std::vector<int32_t> reversed(256);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  Tensor<double> x;
  std::vector<int32_t> labels;
  const std::vector<int64_t> indices = {0};
  make_batch(data, indices, x, labels, reversed);
  // Channel 1 at position 0 reads position 255: (255 + 85) mod 256 = 84.
  EXPECT_EQ(x[256], 84.0 / 255.0);
  EXPECT_EQ(x[0], 255.0 / 255.0);
  EXPECT_EQ(labels, std::vector<int32_t>{0});
}

}  // namespace
}  // namespace felis
