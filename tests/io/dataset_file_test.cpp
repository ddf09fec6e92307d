// Data set files written by felis: the course's layout, read back by felis's own loader.
#include "felis/data/loaders.h"
#include "felis/io/atomic_file.h"
#include "felis/io/dataset_file.h"
#include "felis/io/hdf5_handle.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

namespace felis {
namespace {

void write_file(const std::filesystem::path& path, const std::vector<char>& bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

TEST(DatasetFile, RoundTripThroughLoadData) {
  fixtures::TempDir dir;
  Dataset train = fixtures::synthetic_dataset(12, 5, 3, 3, 1);
  train.class_names = {"cat", "non-cat", "dog"};
  Dataset test = fixtures::synthetic_dataset(4, 5, 3, 3, 2);
  test.class_names = train.class_names;
  write_file(dir / "both.h5", dataset_file_bytes(train, &test, {{"felis_note", "made by a test"}}));

  const DataSplits loaded = load_data(dir / "both.h5");
  EXPECT_EQ(loaded.train.count, 12);
  EXPECT_EQ(loaded.train.pixels, train.pixels);
  EXPECT_EQ(loaded.train.labels, train.labels);
  EXPECT_EQ(loaded.train.class_names, train.class_names);
  ASSERT_TRUE(loaded.test.has_value());
  EXPECT_EQ(loaded.test->pixels, test.pixels);
  EXPECT_EQ(loaded.test->labels, test.labels);

  const hid_t file = H5Fopen((dir / "both.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(hdf5::read_string_attribute(file, "felis_note", 100), "made by a test");
  H5Fclose(file);
}

TEST(DatasetFile, GrayTrainOnly) {
  fixtures::TempDir dir;
  const Dataset train = fixtures::synthetic_dataset(6, 4, 1, 2, 3);
  write_file(dir / "gray.h5", dataset_file_bytes(train, nullptr, {}));
  const DataSplits loaded = load_data(dir / "gray.h5");
  EXPECT_EQ(loaded.train.channels, 1);
  EXPECT_EQ(loaded.train.pixels, train.pixels);
  EXPECT_FALSE(loaded.test.has_value());
}

}  // namespace
}  // namespace felis
