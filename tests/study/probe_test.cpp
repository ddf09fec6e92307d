// Invariance probes: the variants each perturbation makes, and the accuracy and flip rate
// measured on them, against transforms and predictions applied by hand.
#include "felis/study/probe.h"

#include "felis/augment/random.h"
#include "felis/augment/transform.h"
#include "felis/data/pixel_permutation.h"
#include "felis/error.h"
#include "felis/train/evaluate.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

constexpr std::array<Perturbation, 8> kAll = {
    Perturbation::shift,    Perturbation::rotate, Perturbation::tint, Perturbation::brightness,
    Perturbation::contrast, Perturbation::noise,  Perturbation::blur, Perturbation::permute};

// Image i of `data` as an Image.
Image image_at(const Dataset& data, int64_t i) {
  const auto size = static_cast<size_t>(data.image_size());
  return {{data.height, data.width, data.channels},
          std::vector<uint8_t>(data.image(i), data.image(i) + size)};
}

std::vector<uint8_t> pixels_at(const Dataset& data, int64_t i) { return image_at(data, i).pixels; }

// A model with random weights, so its predictions change when the pixels do.
Model random_model(const Dataset& data, const std::string& preset) {
  const ModelOptions options{
      .preset = preset, .precision = Precision::float64, .init = Init::he, .seed = 7};
  return build_model(options, {data.channels, data.height, data.width}, data.class_names);
}

double accuracy_by_hand(Model& model, const Dataset& data, ThreadPool& pool) {
  const auto predicted = predicted_classes(predict_probabilities(model, data, pool));
  return score(data.labels, predicted, data.class_count()).accuracy;
}

TEST(ProbeNames, RoundTripAndUnknownName) {
  for (const Perturbation perturbation : kAll) {
    EXPECT_EQ(perturbation_from_string(to_string(perturbation)), perturbation);
  }
  EXPECT_THROW(perturbation_from_string("sway"), UsageError);
  const std::string message = error_message([] { perturbation_from_string("sway"); });
  EXPECT_TRUE(contains(message, "'sway'")) << message;
  EXPECT_TRUE(contains(message, "shift, rotate, tint")) << message;
}

TEST(ProbeDefaults, StartAtZeroAndPassTheirCheck) {
  const ImageShape shape{.height = 64, .width = 64, .channels = 3};
  for (const Perturbation perturbation : kAll) {
    const auto magnitudes = default_magnitudes(perturbation);
    ASSERT_FALSE(magnitudes.empty()) << to_string(perturbation);
    EXPECT_EQ(magnitudes.front(), 0.0) << to_string(perturbation);
    for (const double magnitude : magnitudes) {
      EXPECT_NO_THROW(check_magnitude(perturbation, magnitude, shape))
          << to_string(perturbation) << " " << magnitude;
    }
  }
  EXPECT_EQ(default_magnitudes(Perturbation::shift), (std::vector<double>{0, 1, 2, 4, 8}));
}

TEST(ProbeVariantCount, PerPerturbation) {
  for (const Perturbation perturbation : kAll) {
    EXPECT_EQ(variant_count(perturbation, 0.0, 3), 1) << to_string(perturbation);
  }
  EXPECT_EQ(variant_count(Perturbation::shift, 2, 3), 8);
  EXPECT_EQ(variant_count(Perturbation::rotate, 10, 3), 2);
  EXPECT_EQ(variant_count(Perturbation::tint, 0.2, 3), 6);
  EXPECT_EQ(variant_count(Perturbation::tint, 0.2, 1), 2);
  EXPECT_EQ(variant_count(Perturbation::brightness, 0.1, 3), 2);
  EXPECT_EQ(variant_count(Perturbation::contrast, 0.1, 3), 2);
  EXPECT_EQ(variant_count(Perturbation::noise, 8, 3), 1);
  EXPECT_EQ(variant_count(Perturbation::blur, 1, 3), 1);
  EXPECT_EQ(variant_count(Perturbation::permute, 0.5, 3), 1);
}

TEST(ProbeCheckMagnitude, RejectsWhatAPerturbationCannotTake) {
  const ImageShape shape{.height = 8, .width = 10, .channels = 3};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    Perturbation perturbation;
    double magnitude;
    std::string part;  // expected in the message
  };
  const std::vector<Case> rejected = {
      {Perturbation::shift, -1, "-1"},          {Perturbation::noise, nan, "nan"},
      {Perturbation::blur, inf, "inf"},         {Perturbation::shift, 1.5, "whole number"},
      {Perturbation::shift, 8, "at most 7"},    {Perturbation::rotate, 181, "above 180"},
      {Perturbation::tint, 1.1, "negative"},    {Perturbation::brightness, 2, "above 1"},
      {Perturbation::permute, 1.01, "above 1"}, {Perturbation::blur, 11, "at most 10"},
      {Perturbation::contrast, 10.5, "above 10"}, {Perturbation::noise, 256, "above 255"},
  };
  for (const auto& c : rejected) {
    const std::string message =
        error_message([&] { check_magnitude(c.perturbation, c.magnitude, shape); });
    EXPECT_TRUE(contains(message, c.part)) << to_string(c.perturbation) << " " << c.magnitude
                                           << ": " << message;
    EXPECT_THROW(check_magnitude(c.perturbation, c.magnitude, shape), UsageError);
  }
  EXPECT_NO_THROW(check_magnitude(Perturbation::shift, 7, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::rotate, 180, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::tint, 1, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::permute, 1, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::contrast, 5, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::noise, 255, shape));
  EXPECT_NO_THROW(check_magnitude(Perturbation::blur, 10, shape));
  // Tall images: blur stops at 64 pixels, and rotation at OpenCV's largest warp.
  const ImageShape tall{.height = 40000, .width = 2, .channels = 1};
  EXPECT_TRUE(contains(error_message([&] { check_magnitude(Perturbation::blur, 65, tall); }),
                       "at most 64"));
  EXPECT_TRUE(contains(error_message([&] { check_magnitude(Perturbation::rotate, 5, tall); }),
                       "sides up to 32766"));
  EXPECT_NO_THROW(check_magnitude(Perturbation::rotate, 0, tall));
}

TEST(ProbePerturb, MagnitudeZeroKeepsEveryPixel) {
  const Dataset data = fixtures::synthetic_dataset(5, 6, 3, 2, /*seed=*/1);
  for (const Perturbation perturbation : kAll) {
    const Dataset out = perturb(data, perturbation, 0.0, 0, /*seed=*/1);
    EXPECT_EQ(out.pixels, data.pixels) << to_string(perturbation);
    EXPECT_EQ(out.labels, data.labels) << to_string(perturbation);
    EXPECT_EQ(out.count, data.count) << to_string(perturbation);
    EXPECT_EQ(out.channels, data.channels) << to_string(perturbation);
    EXPECT_EQ(out.class_names, data.class_names) << to_string(perturbation);
  }
}

TEST(ProbePerturb, ShiftVariantsAreTheEightDirections) {
  const Dataset data = fixtures::synthetic_dataset(3, 7, 3, 2, /*seed=*/2);
  const int k = 2;
  std::set<std::pair<int, int>> expected_offsets;
  for (int dy : {-k, 0, k}) {
    for (int dx : {-k, 0, k}) {
      if (dx != 0 || dy != 0) expected_offsets.insert({dx, dy});
    }
  }

  std::set<std::pair<int, int>> found_offsets;
  for (int variant = 0; variant < 8; ++variant) {
    const Dataset out = perturb(data, Perturbation::shift, k, variant, /*seed=*/1);
    EXPECT_EQ(out.labels, data.labels);
    // Find the direction whose shift of image 0 gives this variant, then check every image.
    for (const auto& [dx, dy] : expected_offsets) {
      if (shift(image_at(data, 0), dx, dy, Border::reflect).pixels != pixels_at(out, 0)) continue;
      found_offsets.insert({dx, dy});
      for (int64_t i = 0; i < data.count; ++i) {
        EXPECT_EQ(pixels_at(out, i), shift(image_at(data, i), dx, dy, Border::reflect).pixels)
            << "variant " << variant << " image " << i;
      }
    }
  }
  EXPECT_EQ(found_offsets, expected_offsets);
}

TEST(ProbePerturb, TintScalesOneChannelUpThenDown) {
  const Dataset data = fixtures::synthetic_dataset(2, 5, 3, 2, /*seed=*/3);
  const double t = 0.2;
  for (int variant = 0; variant < 6; ++variant) {
    const Dataset out = perturb(data, Perturbation::tint, t, variant, /*seed=*/1);
    const int64_t scaled_channel = variant / 2;
    const double gain = variant % 2 == 0 ? 1 + t : 1 - t;
    for (size_t p = 0; p < data.pixels.size(); ++p) {
      const bool scaled = static_cast<int64_t>(p) % data.channels == scaled_channel;
      const double value = scaled ? std::round(gain * data.pixels[p]) : data.pixels[p];
      ASSERT_EQ(out.pixels[p], static_cast<uint8_t>(std::min(255.0, value)))
          << "variant " << variant << " value " << p << " of " << int{data.pixels[p]};
    }
  }
}

TEST(ProbePerturb, SignedVariantsMatchTheTransforms) {
  const Dataset data = fixtures::synthetic_dataset(2, 6, 3, 2, /*seed=*/4);
  for (int64_t i = 0; i < data.count; ++i) {
    const Image image = image_at(data, i);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::rotate, 10, 0, 1), i),
              rotate(image, 10, Border::reflect).pixels);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::rotate, 10, 1, 1), i),
              rotate(image, -10, Border::reflect).pixels);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::brightness, 0.1, 0, 1), i),
              brightness(image, 0.1).pixels);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::brightness, 0.1, 1, 1), i),
              brightness(image, -0.1).pixels);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::contrast, 0.3, 0, 1), i),
              contrast(image, 1.3).pixels);
    // 1 - 1.5 is clamped to factor 0, a flat image.
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::contrast, 1.5, 1, 1), i),
              contrast(image, 0.0).pixels);
    EXPECT_EQ(pixels_at(perturb(data, Perturbation::blur, 1.5, 0, 1), i), blur(image, 1.5).pixels);
  }
}

TEST(ProbePerturb, NoiseIsSeededPerImage) {
  const Dataset data = fixtures::synthetic_dataset(4, 5, 1, 2, /*seed=*/5);
  const Dataset out = perturb(data, Perturbation::noise, 12, 0, /*seed=*/9);
  for (int64_t i = 0; i < data.count; ++i) {
    SampleRandom random(9, 0, static_cast<uint64_t>(i), 0);
    EXPECT_EQ(pixels_at(out, i), gaussian_noise(image_at(data, i), 12, random).pixels) << i;
  }
  EXPECT_EQ(perturb(data, Perturbation::noise, 12, 0, 9).pixels, out.pixels);
  EXPECT_NE(perturb(data, Perturbation::noise, 12, 0, 10).pixels, out.pixels);
}

TEST(ProbePerturb, PermuteUsesOnePermutationForAllImages) {
  const Dataset data = fixtures::synthetic_dataset(3, 6, 3, 2, /*seed=*/6);
  const Dataset out = perturb(data, Perturbation::permute, 0.5, 0, /*seed=*/11);
  const auto permutation = pixel_permutation(11, data.height * data.width, 0.5);
  for (int64_t i = 0; i < data.count; ++i) {
    std::vector<uint8_t> expected(static_cast<size_t>(data.image_size()));
    permute_pixels(data.image(i), expected.data(), {data.height, data.width, data.channels},
                   permutation);
    EXPECT_EQ(pixels_at(out, i), expected) << i;
  }
}

TEST(ProbeRun, MagnitudeZeroIsThePlainAccuracy) {
  const Dataset data = fixtures::synthetic_dataset(30, 8, 3, 2, /*seed=*/7);
  Model model = random_model(data, "logreg");
  ThreadPool pool(2);
  const std::vector<double> magnitudes = {0.0};
  for (const Perturbation perturbation : kAll) {
    const ProbeResult result = probe(model, data, perturbation, magnitudes, 1, pool);
    EXPECT_EQ(result.perturbation, perturbation);
    ASSERT_EQ(result.points.size(), 1u);
    const ProbePoint& point = result.points[0];
    EXPECT_EQ(point.magnitude, 0.0);
    EXPECT_EQ(point.variants, 1);
    EXPECT_EQ(point.accuracy, accuracy_by_hand(model, data, pool)) << to_string(perturbation);
    EXPECT_EQ(point.accuracy_min, point.accuracy);
    EXPECT_EQ(point.accuracy_max, point.accuracy);
    EXPECT_EQ(point.flip_rate, 0.0);
  }
}

TEST(ProbeRun, AveragesVariantsAndCountsFlips) {
  const Dataset data = fixtures::synthetic_dataset(40, 8, 3, 3, /*seed=*/8);
  Model model = random_model(data, "softmax");
  ThreadPool pool(2);
  const std::vector<double> magnitudes = {0.0, 2.0};
  const ProbeResult result = probe(model, data, Perturbation::shift, magnitudes, 1, pool);
  ASSERT_EQ(result.points.size(), 2u);

  const auto clean = predicted_classes(predict_probabilities(model, data, pool));
  double sum = 0.0;
  double worst = 1.0;
  double best = 0.0;
  int64_t flips = 0;
  for (int variant = 0; variant < 8; ++variant) {
    const Dataset shifted = perturb(data, Perturbation::shift, 2.0, variant, 1);
    const auto predicted = predicted_classes(predict_probabilities(model, shifted, pool));
    const double accuracy = score(data.labels, predicted, data.class_count()).accuracy;
    sum += accuracy;
    worst = std::min(worst, accuracy);
    best = std::max(best, accuracy);
    for (size_t i = 0; i < clean.size(); ++i) flips += predicted[i] != clean[i] ? 1 : 0;
  }
  const ProbePoint& point = result.points[1];
  EXPECT_EQ(point.magnitude, 2.0);
  EXPECT_EQ(point.variants, 8);
  EXPECT_DOUBLE_EQ(point.accuracy, sum / 8);
  EXPECT_EQ(point.accuracy_min, worst);
  EXPECT_EQ(point.accuracy_max, best);
  EXPECT_DOUBLE_EQ(point.flip_rate, static_cast<double>(flips) / (40.0 * 8.0));
  EXPECT_GT(point.flip_rate, 0.0) << "a random model should change some predictions";
}

TEST(ProbeRun, SameResultsOnOneAndTwoThreads) {
  // 40 images make several tasks of the thread pool.
  const Dataset data = fixtures::synthetic_dataset(40, 8, 3, 2, /*seed=*/9);
  Model model = random_model(data, "logreg");
  for (const Perturbation perturbation : kAll) {
    const std::vector<double> magnitudes = {0.0, default_magnitudes(perturbation)[2]};
    ThreadPool one(1);
    ThreadPool two(2);
    const nlohmann::json single = to_json(probe(model, data, perturbation, magnitudes, 3, one));
    const nlohmann::json dual = to_json(probe(model, data, perturbation, magnitudes, 3, two));
    EXPECT_EQ(single, dual) << to_string(perturbation);
  }
}

TEST(ProbeRun, RejectsBadMagnitudesAndShapes) {
  const Dataset data = fixtures::synthetic_dataset(10, 8, 3, 2, /*seed=*/10);
  Model model = random_model(data, "logreg");
  ThreadPool pool(1);
  const std::vector<double> negative = {0.0, -1.0};
  EXPECT_THROW(probe(model, data, Perturbation::noise, negative, 1, pool), UsageError);

  const Dataset other = fixtures::synthetic_dataset(10, 6, 3, 2, /*seed=*/10);
  const std::vector<double> zero = {0.0};
  EXPECT_THROW(probe(model, other, Perturbation::noise, zero, 1, pool), Error);

  Dataset empty = data;
  empty.count = 0;
  empty.pixels.clear();
  empty.labels.clear();
  const std::string message =
      error_message([&] { probe(model, empty, Perturbation::noise, zero, 1, pool); });
  EXPECT_TRUE(contains(message, "no images")) << message;
}

TEST(ProbeJson, ListsEveryPoint) {
  ProbeResult result{.perturbation = Perturbation::tint, .points = {}};
  result.points.push_back({.magnitude = 0.0, .variants = 1, .accuracy = 0.7,
                           .accuracy_min = 0.7, .accuracy_max = 0.7, .flip_rate = 0.0});
  result.points.push_back({.magnitude = 0.2, .variants = 6, .accuracy = 0.65,
                           .accuracy_min = 0.5, .accuracy_max = 0.75, .flip_rate = 0.125});
  const nlohmann::json json = to_json(result);
  EXPECT_EQ(json["perturbation"], "tint");
  ASSERT_EQ(json["points"].size(), 2u);
  const auto& point = json["points"][1];
  EXPECT_EQ(point["magnitude"], 0.2);
  EXPECT_EQ(point["variants"], 6);
  EXPECT_EQ(point["accuracy"], 0.65);
  EXPECT_EQ(point["accuracy_min"], 0.5);
  EXPECT_EQ(point["accuracy_max"], 0.75);
  EXPECT_EQ(point["flip_rate"], 0.125);
}

}  // namespace
}  // namespace felis
