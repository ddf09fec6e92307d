// Report figures: the diverging color map, weight images of hand-set weights, sensitivity
// sums, representer coefficients computed by hand, the filter grid, mistakes, the
// confusion matrix and the augmentation preview, each decoded back from its PNG bytes.
#include "felis/study/figures.h"

#include "felis/data/image.h"
#include "felis/error.h"
#include "felis/study/canvas.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace felis {
namespace {

// Decodes PNG bytes to an RGB (or gray) cv::Mat; fails the test when they do not decode.
cv::Mat decode(const std::vector<char>& png, int flags = cv::IMREAD_COLOR) {
  cv::Mat bgr = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8UC1,
                                     const_cast<char*>(png.data())),
                             flags);
  EXPECT_FALSE(bgr.empty()) << "the PNG bytes do not decode";
  if (bgr.empty() || bgr.channels() == 1) return bgr;
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Vec3b rgb_at(const cv::Mat& image, int x, int y) { return image.at<cv::Vec3b>(y, x); }

// Sets parameter `name` of the first layer of type `type` to `values` (its element count).
void set_parameter(Model& model, const std::string& type, const std::string& name,
                   const std::vector<double>& values) {
  bool found = false;
  model.visit([&](auto& network) {
    for (size_t i = 0; i < network.layer_count() && !found; ++i) {
      if (network.layer(i).config().at("type") != type) continue;
      for (auto& parameter : network.layer(i).parameters()) {
        if (parameter.name != name) continue;
        ASSERT_EQ(parameter.value->size(), static_cast<int64_t>(values.size()));
        for (size_t j = 0; j < values.size(); ++j) (*parameter.value)[j] = values[j];
        found = true;
      }
    }
  });
  ASSERT_TRUE(found) << type << " " << name;
}

Model make_model(const std::string& preset, const Shape& input,
                 const std::vector<std::string>& classes) {
  return build_model({.preset = preset}, input, classes);
}

// `count` images of side x side x channels, image i filled by fill(i, position, channel).
template <typename Fill>
Dataset make_dataset(int64_t count, int64_t side, int64_t channels,
                     std::vector<std::string> classes, std::vector<int32_t> labels, Fill fill) {
  Dataset data;
  data.count = count;
  data.height = side;
  data.width = side;
  data.channels = channels;
  data.class_names = std::move(classes);
  data.labels = std::move(labels);
  data.source = "test images";
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t p = 0; p < side * side; ++p) {
      for (int64_t c = 0; c < channels; ++c) data.pixels.push_back(fill(i, p, c));
    }
  }
  data.validate();
  return data;
}

TEST(FigureCanvas, DivergingColors) {
  const Rgb zero = diverging_color(0.0, 2.0);
  EXPECT_EQ(zero.red, 255);
  EXPECT_EQ(zero.green, 255);
  EXPECT_EQ(zero.blue, 255);
  const Rgb positive = diverging_color(2.0, 2.0);
  EXPECT_EQ(positive.red, 255);
  EXPECT_EQ(positive.green, 0);
  EXPECT_EQ(positive.blue, 0);
  const Rgb negative = diverging_color(-2.0, 2.0);
  EXPECT_EQ(negative.red, 0);
  EXPECT_EQ(negative.green, 0);
  EXPECT_EQ(negative.blue, 255);
  const Rgb half = diverging_color(1.0, 2.0);  // 255 * 0.5 = 127.5 rounds to 128
  EXPECT_EQ(half.red, 255);
  EXPECT_EQ(half.green, 128);
  EXPECT_EQ(half.blue, 128);
  const Rgb beyond = diverging_color(-9.0, 2.0);
  EXPECT_EQ(beyond.blue, 255);
  EXPECT_EQ(beyond.red, 0);
  const Rgb flat = diverging_color(1.0, 0.0);
  EXPECT_EQ(flat.red, 255);
  EXPECT_EQ(flat.green, 255);
}

TEST(FigureCanvas, EnlargementFactor) {
  EXPECT_EQ(enlargement_factor(64, 128), 2);
  EXPECT_EQ(enlargement_factor(28, 128), 5);
  EXPECT_EQ(enlargement_factor(200, 128), 1);
  EXPECT_EQ(enlargement_factor(3, 24), 8);
}

TEST(FigureCanvas, EnlargeNearestRepeatsPixels) {
  const Image image{.shape = {.height = 1, .width = 2, .channels = 1}, .pixels = {10, 20}};
  const Image big = enlarge_nearest(image, 3);
  ASSERT_EQ(big.shape.height, 3);
  ASSERT_EQ(big.shape.width, 6);
  const std::vector<uint8_t> row = {10, 10, 10, 20, 20, 20};
  for (int y = 0; y < 3; ++y) {
    EXPECT_EQ(std::vector<uint8_t>(big.pixels.begin() + y * 6, big.pixels.begin() + y * 6 + 6),
              row);
  }
}

TEST(FigureWeights, ChannelMapColorsAndScale) {
  // logreg on 4x4x3: W (1, 48) in (C, H, W) order. +2 at channel 0 pixel (0, 0), -2 at
  // channel 1 pixel (0, 1), +1 at channel 2 pixel (3, 3).
  Model model = make_model("logreg", {3, 4, 4}, {"non-cat", "cat"});
  std::vector<double> w(48, 0.0);
  w[0] = 2.0;
  w[16 + 1] = -2.0;
  w[32 + 15] = 1.0;
  set_parameter(model, "dense", "W", w);

  const std::vector<WeightImage> images = render_weight_images(model);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].label, "cat");
  EXPECT_DOUBLE_EQ(images[0].max_abs_weight, 2.0);

  // Three maps of 4 x 32 = 128 px with 6 px of white around and between them.
  const cv::Mat maps = decode(images[0].channel_maps_png);
  ASSERT_EQ(maps.cols, 6 + 3 * (128 + 6));
  ASSERT_EQ(maps.rows, 6 + 128 + 6);
  const int map_left[3] = {6, 6 + 134, 6 + 2 * 134};
  EXPECT_EQ(rgb_at(maps, map_left[0] + 5, 6 + 5), cv::Vec3b(255, 0, 0));     // +max: red
  EXPECT_EQ(rgb_at(maps, map_left[0] + 40, 6 + 5), cv::Vec3b(255, 255, 255));  // 0: white
  EXPECT_EQ(rgb_at(maps, map_left[1] + 32 + 5, 6 + 5), cv::Vec3b(0, 0, 255));  // -max: blue
  EXPECT_EQ(rgb_at(maps, map_left[2] + 127, 6 + 127), cv::Vec3b(255, 128, 128));  // +max/2
  EXPECT_EQ(rgb_at(maps, map_left[1] - 3, 20), cv::Vec3b(255, 255, 255));  // the gap

  // As an image: (H, W, C) scaled from [-2, 2] to [0, 255], enlarged 32 times.
  const cv::Mat as_image = decode(images[0].as_image_png);
  ASSERT_EQ(as_image.cols, 128);
  ASSERT_EQ(as_image.rows, 128);
  EXPECT_EQ(rgb_at(as_image, 0, 0), cv::Vec3b(255, 128, 128));
  EXPECT_EQ(rgb_at(as_image, 32, 0), cv::Vec3b(128, 0, 128));
  EXPECT_EQ(rgb_at(as_image, 127, 127), cv::Vec3b(128, 128, 191));  // 127.5 * 1.5 = 191.25
}

TEST(FigureWeights, GraySoftmaxRowPerClass) {
  Model model = make_model("softmax", {1, 4, 4}, {"a", "b", "c"});
  std::vector<double> w(3 * 16, 0.0);
  w[0] = 0.5;        // class a
  w[16 + 3] = -4.0;  // class b
  set_parameter(model, "dense", "W", w);

  const std::vector<WeightImage> images = render_weight_images(model);
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].label, "a");
  EXPECT_EQ(images[1].label, "b");
  EXPECT_EQ(images[2].label, "c");
  EXPECT_DOUBLE_EQ(images[0].max_abs_weight, 0.5);
  EXPECT_DOUBLE_EQ(images[1].max_abs_weight, 4.0);
  EXPECT_DOUBLE_EQ(images[2].max_abs_weight, 0.0);

  const cv::Mat map = decode(images[1].channel_maps_png);
  ASSERT_EQ(map.cols, 6 + 128 + 6);
  EXPECT_EQ(rgb_at(map, 6 + 3 * 32 + 1, 6 + 1), cv::Vec3b(0, 0, 255));
  const cv::Mat gray = decode(images[2].as_image_png, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(gray.channels(), 1);
  EXPECT_EQ(gray.at<uint8_t>(10, 10), 128);  // all-zero weights: mid-gray
}

TEST(FigureWeights, UndoesPixelPermutation) {
  // Input position 0 comes from image position 5, so the weight of input 0 belongs at pixel 5.
  Model model = make_model("logreg", {1, 4, 4}, {"no", "yes"});
  model.input_permutation = {5, 1, 2, 3, 4, 0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  std::vector<double> w(16, 0.0);
  w[0] = 1.0;
  set_parameter(model, "dense", "W", w);
  const cv::Mat image = decode(render_weight_images(model)[0].as_image_png, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(image.at<uint8_t>(32 * 1, 32 * 1), 255);  // pixel 5 is (row 1, column 1)
  EXPECT_EQ(image.at<uint8_t>(0, 0), 128);
}

TEST(FigureWeights, RejectConvolutionFirst) {
  Model model = make_model("conv:2:3:p=1, relu, flatten, dense:1", {3, 4, 4}, {"no", "yes"});
  EXPECT_THROW(render_weight_images(model), Error);
  EXPECT_THROW(weight_sensitivity(model), Error);
}

TEST(FigureSensitivity, SumsByHand) {
  // Channel 0 weights 1 everywhere, channel 1 -0.5, channel 2 a single 3: sums 16, -8, 3.
  Model model = make_model("logreg", {3, 4, 4}, {"non-cat", "cat"});
  std::vector<double> w(48, 0.0);
  for (int p = 0; p < 16; ++p) {
    w[p] = 1.0;
    w[16 + p] = -0.5;
  }
  w[32 + 7] = 3.0;
  set_parameter(model, "dense", "W", w);

  const std::vector<WeightSensitivity> plain = weight_sensitivity(model);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_DOUBLE_EQ(plain[0].weight_sum, 11.0);
  EXPECT_DOUBLE_EQ(plain[0].logit_change_per_level, 11.0 / 255.0);
  ASSERT_EQ(plain[0].channel_weight_sums.size(), 3u);
  EXPECT_DOUBLE_EQ(plain[0].channel_weight_sums[0], 16.0);
  EXPECT_DOUBLE_EQ(plain[0].channel_weight_sums[1], -8.0);
  EXPECT_DOUBLE_EQ(plain[0].channel_weight_sums[2], 3.0);
  EXPECT_TRUE(plain[0].tint_logit_changes.empty());

  // Image 0 all 255 (x = 1), image 1 all 51 (x = 0.2): the mean of sum_p w_cp x_cp is
  // 0.6 of the channel sum, and a +10 % tint moves the logit by 0.1 of that.
  const Dataset data = make_dataset(2, 4, 3, {"non-cat", "cat"}, {0, 1},
                                    [](int64_t i, int64_t, int64_t) { return i == 0 ? 255 : 51; });
  const std::vector<WeightSensitivity> tinted = weight_sensitivity(model, data);
  ASSERT_EQ(tinted[0].tint_logit_changes.size(), 3u);
  EXPECT_NEAR(tinted[0].tint_logit_changes[0], 0.1 * 0.6 * 16.0, 1e-12);
  EXPECT_NEAR(tinted[0].tint_logit_changes[1], 0.1 * 0.6 * -8.0, 1e-12);
  EXPECT_NEAR(tinted[0].tint_logit_changes[2], 0.1 * 0.6 * 3.0, 1e-12);

  const Dataset wrong = make_dataset(1, 5, 3, {"non-cat", "cat"}, {0},
                                     [](int64_t, int64_t, int64_t) { return 0; });
  EXPECT_THROW(weight_sensitivity(model, wrong), Error);
}

TEST(FigureRepresenter, SolvesKnownCombination) {
  RowMatrix<double> x(2, 4);
  x << 1.0, 0.0, 0.5, 0.25,  //
      0.0, 1.0, 0.5, 0.75;
  const Eigen::VectorXd w = 0.7 * x.row(0).transpose() - 1.3 * x.row(1).transpose();
  const RepresenterSolution solution = solve_representer(x, w);
  ASSERT_EQ(solution.coefficients.size(), 2u);
  EXPECT_NEAR(solution.coefficients[0], 0.7, 1e-9);
  EXPECT_NEAR(solution.coefficients[1], -1.3, 1e-9);
  EXPECT_LT(solution.relative_residual, 1e-12);
  EXPECT_EQ(solution.ridge, 0.0);
}

TEST(FigureRepresenter, DuplicateImagesNeedRidge) {
  // Two equal rows make X X^T singular; the coefficients may split the weight any way,
  // but X^T a must still give w.
  RowMatrix<double> x(3, 3);
  x << 1.0, 2.0, 0.0,  //
      1.0, 2.0, 0.0,   //
      0.0, 1.0, 1.0;
  const Eigen::VectorXd w = 2.0 * x.row(0).transpose() + 0.5 * x.row(2).transpose();
  const RepresenterSolution solution = solve_representer(x, w);
  EXPECT_LT(solution.relative_residual, 1e-6);
  EXPECT_NEAR(solution.coefficients[0] + solution.coefficients[1], 2.0, 1e-6);
  EXPECT_NEAR(solution.coefficients[2], 0.5, 1e-6);
}

TEST(FigureRepresenter, RecoversGradientDescentFromZero) {
  // Plain gradient descent on 3 images of 2x2x1 from zero weights:
  //   p = sigmoid(X w + b), w -= rate X^T (p - y) / N, b -= rate sum(p - y) / N,
  // so w = X^T a and b = sum(a) with a accumulating -rate (p - y) / N.
  const Dataset data = make_dataset(3, 2, 1, {"no", "yes"}, {1, 0, 1},
                                    [](int64_t i, int64_t p, int64_t) {
                                      return static_cast<int>((i * 97 + p * 41 + 13) % 256);
                                    });
  RowMatrix<double> x(3, 4);
  for (int i = 0; i < 3; ++i) {
    for (int p = 0; p < 4; ++p) x(i, p) = data.image(i)[p] / 255.0;
  }
  const Eigen::Vector3d y(1.0, 0.0, 1.0);
  Eigen::Vector4d w = Eigen::Vector4d::Zero();
  Eigen::Vector3d a = Eigen::Vector3d::Zero();
  double b = 0.0;
  const double rate = 0.5;
  for (int step = 0; step < 20; ++step) {
    const Eigen::Vector3d z = (x * w).array() + b;
    const Eigen::Vector3d p = (1.0 / (1.0 + (-z.array()).exp())).matrix();
    const Eigen::Vector3d da = -rate * (p - y) / 3.0;
    w += x.transpose() * da;
    b += da.sum();
    a += da;
  }
  Model model = make_model("logreg", {1, 2, 2}, {"no", "yes"});
  set_parameter(model, "dense", "W", {w(0), w(1), w(2), w(3)});
  set_parameter(model, "dense", "b", {b});

  const Representer view = compute_representer(model, data, {.row = 0, .top = 2});
  ASSERT_EQ(view.solution.coefficients.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(view.solution.coefficients[i], a(i), 1e-9) << i;
  EXPECT_LT(view.solution.relative_residual, 1e-9);
  EXPECT_NEAR(view.coefficient_sum, view.bias, 1e-9);
  EXPECT_DOUBLE_EQ(view.bias, b);
  EXPECT_EQ(view.label, "yes");

  // Labels 1 push a up, label 0 down: two positives on top, one negative below.
  ASSERT_EQ(view.most_positive.size(), 2u);
  ASSERT_EQ(view.most_negative.size(), 1u);
  EXPECT_EQ(view.most_negative[0], 1);
  EXPECT_GE(a(view.most_positive[0]), a(view.most_positive[1]));
  const cv::Mat strip = decode(view.strip_png);
  // Two rows of 2 x 48 = 96 px images, each with a caption band under it.
  EXPECT_GT(strip.rows, 6 + 2 * (96 + 6));
  EXPECT_GE(strip.cols, 6 + 2 * (96 + 6));

  EXPECT_THROW(compute_representer(model, data, {.row = 1}), Error);
}

TEST(FigureFilters, GridSizeAndColors) {
  Model model = make_model("conv:2:3:p=1, relu, flatten, dense:1", {3, 4, 4}, {"no", "yes"});
  // W (2, 3, 3, 3): filter 0 has +1 at channel 0 (0, 0) and -1 at channel 0 (1, 1);
  // filter 1 has 0.25 at channel 2 (2, 2).
  std::vector<double> w(2 * 27, 0.0);
  w[0] = 1.0;
  w[4] = -1.0;
  w[27 + 18 + 8] = 0.25;
  set_parameter(model, "conv2d", "W", w);

  const FilterGrid grid = render_first_filters(model);
  EXPECT_EQ(grid.filters, 2);
  EXPECT_EQ(grid.channels, 3);
  EXPECT_EQ(grid.kernel, 3);
  // Tiles of 3 x 8 = 24 px in one row, 4 px apart and around.
  const cv::Mat image = decode(grid.png);
  ASSERT_EQ(image.cols, 4 + 2 * (24 + 4));
  ASSERT_EQ(image.rows, 4 + 24 + 4);
  EXPECT_EQ(rgb_at(image, 4 + 1, 4 + 1), cv::Vec3b(255, 128, 128));
  EXPECT_EQ(rgb_at(image, 4 + 8 + 1, 4 + 8 + 1), cv::Vec3b(0, 128, 128));
  EXPECT_EQ(rgb_at(image, 4 + 28 + 16 + 1, 4 + 16 + 1), cv::Vec3b(128, 128, 255));
  EXPECT_EQ(rgb_at(image, 4 + 28 + 1, 4 + 1), cv::Vec3b(128, 128, 128));

  Model dense = make_model("logreg", {3, 4, 4}, {"no", "yes"});
  EXPECT_THROW(render_first_filters(dense), Error);
}

TEST(FigureMistakes, MostConfidentFirst) {
  const Dataset data = make_dataset(5, 4, 3, {"non-cat", "cat"}, {1, 0, 1, 0, 1},
                                    [](int64_t i, int64_t, int64_t) { return 40 * i; });
  RowMatrix<double> probabilities(5, 2);
  probabilities << 0.9, 0.1,  // wrong, 0.9
      0.2, 0.8,               // wrong, 0.8
      0.3, 0.7,               // right
      0.05, 0.95,             // wrong, 0.95
      0.4, 0.6;               // right
  const MistakeGrid grid = render_mistakes(data, probabilities, {.max_images = 2, .columns = 6});
  EXPECT_EQ(grid.mistake_count, 3);
  EXPECT_EQ(grid.indices, (std::vector<int64_t>{3, 0}));
  const cv::Mat image = decode(grid.png);
  EXPECT_GE(image.cols, 6 + 2 * (64 + 6));
  EXPECT_GT(image.rows, 6 + 64 + 6);  // a caption band under the images

  // The file also loads through felis's own decoder.
  const auto file = std::filesystem::temp_directory_path() / "felis_figure_mistakes.png";
  {
    std::ofstream out(file, std::ios::binary);
    out.write(grid.png.data(), static_cast<std::streamsize>(grid.png.size()));
  }
  const LoadedImage loaded = load_image(file, {});
  EXPECT_EQ(loaded.source_shape.width, image.cols);
  EXPECT_EQ(loaded.source_shape.height, image.rows);
  std::filesystem::remove(file);

  const MistakeGrid all = render_mistakes(data, probabilities);
  EXPECT_EQ(all.indices, (std::vector<int64_t>{3, 0, 1}));
}

TEST(FigureMistakes, NoMistakesNoImage) {
  const Dataset data = make_dataset(2, 4, 1, {"a", "b"}, {0, 1},
                                    [](int64_t, int64_t, int64_t) { return 7; });
  RowMatrix<double> probabilities(2, 2);
  probabilities << 0.9, 0.1, 0.2, 0.8;
  const MistakeGrid grid = render_mistakes(data, probabilities);
  EXPECT_EQ(grid.mistake_count, 0);
  EXPECT_TRUE(grid.indices.empty());
  EXPECT_TRUE(grid.png.empty());

  RowMatrix<double> wrong(3, 2);
  wrong.setZero();
  EXPECT_THROW(render_mistakes(data, wrong), Error);
}

TEST(FigureConfusion, HeatmapCells) {
  const std::vector<std::vector<int64_t>> confusion = {{5, 0}, {1, 4}};
  const cv::Mat image = decode(render_confusion_matrix(confusion, {"non-cat", "cat"}));
  EXPECT_GE(image.cols, 2 * 36);
  EXPECT_GE(image.rows, 2 * 36);
  // The largest count's cell is dark blue.
  int dark = 0;
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      if (rgb_at(image, x, y) == cv::Vec3b(8, 48, 107)) ++dark;
    }
  }
  EXPECT_GT(dark, 500);  // most of a 36 x 36 cell, less its border and digit

  EXPECT_THROW(render_confusion_matrix({{1, 2}}, {"a", "b"}), Error);
  EXPECT_THROW(render_confusion_matrix({{1, -2}, {0, 0}}, {"a", "b"}), Error);
  EXPECT_THROW(render_confusion_matrix({}, {}), Error);
}

// Three solid 8x8 RGB images: image i is (40 + 80 i, 200, 30).
Dataset solid_images() {
  return make_dataset(3, 8, 3, {"a", "b"}, {0, 1, 0}, [](int64_t i, int64_t, int64_t c) {
    const int64_t levels[] = {40 + 80 * i, 200, 30};
    return static_cast<uint8_t>(levels[c]);
  });
}

TEST(FigureAugmentationPreview, BlocksSideBySide) {
  const Dataset data = solid_images();
  const AugmentationPreviewOptions options{
      .images = 3, .copies = 2, .min_image_px = 16, .columns = 2, .seed = 1};
  const cv::Mat image = decode(render_augmentation_preview(
      data, {{.name = "tint", .spec = "tint:0.5"}, {.name = "shift", .spec = "shift:2"}}, options));
  ASSERT_FALSE(image.empty());

  // preview_grid draws each block 76 x 64 pixels: 16-pixel cells (8 pixels enlarged twice)
  // with 4-pixel gaps, 16 between the original and its copies. compose_grid puts two cells
  // of equal width, at least a block wide, in one row with 8-pixel gaps, captions below.
  const int gap = 8;
  ASSERT_EQ((image.cols - gap) % 2, 0);
  const int cell_width = (image.cols - gap) / 2 - gap;
  EXPECT_GE(cell_width, 76);
  EXPECT_GT(image.rows, 64 + 2 * gap);
  EXPECT_LT(image.rows, 64 + 2 * gap + 40) << "one row of blocks and a caption line";

  // The centre of the original and of copy c of image r within the block at `left`.
  const auto original_at = [&](int left, int r) {
    return rgb_at(image, left + 4 + 8, gap + 4 + r * 20 + 8);
  };
  const auto copy_at = [&](int left, int r, int c) {
    return rgb_at(image, left + 4 + 16 + 16 + (c - 1) * 20 + 8, gap + 4 + r * 20 + 8);
  };
  const int tint_left = gap;
  const int shift_left = gap + cell_width + gap;
  int tinted_copies_changed = 0;
  for (int r = 0; r < 3; ++r) {
    const cv::Vec3b color(static_cast<uint8_t>(40 + 80 * r), 200, 30);
    EXPECT_EQ(original_at(tint_left, r), color) << "tint block, image " << r;
    EXPECT_EQ(original_at(shift_left, r), color) << "shift block, image " << r;
    for (int c = 1; c <= 2; ++c) {
      // A shift of a solid image with reflected borders leaves every pixel as it was.
      EXPECT_EQ(copy_at(shift_left, r, c), color) << "shift copy " << c << " of image " << r;
      if (copy_at(tint_left, r, c) != color) ++tinted_copies_changed;
    }
  }
  EXPECT_GT(tinted_copies_changed, 0) << "tints of up to 50 % should change some copy";
}

TEST(FigureAugmentationPreview, RejectsBadSpecs) {
  const Dataset data = solid_images();
  EXPECT_THROW(render_augmentation_preview(data, {{.name = "odd", .spec = "wobble:3"}}),
               UsageError);
  // A shift as large as the 8-pixel side does not fit the images.
  EXPECT_THROW(render_augmentation_preview(data, {{.name = "shift", .spec = "shift:8"}}),
               UsageError);
}

}  // namespace
}  // namespace felis
