// The Gram path of full-batch descent against the pixel path it replaces.
#include "felis/data/batch.h"
#include "felis/data/pixel_permutation.h"
#include "felis/train/span_descent.h"

#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <numeric>

namespace felis {
namespace {

// 24 images of 8 x 8 x 3: 192 pixels, so the Gram path applies (N <= D / 2).
Dataset small_images(int classes = 2) { return fixtures::synthetic_dataset(24, 8, 3, classes, 5); }

Model make_model(const std::string& spec, const Dataset& data, Init init) {
  return build_model({.preset = spec, .precision = Precision::float64, .init = init, .seed = 3},
                     {data.channels, data.height, data.width}, data.class_names);
}

std::vector<double> all_weights(Model& model) {
  std::vector<double> values;
  model.visit([&](auto& network) {
    for (auto& parameter : network.parameters()) {
      const auto* data = parameter.value->data();
      values.insert(values.end(), data, data + parameter.value->size());
    }
  });
  return values;
}

struct PathRun {
  TrainResult result;
  std::vector<double> weights;
};

PathRun train_path(const std::string& spec, Init init, bool allow_gram, const Dataset& data,
                   std::vector<int32_t> permutation = {}) {
  Model model = make_model(spec, data, init);
  model.input_permutation = std::move(permutation);
  PathRun run;
  run.result = train(model, data, nullptr,
                     {.iterations = 300, .learning_rate = 0.01, .cost_every = 50,
                      .allow_gram = allow_gram});
  run.weights = all_weights(model);
  return run;
}

void expect_same_training(const PathRun& gram, const PathRun& pixels) {
  EXPECT_TRUE(gram.result.gram);
  EXPECT_FALSE(pixels.result.gram);
  ASSERT_EQ(gram.result.costs.size(), pixels.result.costs.size());
  for (size_t i = 0; i < gram.result.costs.size(); ++i) {
    EXPECT_NEAR(gram.result.costs[i].cost, pixels.result.costs[i].cost, 1e-12) << i;
  }
  ASSERT_EQ(gram.weights.size(), pixels.weights.size());
  for (size_t i = 0; i < gram.weights.size(); ++i) {
    EXPECT_NEAR(gram.weights[i], pixels.weights[i], 1e-10) << "weight " << i;
  }
}

class PixelGram : public ::testing::TestWithParam<int64_t> {};

// Sides 8 and 7: 192 bytes per image, a multiple of the 64-byte vector steps, and 147,
// which leaves a tail; 40 gives 4800 bytes and values up to 255 in every lane.
TEST_P(PixelGram, EqualsTheProductOfTheScaledImages) {
  const Dataset data = fixtures::synthetic_dataset(24, GetParam(), 3, 2, 5);
  ThreadPool pool(2);
  const auto gram = pixel_gram<double>(data, pool);
  Tensor<double> x;
  std::vector<int32_t> labels;
  std::vector<int64_t> all(static_cast<size_t>(data.count));
  std::iota(all.begin(), all.end(), 0);
  make_batch(data, all, x, labels);
  const RowMatrix<double> expected = x.matrix() * x.matrix().transpose();
  ASSERT_EQ(gram.rows(), data.count);
  for (int64_t i = 0; i < data.count; ++i) {
    for (int64_t j = 0; j < data.count; ++j) {
      EXPECT_NEAR(gram(i, j), expected(i, j), 1e-12 * expected(i, j)) << i << ", " << j;
    }
  }
  // One entry by hand: the dot product of images 0 and 1 in integers over 255^2.
  int64_t dot = 0;
  for (int64_t p = 0; p < data.image_size(); ++p) dot += data.image(0)[p] * data.image(1)[p];
  EXPECT_EQ(gram(0, 1), static_cast<double>(dot) / (255.0 * 255.0));
}

INSTANTIATE_TEST_SUITE_P(Sides, PixelGram, ::testing::Values(8, 7, 40));

TEST(PixelGramBytes, SaturatedImagesStayExact) {
  // Every byte 255 on 256 x 256 x 3 images: 196,608 products of 255^2, whose sum
  // passes 2^31 within one vector block, where an overflow would show first.
  Dataset data = fixtures::synthetic_dataset(3, 256, 3, 2, 1);
  std::fill(data.pixels.begin(), data.pixels.end(), uint8_t{255});
  ThreadPool pool(1);
  const auto gram = pixel_gram<double>(data, pool);
  EXPECT_EQ(gram(0, 2), 256.0 * 256 * 3);
  EXPECT_EQ(gram(1, 1), 256.0 * 256 * 3);
}

TEST(SpanDescent, LogregMatchesPixelPath) {
  const Dataset data = small_images();
  expect_same_training(train_path("logreg", Init::zeros, true, data),
                       train_path("logreg", Init::zeros, false, data));
}

TEST(SpanDescent, DeepNetworkMatchesPixelPath) {
  const Dataset data = small_images();
  const std::string spec = "flatten, dense:6, relu, dense:4, relu, dense:1";
  expect_same_training(train_path(spec, Init::he, true, data),
                       train_path(spec, Init::he, false, data));
}

TEST(SpanDescent, PermutedSoftmaxMatchesPixelPath) {
  const Dataset data = small_images(3);
  const auto permutation = pixel_permutation(7, data.height * data.width);
  expect_same_training(train_path("flatten, dense:3", Init::he, true, data, permutation),
                       train_path("flatten, dense:3", Init::he, false, data, permutation));
}

TEST(SpanDescent, AppliesToPlainFullBatchOnly) {
  const Dataset data = small_images();
  Model model = make_model("logreg", data, Init::zeros);
  auto layer = [&](const TrainOptions& options) {
    return model.visit([&](auto& network) { return span_descent_layer(network, data, options); });
  };
  const TrainOptions plain{.iterations = 10};
  EXPECT_EQ(layer(plain), 1);  // after the flatten
  TrainOptions changed = plain;
  changed.optimizer = OptimizerKind::momentum;
  EXPECT_EQ(layer(changed), -1);
  changed = plain;
  changed.l2 = 0.1;
  EXPECT_EQ(layer(changed), -1);
  changed = plain;
  changed.clip_norm = 1.0;
  EXPECT_EQ(layer(changed), -1);
  changed = plain;
  changed.batch_size = 8;
  EXPECT_EQ(layer(changed), -1);
  changed = plain;
  changed.augment = Pipeline::parse("shift:1");
  EXPECT_EQ(layer(changed), -1);
  // 2 steps of 1 unit do not pay for G of 24 images.
  changed = plain;
  changed.iterations = 2;
  EXPECT_EQ(layer(changed), -1);

  // 100 images of 8 x 8 x 1: more than one image for every two pixels.
  const Dataset many = fixtures::synthetic_dataset(100, 8, 1, 2, 1);
  Model gray = make_model("logreg", many, Init::zeros);
  EXPECT_EQ(gray.visit([&](auto& network) { return span_descent_layer(network, many, plain); }),
            -1);
  Model single = build_model({.preset = "logreg", .precision = Precision::float32},
                             {data.channels, data.height, data.width}, data.class_names);
  EXPECT_EQ(single.visit([&](auto& network) { return span_descent_layer(network, data, plain); }),
            -1);
  Model conv = make_model("conv:2:3, relu, flatten, dense:1", data, Init::he);
  EXPECT_EQ(conv.visit([&](auto& network) { return span_descent_layer(network, data, plain); }),
            -1);
}

}  // namespace
}  // namespace felis
