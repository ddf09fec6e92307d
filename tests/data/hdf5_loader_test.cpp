// Tests of load_hdf5_split on small files written here and on the course's real files.
#include "data/fixtures.h"
#include "felis/data/loaders.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;
using fixtures::H5Writer;
using fixtures::TempDir;

TEST(Hdf5, LoadsKnownBytes) {
  TempDir dir;
  const auto file = dir / "train_small.h5";
  std::vector<uint8_t> pixels(3 * 2 * 2 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(7 * i + 1);
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {3, 2, 2, 3}, pixels);
    writer.write_int64("train_set_y", {1, 3}, {1, 0, 1});
    writer.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
  }

  const Dataset data = load_hdf5_split(file, "train");

  EXPECT_EQ(data.count, 3);
  EXPECT_EQ(data.height, 2);
  EXPECT_EQ(data.width, 2);
  EXPECT_EQ(data.channels, 3);
  EXPECT_EQ(data.pixels, pixels);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"non-cat", "cat"}));
  EXPECT_EQ(data.source, file.string());
}

TEST(Hdf5, Uint8LabelsAndGrayRank3) {
  TempDir dir;
  const auto file = dir / "gray.h5";
  const std::vector<uint8_t> pixels = {0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255};
  const std::vector<uint8_t> labels = {0, 2, 1};
  {
    H5Writer writer(file);
    writer.write_uint8("test_set_x", {3, 2, 2}, pixels);
    writer.write_uint8("test_set_y", {3}, labels);
  }

  const Dataset data = load_hdf5_split(file, "");

  EXPECT_EQ(data.count, 3);
  EXPECT_EQ(data.channels, 1);
  EXPECT_EQ(data.pixels, pixels);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{0, 2, 1}));
  // Without list_classes the names are the label values up to the largest.
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"0", "1", "2"}));
}

TEST(Hdf5, VariableLengthClassNames) {
  TempDir dir;
  const auto file = dir / "vlen.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "train", 2, 2, 1, {0, 1});
    writer.write_variable_strings("list_classes", {"dog", "sea lion"});
  }

  const Dataset data = load_hdf5_split(file, "train");

  EXPECT_EQ(data.class_names, (std::vector<std::string>{"dog", "sea lion"}));
  EXPECT_EQ(data.labels, (std::vector<int32_t>{0, 1}));
}

TEST(Hdf5, MissingFile) {
  TempDir dir;
  const auto file = dir / "absent.h5";
  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });
  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "no such file")) << message;
}

TEST(Hdf5, HtmlSavedAsH5) {
  TempDir dir;
  const auto file = dir / "x.h5";
  fixtures::write_text(file, "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n");

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "is not an HDF5 file")) << message;
  EXPECT_TRUE(contains(message, "<!DOCTYPE")) << message;
  EXPECT_TRUE(contains(message, "re-download")) << message;
}

TEST(Hdf5, TruncatedFile) {
  TempDir dir;
  const auto whole = dir / "whole.h5";
  const auto half = dir / "half.h5";
  {
    H5Writer writer(whole);
    fixtures::write_split(writer, "train", 40, 16, 3, std::vector<int64_t>(40, 1));
    writer.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
  }
  std::vector<uint8_t> bytes = fixtures::read_bytes(whole);
  ASSERT_GT(bytes.size(), 30000u);
  bytes.resize(bytes.size() / 2);
  fixtures::write_bytes(half, bytes);

  ::testing::internal::CaptureStderr();
  const std::string message = error_message([&] { load_hdf5_split(half, "train"); });
  const std::string printed = ::testing::internal::GetCapturedStderr();

  EXPECT_TRUE(contains(message, half.string())) << message;
  EXPECT_TRUE(contains(message, "truncated or corrupt")) << message;
  EXPECT_TRUE(contains(message, "re-download")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(printed, "") << "HDF5 printed its error stack";
}

TEST(Hdf5, NoSplitDatasets) {
  TempDir dir;
  const auto file = dir / "weights.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("weights", {4}, {1, 2, 3, 4});
    writer.write_uint8("bias", {1}, {0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, ""); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "_set_x")) << message;
  EXPECT_TRUE(contains(message, "bias, weights")) << message;
}

TEST(Hdf5, MissingLabelsDataset) {
  TempDir dir;
  const auto file = dir / "nolabels.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {1, 1, 1, 1}, {5});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "no dataset 'train_set_y'")) << message;
  EXPECT_TRUE(contains(message, "contains: train_set_x")) << message;
}

TEST(Hdf5, SeveralSplitsNeedAName) {
  TempDir dir;
  const auto file = dir / "both.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "train", 2, 1, 1, {0, 1});
    fixtures::write_split(writer, "test", 2, 1, 1, {1, 0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, ""); });

  EXPECT_TRUE(contains(message, "test, train")) << message;
  EXPECT_EQ(load_hdf5_split(file, "test").labels, (std::vector<int32_t>{1, 0}));
}

TEST(Hdf5, WrongPixelRank) {
  TempDir dir;
  const auto file = dir / "flat.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {3, 4}, std::vector<uint8_t>(12, 0));
    writer.write_int64("train_set_y", {3}, {0, 1, 0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "shape (3, 4)")) << message;
  EXPECT_TRUE(contains(message, "(N, H, W, C)")) << message;
}

TEST(Hdf5, FourChannelsRejected) {
  TempDir dir;
  const auto file = dir / "rgba.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {1, 1, 1, 4}, {1, 2, 3, 4});
    writer.write_int64("train_set_y", {1}, {0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "shape (1, 1, 1, 4)")) << message;
}

TEST(Hdf5, FloatPixelsRejected) {
  TempDir dir;
  const auto file = dir / "float.h5";
  const std::vector<float> pixels(2 * 2 * 2 * 3, 0.5f);
  {
    H5Writer writer(file);
    writer.write("train_set_x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 2, 2, 3}, pixels.data());
    writer.write_int64("train_set_y", {2}, {0, 1});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "pixel type float32")) << message;
  EXPECT_TRUE(contains(message, "expected uint8")) << message;
}

TEST(Hdf5, FloatLabelsRejected) {
  TempDir dir;
  const auto file = dir / "floatlabels.h5";
  const std::vector<double> labels = {0.0, 1.0};
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {2, 1, 1, 1}, {1, 2});
    writer.write("train_set_y", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, labels.data());
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "float64")) << message;
  EXPECT_TRUE(contains(message, "expected integer")) << message;
}

TEST(Hdf5, FewerLabelsThanImages) {
  TempDir dir;
  const auto file = dir / "fewer.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {3, 1, 1, 1}, {1, 2, 3});
    writer.write_int64("train_set_y", {2}, {0, 1});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "contains 2 labels for the 3 images")) << message;
}

TEST(Hdf5, MoreLabelsThanImages) {
  TempDir dir;
  const auto file = dir / "more.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {2, 1, 1, 1}, {1, 2});
    writer.write_int64("train_set_y", {1, 4}, {0, 1, 1, 0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "4 labels for the 2 images")) << message;
}

TEST(Hdf5, LabelOutsideClasses) {
  TempDir dir;
  const auto file = dir / "outside.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {3, 1, 1, 1}, {1, 2, 3});
    writer.write_int64("train_set_y", {3}, {0, 2, 1});
    writer.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "label 2 of image 1 is outside the 2 classes [0, 2)")) << message;
}

TEST(Hdf5, HugeUint64LabelReported) {
  TempDir dir;
  const auto file = dir / "uint64.h5";
  {
    H5Writer writer(file);
    writer.write_uint8("train_set_x", {2, 1, 1, 1}, {1, 2});
    const std::vector<uint64_t> labels = {0, (uint64_t{1} << 63) + 5};
    writer.write("train_set_y", H5T_STD_U64LE, H5T_NATIVE_UINT64, {2}, labels.data());
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "label 9223372036854775813 of image 1")) << message;
}

TEST(Hdf5, FifoRejected) {
  TempDir dir;
  const auto file = dir / "pipe.h5";
  ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string() + ": is a named pipe (FIFO), not a regular file "
                                                "or directory"))
      << message;
}

TEST(Hdf5, HugeShapeRejectedBeforeAllocating) {
  TempDir dir;
  const auto file = dir / "huge.h5";
  {
    H5Writer writer(file);
    writer.declare_uint8("train_set_x", {1000000, 1000, 1000, 3});
    writer.write_int64("train_set_y", {1}, {0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "(1000000, 1000, 1000, 3)")) << message;
  EXPECT_TRUE(contains(message, "more than the limit")) << message;
}

// A header promising 10^12 images of 28 x 28 is rejected from its shape alone.
TEST(Hdf5, TrillionImagesRejected) {
  TempDir dir;
  const auto file = dir / "trillion.h5";
  {
    H5Writer writer(file);
    writer.declare_uint8("train_set_x", {1000000000000, 28, 28});
    writer.declare_uint8("train_set_y", {1000000000000});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "(1000000000000, 28, 28) would take 784000000000000 bytes"))
      << message;
}

// HDF5 external storage lets a dataset read any file on the machine.
TEST(Hdf5, ExternalStorageRejected) {
  TempDir dir;
  fixtures::write_text(dir / "secret.txt", std::string(12, 's'));
  const auto file = dir / "external.h5";
  {
    H5Writer writer(file);
    writer.write_int64("train_set_y", {1}, {0});
  }
  const hid_t handle = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_external(properties, (dir / "secret.txt").c_str(), 0, 12);
  const hsize_t dims[4] = {1, 2, 2, 3};
  const hid_t space = H5Screate_simple(4, dims, nullptr);
  H5Dclose(H5Dcreate2(handle, "train_set_x", H5T_STD_U8LE, space, H5P_DEFAULT, properties,
                      H5P_DEFAULT));
  H5Sclose(space);
  H5Pclose(properties);
  H5Fclose(handle);

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, file.string() + ": dataset 'train_set_x' keeps its data in other "
                                                "files, which felis does not read"))
      << message;
}

TEST(Hdf5, ShapeLargerThanFileRejected) {
  TempDir dir;
  const auto file = dir / "hollow.h5";
  {
    H5Writer writer(file);
    writer.declare_uint8("train_set_x", {100000, 64, 64, 3});
    writer.write_int64("train_set_y", {1}, {0});
  }

  const std::string message = error_message([&] { load_hdf5_split(file, "train"); });

  EXPECT_TRUE(contains(message, "declares 1228800000 bytes")) << message;
  EXPECT_TRUE(contains(message, "truncated or corrupt")) << message;
}

TEST(Hdf5, CourseCatFiles) {
  const auto train_file = fixtures::shared_data("catvnoncat/train_catvnoncat.h5");
  const auto test_file = fixtures::shared_data("catvnoncat/test_catvnoncat.h5");
  if (!std::filesystem::exists(train_file) || !std::filesystem::exists(test_file)) {
    GTEST_SKIP() << "course data not found at " << train_file.parent_path();
  }

  const Dataset train = load_hdf5_split(train_file, "train");
  const Dataset test = load_hdf5_split(test_file, "test");

  EXPECT_EQ(train.count, 209);
  EXPECT_EQ(test.count, 50);
  for (const Dataset* data : {&train, &test}) {
    EXPECT_EQ(data->height, 64);
    EXPECT_EQ(data->width, 64);
    EXPECT_EQ(data->channels, 3);
    EXPECT_EQ(data->class_names, (std::vector<std::string>{"non-cat", "cat"}));
  }
  EXPECT_EQ(class_counts(train), (std::vector<int64_t>{137, 72}));
  EXPECT_EQ(class_counts(test), (std::vector<int64_t>{17, 33}));
}

}  // namespace
}  // namespace felis
