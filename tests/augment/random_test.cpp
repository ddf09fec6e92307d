// SampleRandom: a counter-based stream, so its draws depend on the four keys alone.
#include "felis/augment/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace felis {
namespace {

TEST(SampleRandom, SameKeysSameStream) {
  SampleRandom a(1, 2, 3, 4);
  SampleRandom b(1, 2, 3, 4);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(SampleRandom, EachKeyChangesTheStream) {
  const uint64_t base = SampleRandom(1, 2, 3, 4).next();
  EXPECT_NE(SampleRandom(9, 2, 3, 4).next(), base);
  EXPECT_NE(SampleRandom(1, 9, 3, 4).next(), base);
  EXPECT_NE(SampleRandom(1, 2, 9, 4).next(), base);
  EXPECT_NE(SampleRandom(1, 2, 3, 9).next(), base);
  // Swapped keys are different keys.
  EXPECT_NE(SampleRandom(2, 1, 3, 4).next(), base);
  EXPECT_NE(SampleRandom(1, 3, 2, 4).next(), base);
}

TEST(SampleRandom, IntegerCoversRangeInclusive) {
  SampleRandom random(5, 0, 0, 0);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t value = random.integer(-3, 3);
    ASSERT_GE(value, -3);
    ASSERT_LE(value, 3);
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(random.integer(4, 4), 4);
}

TEST(SampleRandom, UniformAndNormalMoments) {
  SampleRandom random(11, 0, 0, 0);
  constexpr int kDraws = 200000;
  double uniform_sum = 0;
  double normal_sum = 0;
  double normal_squares = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = random.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    uniform_sum += u;
    const double z = random.normal();
    ASSERT_TRUE(std::isfinite(z));
    normal_sum += z;
    normal_squares += z * z;
  }
  // Standard errors: 0.29 / sqrt(n) = 0.00065 for the uniform mean, 0.0022 for the normal.
  EXPECT_NEAR(uniform_sum / kDraws, 0.5, 0.004);
  EXPECT_NEAR(normal_sum / kDraws, 0.0, 0.012);
  EXPECT_NEAR(normal_squares / kDraws, 1.0, 0.02);
}

TEST(SampleRandom, BernoulliEdges) {
  SampleRandom random(3, 0, 0, 0);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(random.bernoulli(0.0));
    EXPECT_TRUE(random.bernoulli(1.0));
  }
}

}  // namespace
}  // namespace felis
