// Fixed pixel shuffles, and batches that apply them.
#include "felis/data/batch.h"
#include "felis/data/pixel_permutation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace felis {
namespace {

bool is_permutation_of_positions(std::vector<int32_t> permutation) {
  std::sort(permutation.begin(), permutation.end());
  for (size_t p = 0; p < permutation.size(); ++p) {
    if (permutation[p] != static_cast<int32_t>(p)) return false;
  }
  return true;
}

int64_t moved(const std::vector<int32_t>& permutation) {
  int64_t count = 0;
  for (size_t p = 0; p < permutation.size(); ++p) count += permutation[p] != static_cast<int32_t>(p);
  return count;
}

TEST(PixelPermutation, FullShuffleMovesAlmostEverything) {
  const auto permutation = pixel_permutation(1, 784);
  EXPECT_TRUE(is_permutation_of_positions(permutation));
  // A uniform permutation keeps 1 position in place on average.
  EXPECT_GT(moved(permutation), 770);
}

TEST(PixelPermutation, DependsOnlyOnItsArguments) {
  EXPECT_EQ(pixel_permutation(3, 100), pixel_permutation(3, 100));
  EXPECT_NE(pixel_permutation(3, 100), pixel_permutation(4, 100));
  EXPECT_EQ(pixel_permutation(3, 100, 0.5), pixel_permutation(3, 100, 0.5));
}

TEST(PixelPermutation, FractionBoundsTheMovedPositions) {
  const auto none = pixel_permutation(2, 400, 0.0);
  EXPECT_EQ(moved(none), 0);
  const auto quarter = pixel_permutation(2, 400, 0.25);
  EXPECT_TRUE(is_permutation_of_positions(quarter));
  EXPECT_LE(moved(quarter), 100);
  EXPECT_GT(moved(quarter), 90);
}

TEST(PixelPermutation, MovesWholePixels) {
  // 1x3 RGB image; the permutation takes positions (2, 0, 1).
  const std::vector<uint8_t> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<uint8_t> out(9);
  const std::vector<int32_t> permutation = {2, 0, 1};
  permute_pixels(in.data(), out.data(), {.height = 1, .width = 3, .channels = 3}, permutation);
  EXPECT_EQ(out, (std::vector<uint8_t>{7, 8, 9, 1, 2, 3, 4, 5, 6}));
}

TEST(PixelPermutation, BatchAppliesItPerChannel) {
  Dataset data;
  data.count = 1;
  data.height = 1;
  data.width = 3;
  data.channels = 2;
  data.pixels = {0, 255, 51, 102, 153, 204};  // (H, W, C): position p has (a_p, b_p)
  data.labels = {1};
  data.class_names = {"a", "b"};
  const std::vector<int32_t> permutation = {1, 2, 0};
  Tensor<double> x;
  std::vector<int32_t> labels;
  const std::vector<int64_t> indices = {0};
  make_batch(data, indices, x, labels, permutation);
  // Channel planes (C, H, W): channel 0 is positions 1, 2, 0 of (0, 51, 153).
  const std::vector<double> expected = {51 / 255.0, 153 / 255.0, 0.0, 102 / 255.0, 204 / 255.0, 1.0};
  ASSERT_EQ(x.size(), 6);
  for (int64_t i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(x.data()[i], expected[static_cast<size_t>(i)]) << i;
}

}  // namespace
}  // namespace felis
