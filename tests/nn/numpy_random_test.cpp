// NumpyRandom against numpy 1.24.2. Every expected value was printed by numpy with
// repr(), which round-trips a double exactly, so the checks compare for equality.
#include "felis/nn/numpy_random.h"

#include <gtest/gtest.h>

#include <vector>

namespace felis {
namespace {

std::vector<double> random_samples(NumpyRandom& rng, int count) {
  std::vector<double> values;
  for (int i = 0; i < count; ++i) values.push_back(rng.random_sample());
  return values;
}

void expect_equal_values(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(actual[i], expected[i]) << "at index " << i;
}

// np.random.seed(1); np.random.randn(10)
const std::vector<double> kSeed1Randn = {
    1.6243453636632417,  -0.6117564136500754, -0.5281717522634557, -1.0729686221561705,
    0.8654076293246785,  -2.3015386968802827, 1.74481176421648,    -0.7612069008951028,
    0.31903909605709857, -0.2493703754774101,
};

TEST(NumpyRandom, RandomSampleSeed1) {
  // np.random.seed(1); np.random.random_sample(10)
  NumpyRandom rng(1);
  expect_equal_values(random_samples(rng, 10),
                      {0.417022004702574, 0.7203244934421581, 0.00011437481734488664,
                       0.30233257263183977, 0.14675589081711304, 0.0923385947687978,
                       0.1862602113776709, 0.34556072704304774, 0.39676747423066994,
                       0.538816734003357});
}

TEST(NumpyRandom, RandomSampleSeed3) {
  // np.random.seed(3); np.random.random_sample(10)
  NumpyRandom rng(3);
  expect_equal_values(random_samples(rng, 10),
                      {0.5507979025745755, 0.7081478226181048, 0.2909047389129443,
                       0.510827605197663, 0.8929469543476547, 0.8962930889334381,
                       0.12558531046383625, 0.20724287813818676, 0.05146720330082988,
                       0.44080984365063647});
}

TEST(NumpyRandom, RandomSampleSeedsAtRangeEnds) {
  // np.random.seed(0) and np.random.seed(2**32 - 1), then np.random.random_sample(3)
  NumpyRandom zero(0);
  expect_equal_values(random_samples(zero, 3),
                      {0.5488135039273248, 0.7151893663724195, 0.6027633760716439});
  NumpyRandom max(4294967295u);
  expect_equal_values(random_samples(max, 3),
                      {0.0976320289940138, 0.9123828453026218, 0.78903530185164});
}

TEST(NumpyRandom, RandnSeed1) {
  // With a fused multiply-add in r2 = x1^2 + x2^2, the third value would differ.
  NumpyRandom rng(1);
  expect_equal_values(rng.randn(10), kSeed1Randn);
}

TEST(NumpyRandom, StandardNormalMatchesRandn) {
  NumpyRandom rng(1);
  std::vector<double> values;
  for (int i = 0; i < 10; ++i) values.push_back(rng.standard_normal());
  expect_equal_values(values, kSeed1Randn);
}

TEST(NumpyRandom, RandnAfterOddCountUsesCache) {
  // np.random.seed(1); np.random.randn(3); np.random.randn(4)
  // The third draw leaves its partner cached, and the next call returns it first.
  NumpyRandom rng(1);
  rng.randn(3);
  expect_equal_values(rng.randn(4), {kSeed1Randn[3], kSeed1Randn[4], kSeed1Randn[5], kSeed1Randn[6]});
}

TEST(NumpyRandom, RandomSampleSkipsNormalCache) {
  // np.random.seed(1); np.random.randn(1); np.random.random_sample(); np.random.randn(2)
  NumpyRandom rng(1);
  EXPECT_EQ(rng.standard_normal(), 1.6243453636632417);
  EXPECT_EQ(rng.random_sample(), 0.00011437481734488664);
  expect_equal_values(rng.randn(2), {-0.6117564136500754, -0.8021728386486427});
}

TEST(NumpyRandom, ReseedClearsNormalCache) {
  // np.random.seed(1); np.random.randn(1); np.random.seed(1); np.random.randn()
  NumpyRandom rng(1);
  rng.standard_normal();
  rng.seed(1);
  EXPECT_EQ(rng.standard_normal(), kSeed1Randn[0]);
}

TEST(NumpyRandom, UniformSeed1) {
  // limit = np.sqrt(6 / 10); np.random.seed(1); np.random.uniform(-limit, limit, 5)
  // With a fused multiply-add, -limit + 2 * limit * u would differ in the first value.
  const double limit = 0.7745966692414834;
  NumpyRandom rng(1);
  std::vector<double> values;
  for (int i = 0; i < 5; ++i) values.push_back(rng.uniform(-limit, limit));
  expect_equal_values(values, {-0.12854895755544327, 0.34132523754522537, -0.7744194805363624,
                               -0.3062250617138195, -0.5472434208044783});
}

TEST(NumpyRandom, EmptyRandn) {
  NumpyRandom rng(1);
  EXPECT_TRUE(rng.randn(0).empty());
  EXPECT_EQ(rng.standard_normal(), kSeed1Randn[0]);
}

}  // namespace
}  // namespace felis
