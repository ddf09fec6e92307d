// Tests of load_idx_pair on raw and gzipped files written here and on Fashion-MNIST.
#include "data/fixtures.h"
#include "felis/data/loaders.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;
using fixtures::idx_bytes;
using fixtures::TempDir;

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

// Two 2x3 images and their labels.
const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 5, 255, 254, 128, 127, 9, 8};
const std::vector<uint8_t> kLabels = {3, 7};
const std::vector<std::string> kDigits = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

TEST(Idx, RawRoundTrip) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const Dataset data = load_idx_pair(dir / "images", dir / "labels");

  EXPECT_EQ(data.count, 2);
  EXPECT_EQ(data.height, 2);
  EXPECT_EQ(data.width, 3);
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.pixels, kPixels);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{3, 7}));
  EXPECT_EQ(data.class_names, kDigits);
}

TEST(Idx, GzipRoundTrip) {
  TempDir dir;
  fixtures::write_gzip(dir / "images.gz", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_gzip(dir / "labels.gz", idx_bytes(kLabelsMagic, {2}, kLabels));

  const Dataset data = load_idx_pair(dir / "images.gz", dir / "labels.gz");

  EXPECT_EQ(data.pixels, kPixels);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{3, 7}));
  EXPECT_EQ(data.height, 2);
  EXPECT_EQ(data.width, 3);
}

TEST(Idx, WrongMagic) {
  TempDir dir;
  // 0x00000d03 is a valid IDX magic for float32 images, which felis does not read.
  fixtures::write_bytes(dir / "images", idx_bytes(0x00000d03, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, (dir / "images").string())) << message;
  EXPECT_TRUE(contains(message, "magic 0x00000d03")) << message;
  EXPECT_TRUE(contains(message, "(magic 0x00000803) were expected")) << message;
}

TEST(Idx, TextIsNotIdx) {
  TempDir dir;
  fixtures::write_text(dir / "images", "<html>");
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, "not an IDX file (magic 0x3c68746d)")) << message;
}

TEST(Idx, LabelsGivenAsImages) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const std::string swapped =
      error_message([&] { load_idx_pair(dir / "labels", dir / "images"); });

  EXPECT_TRUE(contains(swapped, (dir / "labels").string())) << swapped;
  EXPECT_TRUE(contains(swapped, "is an IDX label file")) << swapped;
  EXPECT_TRUE(contains(swapped, "IDX images (magic 0x00000803) were expected")) << swapped;
}

TEST(Idx, ImagesGivenAsLabels) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "images"); });

  EXPECT_TRUE(contains(message, "is an IDX image file")) << message;
  EXPECT_TRUE(contains(message, "IDX labels (magic 0x00000801) were expected")) << message;
}

TEST(Idx, HeaderPromisesMoreImages) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {60000, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, (dir / "images").string())) << message;
  EXPECT_TRUE(contains(message, "promises 60000 images but the file contains 2")) << message;
}

TEST(Idx, GzipHeaderPromisesMoreLabels) {
  TempDir dir;
  fixtures::write_gzip(dir / "images.gz", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_gzip(dir / "labels.gz", idx_bytes(kLabelsMagic, {10000}, kLabels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images.gz", dir / "labels.gz"); });

  EXPECT_TRUE(contains(message, (dir / "labels.gz").string())) << message;
  EXPECT_TRUE(contains(message, "promises 10000 labels but the file contains 2")) << message;
}

TEST(Idx, HeaderBeyondLimit) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {4000000000u, 100, 100}, {}));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, "more than the limit")) << message;
}

TEST(Idx, TruncatedGzip) {
  TempDir dir;
  // Pixels from a linear congruential sequence, so that gzip cannot shrink them much.
  std::vector<uint8_t> pixels(100 * 28 * 28);
  uint32_t state = 12345;
  for (uint8_t& pixel : pixels) {
    state = state * 1664525u + 1013904223u;
    pixel = static_cast<uint8_t>(state >> 24);
  }
  fixtures::write_gzip(dir / "whole.gz", idx_bytes(kImagesMagic, {100, 28, 28}, pixels));
  std::vector<uint8_t> bytes = fixtures::read_bytes(dir / "whole.gz");
  bytes.resize(bytes.size() / 2);
  fixtures::write_bytes(dir / "half.gz", bytes);
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {100}, std::vector<uint8_t>(100)));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "half.gz", dir / "labels"); });

  EXPECT_TRUE(contains(message, (dir / "half.gz").string())) << message;
  EXPECT_TRUE(contains(message, "truncated or corrupt gzip stream")) << message;
}

TEST(Idx, CountsDiffer) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {3}, {1, 2, 3}));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, "contains 2 images but")) << message;
  EXPECT_TRUE(contains(message, "contains 3 labels")) << message;
}

TEST(Idx, LabelAboveNine) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, {1, 12}));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, "label 12 of image 1 is outside the 10 classes")) << message;
}

TEST(Idx, OutOfRangeLabelNamesLabelFile) {
  TempDir dir;
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {2, 2, 3}, kPixels));
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, {1, 200}));

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(message.starts_with((dir / "labels").string() + ": label 200 of image 1 is "
                                                              "outside the 10 classes [0, 10)"))
      << message;
}

TEST(Idx, FifoRejected) {
  TempDir dir;
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {2}, kLabels));
  ASSERT_EQ(mkfifo((dir / "images").c_str(), 0600), 0);

  const std::string message =
      error_message([&] { load_idx_pair(dir / "images", dir / "labels"); });

  EXPECT_TRUE(contains(message, (dir / "images").string() +
                                    ": is a named pipe (FIFO), not a regular file or directory"))
      << message;
}

TEST(Idx, FashionNamesFromLabelContent) {
  TempDir dir;
  const std::vector<uint8_t> fashion = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 1};
  const std::vector<uint8_t> mnist = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3};
  fixtures::write_bytes(dir / "images", idx_bytes(kImagesMagic, {11, 1, 1}, std::vector<uint8_t>(11)));
  fixtures::write_bytes(dir / "digits-labels", idx_bytes(kLabelsMagic, {11}, fashion));
  fixtures::write_bytes(dir / "fashion-labels", idx_bytes(kLabelsMagic, {11}, mnist));

  // The names follow the labels' content, whatever the file is called.
  const Dataset fashion_data = load_idx_pair(dir / "images", dir / "digits-labels");
  const Dataset mnist_data = load_idx_pair(dir / "images", dir / "fashion-labels");

  EXPECT_EQ(fashion_data.class_names.front(), "T-shirt/top");
  EXPECT_EQ(fashion_data.class_names.back(), "Ankle boot");
  EXPECT_EQ(mnist_data.class_names, kDigits);
}

TEST(Idx, FashionMnistFiles) {
  const auto dir = fixtures::kFashionMnistDir;
  const auto images = dir / "train-images-idx3-ubyte.gz";
  const auto labels = dir / "train-labels-idx1-ubyte.gz";
  const auto test_images = dir / "t10k-images-idx3-ubyte.gz";
  const auto test_labels = dir / "t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(test_labels)) {
    GTEST_SKIP() << "Fashion-MNIST not found at " << dir << " (package dataset-fashion-mnist)";
  }

  const Dataset train = load_idx_pair(images, labels);
  const Dataset test = load_idx_pair(test_images, test_labels);

  const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                          "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                          "Bag",         "Ankle boot"};
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.width, 28);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(train.class_names, names);
  EXPECT_EQ(test.class_names, names);
  EXPECT_EQ(std::vector<int32_t>(train.labels.begin(), train.labels.begin() + 10),
            (std::vector<int32_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
  EXPECT_EQ(class_counts(train), std::vector<int64_t>(10, 6000));
  EXPECT_EQ(class_counts(test), std::vector<int64_t>(10, 1000));
}

}  // namespace
}  // namespace felis
