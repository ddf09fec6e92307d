// Tests of load_data: directories and single files of each format, and what it rejects.
#include "data/fixtures.h"
#include "felis/data/loaders.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <sys/stat.h>

#include <chrono>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;
using fixtures::H5Writer;
using fixtures::idx_bytes;
using fixtures::TempDir;

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

TEST(LoadData, MissingPath) {
  TempDir dir;
  const auto path = dir / "nowhere";
  EXPECT_EQ(error_message([&] { load_data(path); }),
            path.string() + ": no such file or directory");
}

TEST(LoadData, DirectoryWithoutDataSet) {
  TempDir dir;
  fixtures::write_text(dir / "notes.txt", "hello");

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, dir.path().string())) << message;
  EXPECT_TRUE(contains(message, "train_*.h5 and test_*.h5")) << message;
  EXPECT_TRUE(contains(message, "t10k-labels")) << message;
  EXPECT_TRUE(contains(message, "contains notes.txt")) << message;
}

TEST(LoadData, Hdf5Directory) {
  TempDir dir;
  {
    H5Writer train(dir / "train_shapes.h5");
    fixtures::write_split(train, "train", 3, 2, 3, {0, 1, 1});
    H5Writer test(dir / "test_shapes.h5");
    fixtures::write_split(test, "test", 2, 2, 3, {1, 0});
  }

  const DataSplits splits = load_data(dir.path());

  EXPECT_EQ(splits.train.count, 3);
  EXPECT_EQ(splits.train.labels, (std::vector<int32_t>{0, 1, 1}));
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->count, 2);
  EXPECT_EQ(splits.test->labels, (std::vector<int32_t>{1, 0}));
}

TEST(LoadData, Hdf5FileWithBothSplits) {
  TempDir dir;
  const auto file = dir / "both.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "train", 4, 1, 1, {0, 1, 0, 1});
    fixtures::write_split(writer, "test", 2, 1, 1, {1, 1});
  }

  const DataSplits splits = load_data(file);

  EXPECT_EQ(splits.train.count, 4);
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->labels, (std::vector<int32_t>{1, 1}));
}

TEST(LoadData, Hdf5FileWithOnlyTestSplit) {
  TempDir dir;
  const auto file = dir / "only.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "test", 2, 1, 1, {1, 0});
  }

  const DataSplits splits = load_data(file);

  EXPECT_EQ(splits.train.labels, (std::vector<int32_t>{1, 0}));
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->labels, (std::vector<int32_t>{1, 0}));
}

TEST(LoadData, Hdf5FileWithOtherSplit) {
  TempDir dir;
  const auto file = dir / "valid.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "valid", 3, 1, 1, {1, 0, 1});
  }

  const DataSplits splits = load_data(file);

  EXPECT_EQ(splits.train.labels, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_FALSE(splits.test.has_value());
}

// Writes the four IDX files of a tiny MNIST-like set under the given names.
void write_idx_set(const TempDir& dir, const std::array<std::string, 4>& names, bool gzip) {
  const std::array<std::vector<uint8_t>, 4> contents = {
      idx_bytes(kImagesMagic, {2, 1, 2}, {10, 20, 30, 40}), idx_bytes(kLabelsMagic, {2}, {4, 2}),
      idx_bytes(kImagesMagic, {1, 1, 2}, {50, 60}), idx_bytes(kLabelsMagic, {1}, {8})};
  for (size_t i = 0; i < names.size(); ++i) {
    if (gzip) {
      fixtures::write_gzip(dir / names[i], contents[i]);
    } else {
      fixtures::write_bytes(dir / names[i], contents[i]);
    }
  }
}

void expect_tiny_idx_splits(const DataSplits& splits) {
  EXPECT_EQ(splits.train.pixels, (std::vector<uint8_t>{10, 20, 30, 40}));
  EXPECT_EQ(splits.train.labels, (std::vector<int32_t>{4, 2}));
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->pixels, (std::vector<uint8_t>{50, 60}));
  EXPECT_EQ(splits.test->labels, (std::vector<int32_t>{8}));
}

TEST(LoadData, IdxDirectoryGzipped) {
  TempDir dir;
  write_idx_set(dir,
                {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
                /*gzip=*/true);
  expect_tiny_idx_splits(load_data(dir.path()));
}

TEST(LoadData, IdxDirectoryRaw) {
  TempDir dir;
  write_idx_set(dir, {"train-images.idx3-ubyte", "train-labels.idx1-ubyte",
                      "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"},
                /*gzip=*/false);
  expect_tiny_idx_splits(load_data(dir.path()));
}

TEST(LoadData, IdxDirectoryMissingOneFile) {
  TempDir dir;
  write_idx_set(dir, {"train-images", "train-labels", "t10k-images", "other"}, /*gzip=*/false);

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, dir.path().string())) << message;
  EXPECT_TRUE(contains(message, "none starting with t10k-labels")) << message;
}

TEST(LoadData, SingleIdxImageFileFindsItsLabels) {
  TempDir dir;
  write_idx_set(dir,
                {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
                /*gzip=*/true);

  const DataSplits splits = load_data(dir / "t10k-images-idx3-ubyte.gz");

  EXPECT_EQ(splits.train.labels, (std::vector<int32_t>{8}));
  EXPECT_FALSE(splits.test.has_value());
}

TEST(LoadData, SingleIdxLabelFileRejected) {
  TempDir dir;
  fixtures::write_bytes(dir / "labels", idx_bytes(kLabelsMagic, {1}, {3}));

  const std::string message = error_message([&] { load_data(dir / "labels"); });

  EXPECT_TRUE(contains(message, "is a single IDX file")) << message;
  EXPECT_TRUE(contains(message, "give the directory")) << message;
}

TEST(LoadData, ImageFileRejected) {
  TempDir dir;
  const auto file = dir / "cat.png";
  cv::imwrite(file.string(), cv::Mat(2, 2, CV_8UC3, cv::Scalar(1, 2, 3)));

  const std::string message = error_message([&] { load_data(file); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "is an image, not a data set")) << message;
  EXPECT_TRUE(contains(message, "felis predict")) << message;
}

TEST(LoadData, TextFileRejected) {
  TempDir dir;
  const auto file = dir / "data.csv";
  fixtures::write_text(file, "label,pixel0\n1,255\n");

  const std::string message = error_message([&] { load_data(file); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "is neither an HDF5 data set nor an IDX file")) << message;
  EXPECT_TRUE(contains(message, "(it starts with 'label,pixel0 1,2')")) << message;
}

TEST(LoadData, HtmlSavedAsH5) {
  TempDir dir;
  const auto file = dir / "train_catvnoncat.h5";
  fixtures::write_text(file, "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n");

  const std::string message = error_message([&] { load_data(file); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "is not an HDF5 file (it starts with '<!DOCTYPE")) << message;
  EXPECT_TRUE(contains(message, "re-download")) << message;
}

TEST(LoadData, GzippedTextRejected) {
  TempDir dir;
  const auto file = dir / "data.csv.gz";
  fixtures::write_gzip(file, {'a', ',', 'b', '\n', '1', ',', '2', '\n'});

  const std::string message = error_message([&] { load_data(file); });

  EXPECT_TRUE(contains(message, "is neither an HDF5 data set nor an IDX file")) << message;
  EXPECT_TRUE(contains(message, "1f 8b")) << message;
}

TEST(LoadData, FifoRejected) {
  TempDir dir;
  const auto path = dir / "data.h5";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);

  const std::string message = error_message([&] { load_data(path); });

  EXPECT_EQ(message, path.string() + ": is a named pipe (FIFO), not a regular file or "
                                     "directory; give the path of a file or directory");
}

TEST(LoadData, SeveralTrainFilesRejected) {
  TempDir dir;
  {
    H5Writer first(dir / "train_a.h5");
    fixtures::write_split(first, "train", 2, 1, 1, {0, 1});
    H5Writer second(dir / "train_b.h5");
    fixtures::write_split(second, "train", 2, 1, 1, {1, 0});
  }

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, dir.path().string())) << message;
  EXPECT_TRUE(contains(message, "train_a.h5, train_b.h5")) << message;
  EXPECT_TRUE(contains(message, "give one file")) << message;
}

TEST(LoadData, SeveralTestFilesRejected) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 1, 1, {0, 1});
    H5Writer first(dir / "test_a.h5");
    fixtures::write_split(first, "test", 2, 1, 1, {0, 1});
    H5Writer second(dir / "test_b.h5");
    fixtures::write_split(second, "test", 2, 1, 1, {1, 0});
  }

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, "test_a.h5, test_b.h5")) << message;
}

TEST(LoadData, Hdf5AndIdxFilesRejected) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 1, 2, {0, 1});
  }
  write_idx_set(dir, {"train-images", "train-labels", "t10k-images", "t10k-labels"},
                /*gzip=*/false);

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, "train_a.h5")) << message;
  EXPECT_TRUE(contains(message, "train-images")) << message;
  EXPECT_TRUE(contains(message, "give one")) << message;
}

TEST(LoadData, SeveralIdxCandidatesRejected) {
  TempDir dir;
  write_idx_set(dir, {"train-images-idx3-ubyte", "train-labels", "t10k-images", "t10k-labels"},
                /*gzip=*/false);
  fixtures::write_bytes(dir / "train-images-old", idx_bytes(kImagesMagic, {1, 1, 2}, {1, 2}));

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, "train-images-idx3-ubyte, train-images-old")) << message;
}

TEST(LoadData, IdxRawAndGzipTwinsTakeRaw) {
  TempDir dir;
  write_idx_set(dir,
                {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"},
                /*gzip=*/false);
  // A .gz twin of different content: the raw file must win.
  fixtures::write_gzip(dir / "train-images-idx3-ubyte.gz",
                       idx_bytes(kImagesMagic, {2, 1, 2}, {0, 0, 0, 0}));

  expect_tiny_idx_splits(load_data(dir.path()));
}

TEST(LoadData, Hdf5SplitShapesDiffer) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 8, 3, {0, 1});
    H5Writer test(dir / "test_a.h5");
    fixtures::write_split(test, "test", 2, 4, 3, {1, 0});
  }

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_EQ(message, dir.path().string() +
                         ": the train split has 8x8x3 images but the test split 4x4x3 "
                         "(H x W x C); both splits must have one shape");
}

TEST(LoadData, IdxSplitShapesDiffer) {
  TempDir dir;
  fixtures::write_bytes(dir / "train-images", idx_bytes(kImagesMagic, {1, 2, 2}, {1, 2, 3, 4}));
  fixtures::write_bytes(dir / "train-labels", idx_bytes(kLabelsMagic, {1}, {3}));
  fixtures::write_bytes(dir / "t10k-images", idx_bytes(kImagesMagic, {1, 1, 2}, {1, 2}));
  fixtures::write_bytes(dir / "t10k-labels", idx_bytes(kLabelsMagic, {1}, {3}));

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, "the train split has 2x2x1 images but the test split 1x2x1"))
      << message;
}

TEST(LoadData, GeneratedClassNamesTakeLongerList) {
  TempDir dir;
  const auto file = dir / "both.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "train", 4, 1, 1, {0, 1, 0, 1});
    fixtures::write_split(writer, "test", 2, 1, 1, {2, 1});
  }
  const auto other = dir / "other.h5";
  {
    H5Writer writer(other);
    fixtures::write_split(writer, "train", 3, 1, 1, {0, 2, 1});
    fixtures::write_split(writer, "test", 2, 1, 1, {1, 0});
  }

  const DataSplits test_longer = load_data(file);
  const DataSplits train_longer = load_data(other);

  const std::vector<std::string> three = {"0", "1", "2"};
  EXPECT_EQ(test_longer.train.class_names, three);
  ASSERT_TRUE(test_longer.test.has_value());
  EXPECT_EQ(test_longer.test->class_names, three);
  EXPECT_EQ(train_longer.train.class_names, three);
  ASSERT_TRUE(train_longer.test.has_value());
  EXPECT_EQ(train_longer.test->class_names, three);
  EXPECT_EQ(train_longer.test->labels, (std::vector<int32_t>{1, 0}));
}

TEST(LoadData, ClassListsDiffer) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 1, 1, {0, 1});
    train.write_fixed_strings("list_classes", {"cat", "dog"}, 4);
    H5Writer test(dir / "test_a.h5");
    fixtures::write_split(test, "test", 2, 1, 1, {2, 0});
    test.write_fixed_strings("list_classes", {"cat", "dog", "bird"}, 4);
  }

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, dir.path().string())) << message;
  EXPECT_TRUE(contains(message, "(cat, dog)")) << message;
  EXPECT_TRUE(contains(message, "(cat, dog, bird)")) << message;
}

TEST(LoadData, TestLabelOutsideTrainClasses) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 1, 1, {0, 1});
    train.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
    H5Writer test(dir / "test_a.h5");
    fixtures::write_split(test, "test", 2, 1, 1, {1, 2});
  }

  const std::string message = error_message([&] { load_data(dir.path()); });

  EXPECT_TRUE(contains(message, (dir / "test_a.h5").string())) << message;
  EXPECT_TRUE(contains(message, "label 2 of image 1 in the test split is outside the train "
                                "split's 2 classes [0, 2)"))
      << message;
}

TEST(LoadData, ClassListSharedWithUnnamedSplit) {
  TempDir dir;
  {
    H5Writer train(dir / "train_a.h5");
    fixtures::write_split(train, "train", 2, 1, 1, {0, 1});
    train.write_fixed_strings("list_classes", {"non-cat", "cat"}, 7);
    H5Writer test(dir / "test_a.h5");
    fixtures::write_split(test, "test", 2, 1, 1, {0, 0});
  }

  const DataSplits splits = load_data(dir.path());

  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->class_names, (std::vector<std::string>{"non-cat", "cat"}));
}

TEST(LoadData, OnlyLabelZeroRejected) {
  TempDir dir;
  const auto file = dir / "zeros.h5";
  {
    H5Writer writer(file);
    fixtures::write_split(writer, "train", 2, 1, 1, {0, 0});
    fixtures::write_split(writer, "test", 1, 1, 1, {0});
  }

  const std::string message = error_message([&] { load_data(file); });

  EXPECT_TRUE(contains(message, file.string() + ": every label is 0")) << message;
  EXPECT_TRUE(contains(message, "needs at least 2")) << message;
}

TEST(LoadData, IdxFashionNamesSharedBySplits) {
  TempDir dir;
  const std::vector<uint8_t> fashion_start = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  fixtures::write_bytes(dir / "train-images",
                        idx_bytes(kImagesMagic, {10, 1, 1}, std::vector<uint8_t>(10)));
  fixtures::write_bytes(dir / "train-labels", idx_bytes(kLabelsMagic, {10}, fashion_start));
  fixtures::write_bytes(dir / "t10k-images", idx_bytes(kImagesMagic, {1, 1, 1}, {0}));
  fixtures::write_bytes(dir / "t10k-labels", idx_bytes(kLabelsMagic, {1}, {3}));

  const DataSplits splits = load_data(dir.path());

  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.train.class_names.at(9), "Ankle boot");
  EXPECT_EQ(splits.test->class_names, splits.train.class_names);
}

TEST(LoadData, CourseCatDirectory) {
  const auto dir = fixtures::shared_data("catvnoncat");
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "course data not found at " << dir;

  const DataSplits splits = load_data(dir);

  EXPECT_EQ(splits.train.count, 209);
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->count, 50);
  EXPECT_EQ(splits.test->image_size(), 64 * 64 * 3);
  EXPECT_EQ(splits.train.class_names, (std::vector<std::string>{"non-cat", "cat"}));
}

TEST(LoadData, FashionMnistDirectoryIsFast) {
  const auto dir = fixtures::kFashionMnistDir;
  if (!std::filesystem::exists(dir)) {
    GTEST_SKIP() << "Fashion-MNIST not found at " << dir << " (package dataset-fashion-mnist)";
  }

  const auto start = std::chrono::steady_clock::now();
  const DataSplits splits = load_data(dir);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(splits.train.count, 60000);
  ASSERT_TRUE(splits.test.has_value());
  EXPECT_EQ(splits.test->count, 10000);
  EXPECT_EQ(splits.train.image_size(), 28 * 28);
  EXPECT_EQ(splits.test->class_names.at(9), "Ankle boot");
  EXPECT_LT(elapsed.count(), 2.0) << "loading took " << elapsed.count() << " s";
}

}  // namespace
}  // namespace felis
