// Weight initializers against numpy 1.24.2 (values printed with repr(), so the checks
// compare for equality), statistical checks of He and Glorot, and the column reordering.
#include "felis/nn/init.h"

#include "felis/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace felis {
namespace {

template <typename T>
void expect_equal_values(const Tensor<T>& W, const std::vector<double>& expected) {
  ASSERT_EQ(W.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < W.size(); ++i) {
    EXPECT_EQ(W[i], static_cast<T>(expected[static_cast<size_t>(i)])) << "at index " << i;
  }
}

double mean(const Tensor<double>& W) {
  double sum = 0.0;
  for (int64_t i = 0; i < W.size(); ++i) sum += W[i];
  return sum / static_cast<double>(W.size());
}

double variance(const Tensor<double>& W) {
  const double m = mean(W);
  double sum = 0.0;
  for (int64_t i = 0; i < W.size(); ++i) sum += (W[i] - m) * (W[i] - m);
  return sum / static_cast<double>(W.size() - 1);
}

// np.random.seed(1); np.random.randn(7, 3) * 0.01
const std::vector<double> kCourseSmallSeed1 = {
    0.01624345363663242,    -0.006117564136500754,  -0.005281717522634557,
    -0.010729686221561705,  0.008654076293246785,   -0.02301538696880283,
    0.0174481176421648,     -0.007612069008951028,  0.0031903909605709856,
    -0.0024937037547741008, 0.01462107937044974,    -0.02060140709497654,
    -0.003224172040135075,  -0.0038405435466841564, 0.011337694423354375,
    -0.010998912673140309,  -0.0017242820755043575, -0.008778584179213718,
    0.0004221374671559283,  0.005828152137158223,   -0.011006191772129213,
};

TEST(Init, CourseSmallMatchesNumpy) {
  Tensor<double> W({7, 3});
  NumpyRandom rng(1);
  init_weights(W, InitKind::course_small, rng);
  expect_equal_values(W, kCourseSmallSeed1);
}

TEST(Init, CourseSmallFloatRoundsNumpy) {
  // (np.random.randn(7, 3) * 0.01).astype(np.float32) with seed 1 starts
  // 0.016243454068899155, -0.006117564160376787.
  Tensor<float> W({7, 3});
  NumpyRandom rng(1);
  init_weights(W, InitKind::course_small, rng);
  expect_equal_values(W, kCourseSmallSeed1);
  EXPECT_EQ(static_cast<double>(W[0]), 0.016243454068899155);
  EXPECT_EQ(static_cast<double>(W[1]), -0.006117564160376787);
}

TEST(Init, CourseScaledMatchesNumpy) {
  // np.random.seed(1); np.random.randn(2, 4) / np.sqrt(4)
  Tensor<double> W({2, 4});
  NumpyRandom rng(1);
  init_weights(W, InitKind::course_scaled, rng);
  expect_equal_values(W, {0.8121726818316208, -0.3058782068250377, -0.26408587613172785,
                          -0.5364843110780853, 0.43270381466233926, -1.1507693484401413,
                          0.87240588210824, -0.3806034504475514});
}

TEST(Init, CourseScaledDividesLikeNumpy) {
  // np.random.seed(2); np.random.randn(3, 7) / np.sqrt(7). Multiplying by 1 / sqrt(7)
  // instead would change 7 of these 21 values in the last bit.
  Tensor<double> W({3, 7});
  NumpyRandom rng(2);
  init_weights(W, InitKind::course_scaled, rng);
  expect_equal_values(
      W, {-0.15751966016706864, -0.021266861700500857, -0.807406231543696,  0.6199640916912106,
          -0.6778549358341714,  -0.3181505994671524,   0.190071309822273,   -0.4706746553991712,
          -0.39986835287124656, -0.34357258413720115,  0.20843003733579618, 0.8663731935911334,
          0.015700414783764747, -0.42253610172593614,  0.20374489405955692, -0.2253271867666904,
          -0.007230648036021872, 0.4441087167136268,   -0.2826686492287652, 0.0034112242279088455,
          -0.3318935871138286});
}

TEST(Init, HeVarianceNearTwoOverFanIn) {
  // fan_in = 8 * 5 * 5 = 200, so the variance should be 2 / 200 = 0.01. With 256,000
  // draws the sample variance has a relative standard error of sqrt(2 / 256000) ~ 0.3 %.
  Tensor<double> W({1280, 8, 5, 5});
  NumpyRandom rng(7);
  init_weights(W, InitKind::he, rng);
  const double expected = 2.0 / 200.0;
  EXPECT_NEAR(variance(W), expected, 0.05 * expected);
  EXPECT_NEAR(mean(W), 0.0, 0.001);
}

TEST(Init, GlorotDenseMatchesNumpy) {
  // limit = np.sqrt(6 / (3 + 7)); np.random.seed(1); np.random.uniform(-limit, limit, (7, 3))
  Tensor<double> W({7, 3});
  NumpyRandom rng(1);
  init_weights(W, InitKind::glorot, rng);
  expect_equal_values(
      W, {-0.12854895755544327, 0.34132523754522537, -0.7744194805363624, -0.3062250617138195,
          -0.5472434208044783,  -0.6315463333407837, -0.48604359055076635, -0.239256292865063,
          -0.15992714123661733, 0.06013462573966588, -0.125183319999297,   0.286940816171803,
          -0.4578606059195607,  0.5857770136211096,  -0.7321679923021748,  0.2640871311961581,
          -0.12811084929737926, 0.0909218912648666,  -0.55711015915973,    -0.467699162007633,
          0.46591148237707447});
}

TEST(Init, GlorotConvWithinBoundsMeanZero) {
  // W (K, C, k, k) = (64, 16, 3, 3): fan_in = 16 * 9 = 144, fan_out = 64 * 9 = 576.
  Tensor<double> W({64, 16, 3, 3});
  NumpyRandom rng(5);
  init_weights(W, InitKind::glorot, rng);
  const double limit = std::sqrt(6.0 / (144.0 + 576.0));
  double max_magnitude = 0.0;
  for (int64_t i = 0; i < W.size(); ++i) max_magnitude = std::max(max_magnitude, std::abs(W[i]));
  EXPECT_LE(max_magnitude, limit);
  // Uniform(-limit, limit) has variance limit^2 / 3. Both checks fail for a limit
  // computed from another fan_out, such as 64 without the kernel area.
  // The standard error of the mean is limit / sqrt(3 * 9216) ~ 0.006 * limit.
  EXPECT_GT(max_magnitude, 0.99 * limit);
  EXPECT_NEAR(variance(W), limit * limit / 3, 0.05 * limit * limit / 3);
  EXPECT_NEAR(mean(W), 0.0, 0.03 * limit);
}

TEST(Init, ZerosFillsAndDrawsNothing) {
  Tensor<float> W({4, 5});
  for (int64_t i = 0; i < W.size(); ++i) W[i] = 1.0f;
  NumpyRandom rng(1);
  init_weights(W, InitKind::zeros, rng);
  for (int64_t i = 0; i < W.size(); ++i) EXPECT_EQ(W[i], 0.0f) << "at index " << i;
  EXPECT_EQ(rng.random_sample(), 0.417022004702574);  // the first draw for seed 1
}

TEST(Init, RejectsVectorShape) {
  Tensor<double> W({5});
  NumpyRandom rng(1);
  EXPECT_THROW(init_weights(W, InitKind::he, rng), Error);
}

TEST(Init, PermuteHwcToChwByHand) {
  // Two rows over a 2 x 3 image with 2 channels, D = 12. Each entry encodes where its
  // feature sits in the course's (H, W, C) order: 100*h + 10*w + c, plus 1000 in row 1.
  const int64_t channels = 2;
  const int64_t height = 2;
  const int64_t width = 3;
  Tensor<double> W({2, 12});
  for (int64_t k = 0; k < 2; ++k) {
    for (int64_t h = 0; h < height; ++h) {
      for (int64_t w = 0; w < width; ++w) {
        for (int64_t c = 0; c < channels; ++c) {
          W[k * 12 + (h * width + w) * channels + c] = 1000.0 * k + 100.0 * h + 10.0 * w + c;
        }
      }
    }
  }

  permute_columns_hwc_to_chw(W, channels, height, width);

  // (C, H, W) order: channel 0's six pixels row by row, then channel 1's.
  const std::vector<double> row0 = {0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121};
  for (int64_t k = 0; k < 2; ++k) {
    for (int64_t j = 0; j < 12; ++j) {
      EXPECT_EQ(W[k * 12 + j], 1000.0 * k + row0[static_cast<size_t>(j)])
          << "row " << k << ", column " << j;
    }
  }
}

TEST(Init, PermuteRejectsWrongWidth) {
  Tensor<float> W({2, 12});
  EXPECT_THROW(permute_columns_hwc_to_chw(W, 3, 2, 3), Error);
}

TEST(Init, ParsesEveryName) {
  EXPECT_EQ(parse_init_kind("zeros"), InitKind::zeros);
  EXPECT_EQ(parse_init_kind("course-small"), InitKind::course_small);
  EXPECT_EQ(parse_init_kind("course-scaled"), InitKind::course_scaled);
  EXPECT_EQ(parse_init_kind("he"), InitKind::he);
  EXPECT_EQ(parse_init_kind("glorot"), InitKind::glorot);
  for (const InitKind kind : {InitKind::zeros, InitKind::course_small, InitKind::course_scaled,
                              InitKind::he, InitKind::glorot}) {
    EXPECT_EQ(parse_init_kind(init_kind_name(kind)), kind);
  }
}

TEST(Init, UnknownNameListsValidNames) {
  try {
    parse_init_kind("xavier");
    FAIL() << "parse_init_kind accepted \"xavier\"";
  } catch (const UsageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("\"xavier\""), std::string::npos) << message;
    EXPECT_NE(message.find("zeros, course-small, course-scaled, he, glorot"), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace felis
