// Linear separability: hand cases whose minimum-norm point or Farkas weights are known,
// random sets on both sides of N = D + 1, the helpers, and the cat data. Every
// certificate is checked again here from the pixels, apart from the code under test.
#include "felis/study/separability.h"

#include "felis/data/loaders.h"
#include "felis/error.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

// A two-class data set of `labels.size()` images of height x width x channels.
Dataset make_dataset(int64_t height, int64_t width, int64_t channels,
                     std::vector<uint8_t> pixels, std::vector<int32_t> labels) {
  Dataset data;
  data.count = static_cast<int64_t>(labels.size());
  data.height = height;
  data.width = width;
  data.channels = channels;
  data.pixels = std::move(pixels);
  data.labels = std::move(labels);
  data.class_names = {"negative", "positive"};
  data.source = "hand-made";
  return data;
}

// `count` images of `dimensions` uniform random gray pixels in one row, random labels.
Dataset random_dataset(int64_t count, int64_t dimensions, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(count * dimensions));
  for (uint8_t& pixel : pixels) pixel = static_cast<uint8_t>(rng() % 256);
  std::vector<int32_t> labels(static_cast<size_t>(count));
  for (int32_t& label : labels) label = static_cast<int32_t>(rng() % 2);
  return make_dataset(1, dimensions, 1, std::move(pixels), std::move(labels));
}

// s_i = +1 for the positive class, else -1, for image `used` of the result.
double sign_of(const Dataset& data, const SeparabilityResult& result, size_t used) {
  const auto index = static_cast<size_t>(result.image_indices[used]);
  return data.labels[index] == result.positive_class ? 1.0 : -1.0;
}

// The smallest s_i (w . x_i + b) over the images used, from the pixels and the certificate.
double min_margin_by_hand(const Dataset& data, const SeparabilityResult& result) {
  double smallest = INFINITY;
  for (size_t i = 0; i < result.image_indices.size(); ++i) {
    const uint8_t* pixels = data.image(result.image_indices[i]);
    double activation = result.bias;
    for (int64_t k = 0; k < data.image_size(); ++k) {
      activation += result.weights[static_cast<size_t>(k)] * (pixels[k] / 255.0);
    }
    smallest = std::min(smallest, sign_of(data, result, i) * activation);
  }
  return smallest;
}

// |sum_i lambda_i s_i (x_i, 1)|, from the pixels and the certificate.
double residual_norm_by_hand(const Dataset& data, const SeparabilityResult& result) {
  std::vector<double> sum(static_cast<size_t>(data.image_size() + 1), 0.0);
  for (size_t i = 0; i < result.image_indices.size(); ++i) {
    const double weight = result.lambda[i] * sign_of(data, result, i);
    const uint8_t* pixels = data.image(result.image_indices[i]);
    for (int64_t k = 0; k < data.image_size(); ++k) sum[static_cast<size_t>(k)] += weight * (pixels[k] / 255.0);
    sum.back() += weight;
  }
  double squared = 0.0;
  for (double value : sum) squared += value * value;
  return std::sqrt(squared);
}

// Checks that lambda is a probability vector over the images used.
void expect_convex_weights(const SeparabilityResult& result) {
  ASSERT_EQ(static_cast<int64_t>(result.lambda.size()), result.images_used);
  double total = 0.0;
  int64_t nonzero = 0;
  for (double weight : result.lambda) {
    EXPECT_GE(weight, 0.0);
    total += weight;
    if (weight != 0.0) ++nonzero;
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_EQ(nonzero, result.support_size);
}

TEST(SeparabilityHand, TwoPixelsOfDifferentClass) {
  const Dataset data = make_dataset(1, 1, 1, {50, 200}, {0, 1});
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.images_used, 2);
  EXPECT_EQ(result.dimensions, 1);
  EXPECT_EQ(result.positive_count, 1);
  ASSERT_EQ(result.weights.size(), 1u);

  // The nearest point to 0 on the segment from a_0 = -(50/255, 1) to a_1 = (200/255, 1)
  // is p = a_0 + t (a_1 - a_0) with t = -a_0 . (a_1 - a_0) / |a_1 - a_0|^2, inside (0, 1).
  const double a0_x = -50.0 / 255.0, a0_b = -1.0;
  const double dx = 200.0 / 255.0 - a0_x, db = 1.0 - a0_b;
  const double t = -(a0_x * dx + a0_b * db) / (dx * dx + db * db);
  ASSERT_GT(t, 0.0);
  ASSERT_LT(t, 1.0);
  const double w = a0_x + t * dx;
  const double b = a0_b + t * db;
  EXPECT_NEAR(result.weights[0], w, 1e-12);
  EXPECT_NEAR(result.bias, b, 1e-12);
  EXPECT_NEAR(result.lambda[0], 1.0 - t, 1e-12);
  EXPECT_NEAR(result.lambda[1], t, 1e-12);

  // Both points carry weight, so both margins equal |p|^2.
  EXPECT_NEAR(result.min_margin, w * w + b * b, 1e-12);
  EXPECT_NEAR(min_margin_by_hand(data, result), result.min_margin, 1e-15);
  EXPECT_GT(result.min_margin, 0.0);
  EXPECT_NEAR(result.geometric_margin, result.min_margin / std::abs(w), 1e-12);
}

TEST(SeparabilityHand, XorIsNotSeparable) {
  // Class 0 at (0, 0) and (1, 1), class 1 at (0, 1) and (1, 0): both diagonals cross at
  // (0.5, 0.5), and the only Farkas weights are 1/4 on every image.
  const Dataset data = make_dataset(1, 2, 1, {0, 0, 255, 255, 0, 255, 255, 0}, {0, 0, 1, 1});
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::not_separable) << result.stop_reason;
  EXPECT_EQ(result.stop_reason, "zero");
  EXPECT_EQ(result.support_size, 4);
  expect_convex_weights(result);
  for (double weight : result.lambda) EXPECT_NEAR(weight, 0.25, 1e-9);
  EXPECT_LE(result.residual_norm_relative, 1e-9);
  EXPECT_NEAR(residual_norm_by_hand(data, result) / result.max_point_norm,
              result.residual_norm_relative, 1e-15);
  EXPECT_NEAR(result.max_point_norm, std::sqrt(3.0), 1e-15);
  EXPECT_LE(result.min_margin, 0.0);
}

TEST(SeparabilityHand, DuplicateWithBothLabels) {
  // One RGB pixel twice, once per class, and a third image elsewhere: 0 = (a - a) / 2 is
  // the only way to write 0, so lambda = (1/2, 1/2, 0).
  const Dataset data = make_dataset(1, 1, 3, {10, 20, 30, 10, 20, 30, 200, 100, 0}, {0, 1, 1});
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::not_separable) << result.stop_reason;
  EXPECT_EQ(result.support_size, 2);
  expect_convex_weights(result);
  EXPECT_NEAR(result.lambda[0], 0.5, 1e-12);
  EXPECT_NEAR(result.lambda[1], 0.5, 1e-12);
  EXPECT_EQ(result.lambda[2], 0.0);
  EXPECT_LE(result.residual_norm_relative, 1e-9);
  EXPECT_LE(residual_norm_by_hand(data, result), 1e-9 * result.max_point_norm);
}

TEST(SeparabilityHand, OneClassIsSeparable) {
  // Every image is negative: the bias alone separates.
  const Dataset data = make_dataset(1, 2, 1, {0, 0, 255, 255, 0, 255}, {0, 0, 0});
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.positive_count, 0);
  EXPECT_GT(result.min_margin, 0.0);
  EXPECT_NEAR(min_margin_by_hand(data, result), result.min_margin, 1e-14);
}

TEST(SeparabilityRandom, FewerImagesThanDimensionsSeparate) {
  // 30 points in general position in 101 dimensions: any labelling is separable.
  const Dataset data = random_dataset(/*count=*/30, /*dimensions=*/100, /*seed=*/3);
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.stop_reason, "optimal");
  EXPECT_EQ(result.images_used, 30);
  EXPECT_EQ(result.dimensions, 100);
  EXPECT_GT(result.min_margin, 0.0);
  EXPECT_NEAR(min_margin_by_hand(data, result), result.min_margin, 1e-12);
  EXPECT_GT(result.geometric_margin, 0.0);
  expect_convex_weights(result);

  // The minimum-norm point's margin equals |p|^2 on every support point, so it is the
  // smallest margin.
  double p_squared = result.bias * result.bias;
  for (double w : result.weights) p_squared += w * w;
  EXPECT_NEAR(result.min_margin, p_squared, 1e-9 * p_squared);
}

TEST(SeparabilityRandom, ManyImagesInFewDimensionsDoNot) {
  // 400 random labels on points in 5 dimensions: the hulls of the classes overlap.
  const Dataset data = random_dataset(/*count=*/400, /*dimensions=*/4, /*seed=*/5);
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::not_separable) << result.stop_reason;
  EXPECT_LE(result.residual_norm_relative, 1e-9);
  EXPECT_LE(residual_norm_by_hand(data, result), 1e-9 * result.max_point_norm);
  expect_convex_weights(result);
  // Caratheodory: 0 is a convex combination of at most D + 2 = 6 affinely independent points.
  EXPECT_GE(result.support_size, 2);
  EXPECT_LE(result.support_size, 6);
  EXPECT_LT(result.min_margin, 0.0);
}

TEST(SeparabilityRandom, IterationCapIsUndecided) {
  const Dataset data = random_dataset(/*count=*/400, /*dimensions=*/4, /*seed=*/5);
  const SeparabilityResult result =
      test_separability(data, /*positive_class=*/1, {.max_iterations = 0});

  EXPECT_EQ(result.verdict, SeparabilityVerdict::undecided);
  EXPECT_EQ(result.stop_reason, "iteration cap");
  EXPECT_EQ(result.iterations, 0);
  EXPECT_EQ(result.support_size, 1);
  EXPECT_GT(result.residual_norm_relative, 1e-9);
}

TEST(SeparabilityRandom, SubsampleUsesAtMostMaxImages) {
  const Dataset data = random_dataset(/*count=*/30, /*dimensions=*/100, /*seed=*/3);
  const SeparabilityOptions options{.max_images = 10, .seed = 9};
  const SeparabilityResult result = test_separability(data, /*positive_class=*/0, options);

  EXPECT_EQ(result.images_used, 10);
  ASSERT_EQ(result.image_indices.size(), 10u);
  EXPECT_EQ(result.lambda.size(), 10u);
  EXPECT_TRUE(std::is_sorted(result.image_indices.begin(), result.image_indices.end()));
  EXPECT_EQ(result.seed, 9u);
  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable);
  EXPECT_NEAR(min_margin_by_hand(data, result), result.min_margin, 1e-12);

  std::mt19937_64 rng(9);
  EXPECT_EQ(result.image_indices, subsample_indices(30, 10, rng));
}

TEST(SeparabilityRandom, ShuffledLabelsKeepTheirCounts) {
  const Dataset data = random_dataset(/*count=*/30, /*dimensions=*/100, /*seed=*/3);
  const SeparabilityOptions options{.seed = 4, .shuffle_labels = true};
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1, options);

  const auto positives = std::count(data.labels.begin(), data.labels.end(), 1);
  EXPECT_EQ(result.positive_count, positives);
  EXPECT_TRUE(result.shuffled_labels);
  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable);

  // The margins of the certificate, under the labels that shuffled_labels(labels, 4) gives.
  Dataset shuffled = data;
  shuffled.labels = shuffled_labels(data.labels, uint64_t{4});
  EXPECT_NE(shuffled.labels, data.labels);
  EXPECT_NEAR(min_margin_by_hand(shuffled, result), result.min_margin, 1e-12);
}

TEST(SeparabilityHelpers, ShuffledLabelsArePermutations) {
  std::vector<int32_t> labels(100);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i);

  const std::vector<int32_t> first = shuffled_labels(labels, uint64_t{11});
  EXPECT_EQ(first, shuffled_labels(labels, uint64_t{11}));
  EXPECT_NE(first, shuffled_labels(labels, uint64_t{12}));
  EXPECT_NE(first, labels);
  std::vector<int32_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, labels);

  EXPECT_TRUE(shuffled_labels(std::vector<int32_t>{}, uint64_t{1}).empty());
  EXPECT_EQ(shuffled_labels(std::vector<int32_t>{7}, uint64_t{1}), std::vector<int32_t>{7});
}

TEST(SeparabilityHelpers, ShuffleIsUniformOverThreeLabels) {
  // Each of the 6 orders of three labels should come up about 1/6 of the time.
  const std::vector<int32_t> labels = {0, 1, 2};
  std::mt19937_64 rng(21);
  std::map<std::vector<int32_t>, int> counts;
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) ++counts[shuffled_labels(labels, rng)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [order, count] : counts) {
    // 5 standard deviations of a binomial(60000, 1/6) count: about 456.
    EXPECT_NEAR(count, draws / 6, 460) << order[0] << order[1] << order[2];
  }
}

TEST(SeparabilityHelpers, SubsampleIndices) {
  std::mt19937_64 rng(5);
  const std::vector<int64_t> picked = subsample_indices(1000, 50, rng);
  ASSERT_EQ(picked.size(), 50u);
  EXPECT_TRUE(std::is_sorted(picked.begin(), picked.end()));
  EXPECT_EQ(std::set<int64_t>(picked.begin(), picked.end()).size(), 50u);
  EXPECT_GE(picked.front(), 0);
  EXPECT_LT(picked.back(), 1000);

  std::mt19937_64 same(5);
  EXPECT_EQ(subsample_indices(1000, 50, same), picked);

  // All images, in order and without a draw, when the cap is 0 or not below the count.
  for (const int64_t cap : {0, 4, 9}) {
    std::mt19937_64 untouched(5);
    EXPECT_EQ(subsample_indices(4, cap, untouched), (std::vector<int64_t>{0, 1, 2, 3}));
    EXPECT_EQ(untouched(), std::mt19937_64(5)()) << "cap " << cap;
  }
}

TEST(SeparabilityOptionsCheck, RejectsInvalidValues) {
  const Dataset data = make_dataset(1, 1, 1, {50, 200}, {0, 1});
  EXPECT_THROW(test_separability(data, 2), UsageError);
  EXPECT_THROW(test_separability(data, -1), UsageError);
  const std::string message = error_message([&] { test_separability(data, 2); });
  EXPECT_TRUE(contains(message, "positive class 2")) << message;
  EXPECT_TRUE(contains(message, "[0, 2)")) << message;

  EXPECT_THROW(test_separability(data, 1, {.max_images = -1}), UsageError);
  EXPECT_THROW(test_separability(data, 1, {.max_iterations = -1}), UsageError);
  EXPECT_THROW(test_separability(data, 1, {.zero_tolerance = 0.0}), UsageError);
  EXPECT_THROW(test_separability(data, 1, {.gap_tolerance = NAN}), UsageError);
  const std::string tolerance = error_message([&] { test_separability(data, 1, {.zero_tolerance = 2}); });
  EXPECT_TRUE(contains(tolerance, "zero_tolerance 2")) << tolerance;

  const Dataset empty = make_dataset(1, 1, 1, {}, {});
  EXPECT_THROW(test_separability(empty, 0), Error);
}

TEST(SeparabilityJson, OmitsTheCertificateVectors) {
  const Dataset data = make_dataset(1, 1, 1, {50, 200}, {0, 1});
  const SeparabilityResult result = test_separability(data, /*positive_class=*/1);
  const nlohmann::json json = to_json(result);

  EXPECT_EQ(json.at("verdict"), "separable");
  EXPECT_EQ(json.at("images_used"), 2);
  EXPECT_EQ(json.at("dimensions"), 1);
  EXPECT_EQ(json.at("min_margin").get<double>(), result.min_margin);
  EXPECT_EQ(json.at("iterations"), result.iterations);
  EXPECT_FALSE(json.contains("weights"));
  EXPECT_FALSE(json.contains("lambda"));
  EXPECT_EQ(to_string(SeparabilityVerdict::not_separable), "not separable");
}

class SeparabilityCat : public ::testing::Test {
protected:
  void SetUp() override {
    const auto dir = fixtures::shared_data("catvnoncat");
    if (!std::filesystem::exists(dir / "train_catvnoncat.h5")) {
      GTEST_SKIP() << "cat data missing: " << dir.string();
    }
    train_ = load_data(dir).train;
  }

  Dataset train_;
};

TEST_F(SeparabilityCat, TrueLabelsSeparate) {
  const SeparabilityResult result = test_separability(train_, /*positive_class=*/1);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.images_used, 209);
  EXPECT_EQ(result.dimensions, 12288);
  EXPECT_EQ(result.positive_count, 72);
  EXPECT_GT(result.min_margin, 0.0);
  EXPECT_GT(min_margin_by_hand(train_, result), 0.0);
  EXPECT_NEAR(min_margin_by_hand(train_, result), result.min_margin, 1e-9);
}

TEST_F(SeparabilityCat, ShuffledLabelsSeparate) {
  const SeparabilityOptions options{.seed = 1, .shuffle_labels = true};
  const SeparabilityResult result = test_separability(train_, /*positive_class=*/1, options);

  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.positive_count, 72);
  EXPECT_GT(result.min_margin, 0.0);
  Dataset shuffled = train_;
  shuffled.labels = shuffled_labels(train_.labels, uint64_t{1});
  EXPECT_NE(shuffled.labels, train_.labels);
  EXPECT_GT(min_margin_by_hand(shuffled, result), 0.0);
  EXPECT_NEAR(min_margin_by_hand(shuffled, result), result.min_margin, 1e-9);
}

TEST(SeparabilityFashion, TwoThousandImagesClassZero) {
  if (!std::filesystem::exists(fixtures::kFashionMnistDir)) {
    GTEST_SKIP() << "Fashion-MNIST not found at " << fixtures::kFashionMnistDir.string()
                 << " (package dataset-fashion-mnist)";
  }
  const Dataset train = load_data(fixtures::kFashionMnistDir).train;
  const SeparabilityOptions options{.max_images = 2000, .seed = 1};
  const SeparabilityResult result = test_separability(train, /*positive_class=*/0, options);

  // T-shirt/top against the other nine classes: 2,000 images in 785 dimensions still
  // separate, with a margin far smaller than the cat data's.
  ASSERT_EQ(result.verdict, SeparabilityVerdict::separable) << result.stop_reason;
  EXPECT_EQ(result.images_used, 2000);
  EXPECT_EQ(result.dimensions, 784);
  EXPECT_GT(result.min_margin, 0.0);
  EXPECT_NEAR(min_margin_by_hand(train, result), result.min_margin, 1e-12);
}

}  // namespace
}  // namespace felis
