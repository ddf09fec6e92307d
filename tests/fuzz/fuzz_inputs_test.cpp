// The fuzz targets' inputs: seed corpora written here from valid files of every kind, and
// the inputs kept in fuzz/regressions replayed through the harnesses that found them.
#include "harness.h"

#include "felis/augment/pipeline.h"
#include "felis/data/image.h"
#include "felis/data/loaders.h"
#include "felis/io/model_file.h"
#include "felis/nn/model_spec.h"
#include "felis/train/checkpoint.h"
#include "felis/train/trainer.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

namespace felis {
namespace {

namespace fs = std::filesystem;
using fixtures::read_bytes;
using fixtures::write_bytes;

// fuzz/run seeds each target's corpus from this directory's <harness> folder.
const fs::path kSeedDir = fs::path(FELIS_TEST_ARTIFACT_DIR) / "fuzz-seeds";
const fs::path kRegressionDir = fs::path(FELIS_SOURCE_DIR) / "fuzz" / "regressions";

fs::path seed_folder(const std::string& harness) {
  const fs::path folder = kSeedDir / harness;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// The idx harness's input: the image file's length as a little-endian uint32, the image
// file, then the label file.
std::vector<uint8_t> idx_pair_input(const std::vector<uint8_t>& images,
                                    const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> input;
  for (int shift = 0; shift < 32; shift += 8) {
    input.push_back(static_cast<uint8_t>(images.size() >> shift));
  }
  input.insert(input.end(), images.begin(), images.end());
  input.insert(input.end(), labels.begin(), labels.end());
  return input;
}

std::vector<uint8_t> gzipped(const std::vector<uint8_t>& bytes, const fs::path& scratch) {
  fixtures::write_gzip(scratch, bytes);
  return read_bytes(scratch);
}

TEST(FuzzSeeds, DataFilesLoad) {
  const fs::path hdf5 = seed_folder("hdf5_data");
  {
    fixtures::H5Writer writer(hdf5 / "course.h5");
    fixtures::write_split(writer, "train", 4, 3, 3, {0, 1, 1, 0});
    fixtures::write_split(writer, "test", 2, 3, 3, {1, 0});
    writer.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
  }
  {
    fixtures::H5Writer writer(hdf5 / "gray.h5");
    writer.write_uint8("train_set_x", {3, 2, 2}, std::vector<uint8_t>(12, 9));
    writer.write_int64("train_set_y", {1, 3}, {2, 0, 1});
    writer.write_variable_strings("list_classes", {"a", "b", "c"});
  }
  for (const auto& file : fs::directory_iterator(hdf5)) {
    EXPECT_NO_THROW(load_data(file.path())) << file.path();
  }

  const fs::path idx = seed_folder("idx");
  const auto images = fixtures::idx_bytes(0x803, {2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const auto labels = fixtures::idx_bytes(0x801, {2}, {3, 9});
  write_bytes(idx / "raw", idx_pair_input(images, labels));
  fixtures::TempDir scratch;
  write_bytes(idx / "gzip",
              idx_pair_input(gzipped(images, scratch / "i.gz"), gzipped(labels, scratch / "l.gz")));
  for (const auto& file : fs::directory_iterator(idx)) {
    const auto input = read_bytes(file.path());
    const size_t split = 4 + (input[0] | input[1] << 8);
    write_bytes(scratch / "images", {input.begin() + 4, input.begin() + split});
    write_bytes(scratch / "labels", {input.begin() + split, input.end()});
    EXPECT_EQ(load_idx_pair(scratch / "images", scratch / "labels").count, 2) << file.path();
  }
}

TEST(FuzzSeeds, ModelFilesAndCheckpointsLoad) {
  const Dataset data = fixtures::synthetic_dataset(20, 6, 3, 3, 4);
  const fs::path models = seed_folder("model_file");
  const std::string every_layer =
      "conv:2:3:p=1, batchnorm, relu, maxpool:2, conv:2:3:s=2:p=1, leaky_relu:0.1, avgpool:2:s=1, "
      "dropout:0.25, flatten, dense:3, tanh, dense:3, sigmoid, dense:3";
  for (Precision precision : {Precision::float32, Precision::float64}) {
    Model model = build_model({.preset = every_layer, .precision = precision}, {3, 6, 6},
                              data.class_names);
    save_model(model, models / ("every-layer-" + to_string(precision) + ".h5"));
  }
  Model softmax = build_model({.preset = "softmax"}, {3, 6, 6}, data.class_names);
  save_model(softmax, models / "softmax.h5");
  for (const auto& file : fs::directory_iterator(models)) {
    EXPECT_NO_THROW(load_model(file.path())) << file.path();
  }

  // A checkpoint with Adam's moments, batch normalization's statistics and a generator.
  const fs::path checkpoints = seed_folder("checkpoint");
  fixtures::TempDir directory;
  Model model = build_model({.preset = "conv:2:3, batchnorm, relu, flatten, dropout:0.5, dense:3",
                             .precision = Precision::float32},
                            {3, 6, 6}, data.class_names);
  TrainCallbacks callbacks;
  callbacks.on_checkpoint = [&](const TrainState& state) {
    save_checkpoint(model, state, {{"seed", 1}}, directory.path());
  };
  train(model, data, nullptr,
        {.epochs = 1, .batch_size = 8, .learning_rate = 0.01, .optimizer = OptimizerKind::adam},
        callbacks);
  fs::copy_file(directory / kCheckpointFile, checkpoints / "adam.h5");
  const Checkpoint loaded = load_checkpoint(directory.path());
  EXPECT_EQ(loaded.state.step, 3);
}

TEST(FuzzSeeds, ImagesDecode) {
  const fs::path images = seed_folder("image");
  const cv::Mat gray(5, 7, CV_8UC1, cv::Scalar(90));
  const cv::Mat colour(6, 4, CV_8UC3, cv::Scalar(10, 200, 30));
  const cv::Mat rgba16(3, 5, CV_16UC4, cv::Scalar(1000, 40000, 65535, 30000));
  ASSERT_TRUE(cv::imwrite((images / "gray.png").string(), gray));
  ASSERT_TRUE(cv::imwrite((images / "rgba16.png").string(), rgba16));
  ASSERT_TRUE(cv::imwrite((images / "colour.jpg").string(), colour));
  ASSERT_TRUE(cv::imwrite((images / "colour.bmp").string(), colour));
  ASSERT_TRUE(cv::imwrite((images / "gray.jpg").string(), gray));
  for (const auto& file : fs::directory_iterator(images)) {
    EXPECT_EQ(load_image(file.path(), {.height = 0, .width = 0, .channels = 0}).pixels.size() > 0,
              true)
        << file.path();
  }
}

TEST(FuzzSeeds, SpecsParse) {
  const fs::path models = seed_folder("model_spec");
  int count = 0;
  for (const auto& [name, help] : model_presets()) {
    fixtures::write_text(models / name, name);
    const ModelSpec spec = resolve_model_spec(name, {3, 12, 12}, 2);
    fixtures::write_text(models / (name + "-text"), spec.text);
    EXPECT_NO_THROW(resolve_model_spec(spec.text, {3, 12, 12}, 2)) << spec.text;
    ++count;
  }
  fixtures::write_text(models / "every-layer",
                       "conv:4:3:s=1:p=1, batchnorm, leaky_relu:0.2, avgpool:2:s=2, "
                       "dropout:0.1, flatten, dense:5, tanh, dense:2, sigmoid");
  EXPECT_EQ(count, 8);

  const fs::path augment = seed_folder("augment_spec");
  for (const AugmentHelp& transform : augment_transforms()) {
    fixtures::write_text(augment / transform.name, transform.name);
  }
  const std::vector<std::string> settings = {
      "shift:2:border=constant, rotate:20:p=0.5:border=replicate, crop:0.9, hflip",
      "elastic:10:3, tint:0.3:p=0.8, cutout:3:fill=255, noise:4, blur:0.5",
      "scale:0.2, shear:5, vflip:p=1, brightness, contrast, saturation, hue, gamma"};
  for (size_t i = 0; i < settings.size(); ++i) {
    fixtures::write_text(augment / ("combined-" + std::to_string(i)), settings[i]);
    EXPECT_NO_THROW(Pipeline::parse(settings[i]).check({.height = 9, .width = 13, .channels = 3}))
        << settings[i];
  }
}

// Every input kept after a fuzzer found it crashing felis: each must now be rejected with
// a felis::Error, or loaded, and nothing else.
TEST(FuzzRegressions, KeptInputsRunCleanly) {
  if (!fs::is_directory(kRegressionDir)) GTEST_SKIP() << "missing " << kRegressionDir;
  int count = 0;
  for (const fuzz::Harness& harness : fuzz::harnesses()) {
    const fs::path folder = kRegressionDir / harness.name;
    if (!fs::is_directory(folder)) continue;
    for (const auto& file : fs::directory_iterator(folder)) {
      const std::vector<uint8_t> input = read_bytes(file.path());
      EXPECT_NO_THROW(harness.run(input.data(), input.size())) << file.path();
      ++count;
    }
  }
  EXPECT_GT(count, 0) << "no inputs in " << kRegressionDir;
}

}  // namespace
}  // namespace felis
