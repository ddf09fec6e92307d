// Augmentation specs and pipelines: parsing, errors, and the randomness contract that a
// sample's augmentation depends on (seed, epoch, index) alone.
#include "felis/augment/augment_dataset.h"
#include "felis/augment/pipeline.h"
#include "felis/error.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

std::vector<int64_t> all_indices(const Dataset& data) {
  std::vector<int64_t> indices(static_cast<size_t>(data.count));
  std::iota(indices.begin(), indices.end(), 0);
  return indices;
}

Dataset augmented(const Dataset& data, const std::string& spec, int threads, int64_t epoch,
                  uint64_t seed = 7) {
  ThreadPool pool(threads);
  Dataset out;
  augment_images(data, all_indices(data), Pipeline::parse(spec), seed, epoch, pool, out);
  return out;
}

constexpr const char* kEveryTransform =
    "shift:2, rotate:20, scale:0.2, crop:0.7, hflip, vflip, shear:10, elastic:8:3, tint:0.3, "
    "brightness:0.2, contrast:0.3, saturation:0.5, hue:30, gamma:0.5, noise:10, blur:1, cutout:3";

TEST(PipelineSpec, CanonicalFormFillsDefaults) {
  EXPECT_EQ(Pipeline::parse("shift, rotate:15:p=0.5, hflip").spec(), "shift:3, rotate:15:p=0.5, hflip");
  EXPECT_EQ(Pipeline::parse(" tint:0.2 ,cutout:4:fill=128:p=1 ").spec(), "tint:0.2, cutout:4:fill=128");
  EXPECT_EQ(Pipeline::parse("hflip:p=1, shift:2:border=constant").spec(),
            "hflip:p=1, shift:2:border=constant");
  EXPECT_EQ(Pipeline::parse("elastic:20").spec(), "elastic:20:4");
}

TEST(PipelineSpec, CanonicalFormKeepsEveryDigit) {
  EXPECT_EQ(Pipeline::parse("rotate:12.3456789:p=0.123456789").spec(), "rotate:12.3456789:p=0.123456789");
  EXPECT_EQ(Pipeline::parse("shift:-0, tint:1e-1").spec(), "shift:0, tint:0.1");
}

TEST(PipelineSpec, CanonicalFormParsesBack) {
  const Pipeline pipeline = Pipeline::parse(kEveryTransform);
  EXPECT_EQ(pipeline.steps().size(), 17u);
  EXPECT_EQ(Pipeline::parse(pipeline.spec()).spec(), pipeline.spec());
}

TEST(PipelineSpec, NoneAndEmptyAreEmpty) {
  EXPECT_TRUE(Pipeline::parse("none").empty());
  EXPECT_TRUE(Pipeline::parse("").empty());
  EXPECT_EQ(Pipeline().spec(), "none");
}

TEST(PipelineSpec, DefaultProbabilities) {
  const Pipeline pipeline = Pipeline::parse("hflip, vflip, shift");
  EXPECT_EQ(pipeline.steps()[0].probability, 0.5);
  EXPECT_EQ(pipeline.steps()[1].probability, 0.5);
  EXPECT_EQ(pipeline.steps()[2].probability, 1.0);
}

TEST(PipelineSpec, UnknownTransformListsValidOnes) {
  const auto message = error_message([] { Pipeline::parse("shift:2, rotat:15"); });
  EXPECT_TRUE(contains(message, "unknown transform 'rotat'")) << message;
  EXPECT_TRUE(contains(message, "shift, rotate, scale, crop, hflip, vflip, shear, elastic, tint, "
                                "brightness, contrast, saturation, hue, gamma, noise, blur, cutout"))
      << message;
}

TEST(PipelineSpec, BadParametersNameTheRange) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"rotate:400", "must be a number in [0, 180]"},
      {"shift:1.5", "must be an integer in [0, 1024]"},
      {"shift:-1", "must be an integer in [0, 1024]"},
      {"tint:abc", "'abc' must be a number in [0, 1]"},
      {"tint:nan", "must be a number in [0, 1]"},
      {"crop:0", "must be a number in (0, 1]"},
      {"rotate:15:p=2", "probability '2' must be a number in [0, 1]"},
      {"tint:0.2:border=constant", "unknown setting 'border=constant'; tint takes p=PROBABILITY"},
      {"shift:2:border=wrap", "reflect, constant, replicate"},
      {"cutout:4:fill=300", "must be an integer in [0, 255]"},
      {"hflip:3", "hflip takes 0 arguments"},
      {"shift:2,,tint", "has an empty step"},
      {"shift:p=0.5:p=0.7", "sets p= twice"},
      {"shift:2:border=", "augment step 'shift:2:border=': unknown border mode"},
      {"shift:4,\nrotate", "control character (code 10) at position 8"},
  };
  for (const auto& [spec, part] : cases) {
    const auto message = error_message([&, &spec = spec] { Pipeline::parse(spec); });
    EXPECT_TRUE(contains(message, part)) << spec << ": " << message;
  }
}

TEST(PipelineSpec, ErrorsAreUsageErrors) {
  EXPECT_THROW(Pipeline::parse("zoom:2"), UsageError);
}

TEST(PipelineCheck, RejectsShiftAsLargeAsTheImage) {
  const Pipeline pipeline = Pipeline::parse("shift:8");
  EXPECT_NO_THROW(pipeline.check({.height = 9, .width = 12, .channels = 3}));
  const auto message = error_message([&] { pipeline.check({.height = 8, .width = 12, .channels = 3}); });
  EXPECT_TRUE(contains(message, "smaller side, 8")) << message;
  EXPECT_THROW(Pipeline::parse("cutout:10").check({.height = 8, .width = 8, .channels = 1}), UsageError);
}

TEST(PipelineRandomness, SameBytesOnOneAndTwoThreads) {
  const Dataset data = fixtures::synthetic_dataset(24, 16, 3, 2, 5);
  const Dataset one = augmented(data, kEveryTransform, 1, 3);
  const Dataset two = augmented(data, kEveryTransform, 2, 3);
  EXPECT_EQ(one.pixels, two.pixels);
  EXPECT_NE(one.pixels, data.pixels);
}

TEST(PipelineRandomness, NextEpochDiffers) {
  const Dataset data = fixtures::synthetic_dataset(8, 16, 3, 2, 5);
  const Dataset first = augmented(data, "shift:3, tint:0.2", 1, 0);
  const Dataset second = augmented(data, "shift:3, tint:0.2", 1, 1);
  const int64_t size = data.image_size();
  for (int64_t i = 0; i < data.count; ++i) {
    EXPECT_FALSE(std::equal(first.pixels.begin() + i * size, first.pixels.begin() + (i + 1) * size,
                            second.pixels.begin() + i * size))
        << "image " << i;
  }
}

TEST(PipelineRandomness, SeedChangesBytes) {
  const Dataset data = fixtures::synthetic_dataset(8, 16, 3, 2, 5);
  EXPECT_NE(augmented(data, "rotate:30", 1, 0, 1).pixels, augmented(data, "rotate:30", 1, 0, 2).pixels);
}

TEST(PipelineRandomness, SamplesDrawDifferentParameters) {
  // Eight copies of one image: each index draws its own tint, so the copies differ.
  Dataset data = fixtures::synthetic_dataset(1, 8, 3, 2, 5);
  for (int i = 1; i < 8; ++i) {
    data.pixels.insert(data.pixels.end(), data.pixels.begin(), data.pixels.begin() + data.image_size());
    data.labels.push_back(data.labels[0]);
  }
  data.count = 8;
  const Dataset out = augmented(data, "tint:0.3", 1, 0);
  const int64_t size = data.image_size();
  for (int64_t i = 1; i < data.count; ++i) {
    EXPECT_FALSE(std::equal(out.pixels.begin(), out.pixels.begin() + size, out.pixels.begin() + i * size))
        << "image " << i;
  }
}

TEST(PipelineRandomness, OrderOfIndicesDoesNotMatter) {
  const Dataset data = fixtures::synthetic_dataset(10, 12, 3, 3, 9);
  const Pipeline pipeline = Pipeline::parse("shift:2, noise:5, hflip");
  std::vector<int64_t> reversed = all_indices(data);
  std::reverse(reversed.begin(), reversed.end());
  ThreadPool pool(1);
  Dataset forward;
  Dataset backward;
  augment_images(data, all_indices(data), pipeline, 3, 2, pool, forward);
  augment_images(data, reversed, pipeline, 3, 2, pool, backward);
  const int64_t size = data.image_size();
  for (int64_t b = 0; b < data.count; ++b) {
    const int64_t i = data.count - 1 - b;
    EXPECT_TRUE(std::equal(backward.pixels.begin() + b * size, backward.pixels.begin() + (b + 1) * size,
                           forward.pixels.begin() + i * size))
        << "image " << i;
    EXPECT_EQ(backward.labels[b], data.labels[i]);
  }
}

TEST(PipelineRandomness, LabelsNeverChange) {
  const Dataset data = fixtures::synthetic_dataset(30, 16, 3, 3, 2);
  const Dataset out = augmented(data, kEveryTransform, 2, 4);
  EXPECT_EQ(out.labels, data.labels);
  EXPECT_EQ(out.class_names, data.class_names);
  EXPECT_EQ(out.pixels.size(), data.pixels.size());
}

TEST(PipelineRandomness, ProbabilityZeroAndOne) {
  const Dataset data = fixtures::synthetic_dataset(6, 8, 1, 2, 2);
  EXPECT_EQ(augmented(data, "shift:3:p=0, rotate:40:p=0", 2, 0).pixels, data.pixels);
  const Dataset flipped = augmented(data, "hflip:p=1", 1, 0);
  EXPECT_EQ(augmented(flipped, "hflip:p=1", 1, 0).pixels, data.pixels);
}

TEST(PipelineRandomness, GrayImagesPassSaturationAndHue) {
  const Dataset data = fixtures::synthetic_dataset(6, 8, 1, 2, 2);
  EXPECT_EQ(augmented(data, "saturation:1, hue:180", 2, 0).pixels, data.pixels);
}

TEST(ExpandDataset, OriginalsFirstThenCopies) {
  const Dataset data = fixtures::synthetic_dataset(5, 8, 3, 2, 1);
  const Pipeline pipeline = Pipeline::parse("shift:2, tint:0.2");
  ThreadPool pool(2);
  const Dataset expanded = expand_dataset(data, pipeline, 3, 11, pool);
  ASSERT_EQ(expanded.count, 20);
  const int64_t size = data.image_size();
  EXPECT_TRUE(std::equal(data.pixels.begin(), data.pixels.end(), expanded.pixels.begin()));
  for (int64_t c = 1; c <= 3; ++c) {
    const Dataset copy = augmented(data, pipeline.spec(), 1, c, 11);
    EXPECT_TRUE(std::equal(copy.pixels.begin(), copy.pixels.end(),
                           expanded.pixels.begin() + c * data.count * size))
        << "copy " << c;
  }
  for (int64_t i = 0; i < expanded.count; ++i) EXPECT_EQ(expanded.labels[i], data.labels[i % 5]);
}

TEST(ExpandDataset, RejectsZeroCopiesAndHugeResults) {
  const Dataset data = fixtures::synthetic_dataset(4, 8, 3, 2, 1);
  ThreadPool pool(1);
  EXPECT_THROW(expand_dataset(data, Pipeline::parse("hflip"), 0, 1, pool), UsageError);
  const auto message =
      error_message([&] { expand_dataset(data, Pipeline::parse("hflip"), int64_t{1} << 40, 1, pool); });
  EXPECT_TRUE(contains(message, "exceed the 4 GiB limit")) << message;
}

}  // namespace
}  // namespace felis
