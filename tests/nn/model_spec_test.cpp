// Presets and spec strings: the layers they resolve to, their output shapes, and the
// errors for specs that do not fit the input.
#include "felis/nn/model.h"
#include "felis/nn/model_spec.h"
#include "felis/error.h"

#include <gtest/gtest.h>

namespace felis {
namespace {

std::vector<std::string> classes(int count) {
  std::vector<std::string> names;
  for (int c = 0; c < count; ++c) names.push_back(std::to_string(c));
  return names;
}

// The output shape of one sample after every layer of `spec`.
std::vector<Shape> layer_shapes(const std::string& spec, const Shape& input, int class_count) {
  Model model = build_model({.preset = spec, .precision = Precision::float32}, input,
                            classes(class_count));
  std::vector<Shape> shapes;
  model.visit([&](auto& network) {
    Shape shape = network.input_shape();
    for (size_t i = 0; i < network.layer_count(); ++i) {
      shape = network.layer(i).output_shape(shape);
      shapes.push_back(shape);
    }
  });
  return shapes;
}

TEST(ModelSpec, EveryPresetEndsInItsOutput) {
  const std::vector<std::string> presets = {"softmax", "course-2layer", "course-4layer", "mlp",
                                            "hier3", "hier4", "cnn"};
  for (const auto& preset : presets) {
    SCOPED_TRACE(preset);
    EXPECT_EQ(layer_shapes(preset, {1, 28, 28}, 10).back(), (Shape{10}));
    EXPECT_EQ(layer_shapes(preset, {3, 64, 64}, 2).back(), (Shape{preset == "softmax" ? 2 : 1}));
  }
  EXPECT_EQ(layer_shapes("logreg", {3, 64, 64}, 2).back(), (Shape{1}));
}

TEST(ModelSpec, Hier3EndsOnThreeByThreeGrid) {
  for (const Shape& input : {Shape{3, 64, 64}, Shape{1, 28, 28}}) {
    const auto shapes = layer_shapes("hier3", input, 2);
    const Shape& grid = shapes[shapes.size() - 3];  // before flatten and dense
    EXPECT_EQ(grid[1], 3) << input[1];
    EXPECT_EQ(grid[2], 3) << input[1];
  }
}

TEST(ModelSpec, Hier4ShrinksByFour) {
  const auto shapes = layer_shapes("hier4", {3, 64, 64}, 2);
  // conv, relu per step: sides 16, 4, 1.
  EXPECT_EQ(shapes[0], (Shape{16, 16, 16}));
  EXPECT_EQ(shapes[2], (Shape{32, 4, 4}));
  EXPECT_EQ(shapes[4], (Shape{64, 1, 1}));
}

TEST(ModelSpec, CnnOnFashionMnistShapes) {
  const auto shapes = layer_shapes("cnn", {1, 28, 28}, 10);
  EXPECT_EQ(shapes[0], (Shape{32, 28, 28}));
  EXPECT_EQ(shapes[2], (Shape{32, 14, 14}));
  EXPECT_EQ(shapes[5], (Shape{64, 7, 7}));
  EXPECT_EQ(shapes[6], (Shape{3136}));
}

TEST(ModelSpec, CustomSpecResolvesShapes) {
  const ModelSpec spec = resolve_model_spec(
      "conv:16:3:p=1, relu, maxpool:2, flatten, dense:1, sigmoid", {3, 8, 8}, 2);
  EXPECT_EQ(spec.name, "custom");
  EXPECT_EQ(spec.output, OutputKind::sigmoid);
  ASSERT_EQ(spec.layers.size(), 5u);
  EXPECT_EQ(spec.layers[0]["in_channels"], 3);
  EXPECT_EQ(spec.layers[0]["padding"], 1);
  EXPECT_EQ(spec.layers[2]["stride"], 2);
  EXPECT_EQ(spec.layers[4]["inputs"], 16 * 4 * 4);
}

std::string spec_error(const std::string& spec, const Shape& input, int64_t class_count) {
  try {
    resolve_model_spec(spec, input, class_count);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no UsageError>";
}

TEST(ModelSpec, RejectsSpecsThatDoNotFit) {
  EXPECT_NE(spec_error("conv:4:3, dense:1", {1, 8, 8}, 2).find("layer 2 (dense:1) gets (4, 6, 6); put flatten before it"),
            std::string::npos);
  EXPECT_NE(spec_error("maxpool:2, maxpool:2, maxpool:2, flatten, dense:1", {1, 4, 4}, 2)
                .find("layer 3 (maxpool:2) gets (1, 1, 1), too small"),
            std::string::npos);
  EXPECT_NE(spec_error("flatten, dense:3", {1, 4, 4}, 2).find("3 units, but the data set has 2"),
            std::string::npos);
  EXPECT_NE(spec_error("flatten, conv2:3, dense:1", {1, 4, 4}, 2).find("unknown layer 'conv2'"),
            std::string::npos);
  EXPECT_NE(spec_error("flatten, dense:1, softmax", {1, 4, 4}, 2).find("need a sigmoid output"),
            std::string::npos);
  EXPECT_NE(spec_error("flatten, relu", {1, 4, 4}, 2).find("must end with a dense layer"),
            std::string::npos);
  EXPECT_NE(spec_error("logreg", {1, 4, 4}, 3).find("use --model softmax"), std::string::npos);
  EXPECT_NE(spec_error("flatten, dense:x", {1, 4, 4}, 2).find("'x' must be an integer"),
            std::string::npos);
}

}  // namespace
}  // namespace felis
