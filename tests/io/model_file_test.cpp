// Model files: round trips that predict identically, and files that must be rejected
// before anything large is allocated.
#include "felis/io/hdf5_handle.h"
#include "felis/io/model_file.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

Model trained_model(Precision precision, const Dataset& data) {
  Model model = build_model({.preset = "softmax", .precision = precision},
                            {data.channels, data.height, data.width}, data.class_names);
  train(model, data, nullptr, {.epochs = 2, .batch_size = 20, .learning_rate = 0.1});
  model.training = {{"note", "test"}};
  return model;
}

TEST(ModelFile, RoundTripPredictsIdentically) {
  fixtures::TempDir dir;
  const Dataset data = fixtures::synthetic_dataset(100, 5, 3, 3, 2);
  ThreadPool pool(1);
  for (Precision precision : {Precision::float32, Precision::float64}) {
    Model model = trained_model(precision, data);
    const auto path = dir / ("model-" + to_string(precision) + ".h5");
    save_model(model, path);
    Model loaded = load_model(path);
    EXPECT_EQ(loaded.precision(), precision);
    EXPECT_EQ(loaded.name(), "softmax");
    EXPECT_EQ(loaded.class_names(), data.class_names);
    EXPECT_EQ(loaded.input_shape(), (Shape{3, 5, 5}));
    EXPECT_EQ(loaded.training["note"], "test");
    const RowMatrix<double> before = predict_probabilities(model, data, pool);
    const RowMatrix<double> after = predict_probabilities(loaded, data, pool);
    EXPECT_EQ((before - after).cwiseAbs().maxCoeff(), 0.0);
  }
  // Only the two models remain: no temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);
}

TEST(ModelFile, MissingAndNonHdf5Files) {
  fixtures::TempDir dir;
  EXPECT_TRUE(contains(error_message([&] { load_model(dir / "none.h5"); }), "no such model file"));
  fixtures::write_text(dir / "page.h5", "<!DOCTYPE html><html></html>");
  EXPECT_TRUE(contains(error_message([&] { load_model(dir / "page.h5"); }), "not an HDF5 file"));
}

TEST(ModelFile, DataSetIsNotAModel) {
  fixtures::TempDir dir;
  {
    fixtures::H5Writer writer(dir / "data.h5");
    fixtures::write_split(writer, "train", 2, 2, 1, {0, 1});
  }
  EXPECT_TRUE(contains(error_message([&] { load_model(dir / "data.h5"); }),
                       "not a felis model file"));
}

// Saves a model, then edits the file with `edit` (given the open file's id).
std::filesystem::path edited_model(const fixtures::TempDir& dir,
                                   const std::function<void(hid_t)>& edit) {
  const Dataset data = fixtures::synthetic_dataset(20, 2, 1, 2, 4);
  Model model = build_model({.preset = "logreg"}, {1, 2, 2}, data.class_names);
  const auto path = dir / "edited.h5";
  save_model(model, path);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  edit(file);
  H5Fclose(file);
  return path;
}

TEST(ModelFile, RejectsNewerFormatVersion) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) {
    H5Adelete(file, "felis_format_version");
    hdf5::write_ints_attribute(file, "felis_format_version", {kModelFormatVersion + 1});
  });
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "version " + std::to_string(kModelFormatVersion + 1) + " is newer"))
      << message;
}

TEST(ModelFile, RejectsWeightsOfWrongShape) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) {
    H5Ldelete(file, "layers/1/W", H5P_DEFAULT);
    const std::vector<double> weights(8, 0.0);
    const hsize_t dims[2] = {2, 4};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dataset = H5Dcreate2(file, "layers/1/W", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, weights.data());
    H5Dclose(dataset);
    H5Sclose(space);
  });
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "layers/1/W has shape (2, 4) but the architecture needs (1, 4)"))
      << message;
}

TEST(ModelFile, RejectsHugeArchitectureBeforeAllocating) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) {
    H5Adelete(file, "architecture");
    hdf5::write_string_attribute(
        file, "architecture",
        R"({"input_shape":[1,2,2],"output":"sigmoid","layers":[{"type":"dense","inputs":4000000000000,"units":1}]})");
  });
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "needs more than the limit of")) << message;
}

TEST(ModelFile, RejectsMissingWeights) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) { H5Ldelete(file, "layers/1/b", H5P_DEFAULT); });
  EXPECT_TRUE(contains(error_message([&] { load_model(path); }), "layers/1/b is missing"));
}

TEST(ModelFile, RejectsNonFiniteWeights) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "layers/1/W", H5P_DEFAULT);
    std::vector<double> weights(4, 0.0);
    weights[2] = std::nan("");
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, weights.data());
    H5Dclose(dataset);
  });
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "layers/1/W contains NaN or infinite values")) << message;
  EXPECT_TRUE(contains(message, "retrain it")) << message;
}

TEST(ModelFile, RejectsTwoChannelInput) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t file) {
    H5Adelete(file, "architecture");
    hdf5::write_string_attribute(
        file, "architecture",
        R"({"input_shape":[2,1,2],"output":"sigmoid","layers":[{"type":"dense","inputs":4,"units":1}]})");
  });
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "2 channels; expected 1 or 3")) << message;
}

TEST(ModelFile, TruncatedFileIsCorrupt) {
  fixtures::TempDir dir;
  const auto path = edited_model(dir, [](hid_t) {});
  auto bytes = fixtures::read_bytes(path);
  bytes.resize(bytes.size() / 2);
  fixtures::write_bytes(dir / "half.h5", bytes);
  const std::string message = error_message([&] { load_model(dir / "half.h5"); });
  EXPECT_TRUE(contains(message, "half.h5")) << message;
  EXPECT_TRUE(contains(message, "corrupt") || contains(message, "truncated")) << message;
}

// A logistic regression on 2x2 gray images whose pixels are shuffled by `permutation`.
std::filesystem::path permuted_model(const fixtures::TempDir& dir, std::vector<int32_t> permutation) {
  Model model = build_model({.preset = "logreg"}, {1, 2, 2}, {"a", "b"});
  model.input_permutation = std::move(permutation);
  const auto path = dir / "permuted.h5";
  save_model(model, path);
  return path;
}

TEST(ModelFile, PermutationRoundTripsAsVersionTwo) {
  fixtures::TempDir dir;
  const auto path = permuted_model(dir, {3, 1, 0, 2});
  EXPECT_EQ(load_model(path).input_permutation, (std::vector<int32_t>{3, 1, 0, 2}));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(hdf5::read_ints_attribute(file, "felis_format_version", 1), (std::vector<int64_t>{2}));
  H5Fclose(file);

  // Without a permutation the file stays version 1, which older felis reads.
  Model plain = build_model({.preset = "logreg"}, {1, 2, 2}, {"a", "b"});
  save_model(plain, dir / "plain.h5");
  const hid_t plain_file = H5Fopen((dir / "plain.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(hdf5::read_ints_attribute(plain_file, "felis_format_version", 1), (std::vector<int64_t>{1}));
  H5Fclose(plain_file);
  EXPECT_TRUE(load_model(dir / "plain.h5").input_permutation.empty());
}

TEST(ModelFile, RejectsInvalidPermutation) {
  fixtures::TempDir dir;
  const auto repeated = permuted_model(dir, {3, 1, 1, 2});
  std::string message = error_message([&] { load_model(repeated); });
  EXPECT_TRUE(contains(message, "input_permutation is not a permutation of 0 to 3: it holds 1"))
      << message;
  const auto out_of_range = permuted_model(dir, {3, 1, 4, 2});
  message = error_message([&] { load_model(out_of_range); });
  EXPECT_TRUE(contains(message, "it holds 4")) << message;
  const auto short_one = permuted_model(dir, {0, 1, 2});
  message = error_message([&] { load_model(short_one); });
  EXPECT_TRUE(contains(message, "must be 1-D with 4 entries")) << message;
}

TEST(ModelFile, RejectsVersionTwoWithoutPermutation) {
  fixtures::TempDir dir;
  const auto path = permuted_model(dir, {3, 1, 0, 2});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(file, "input_permutation", H5P_DEFAULT);
  H5Fclose(file);
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "needs the dataset input_permutation, which is missing")) << message;
}

TEST(ModelFile, RejectsFloatPermutation) {
  fixtures::TempDir dir;
  const auto path = permuted_model(dir, {3, 1, 0, 2});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(file, "input_permutation", H5P_DEFAULT);
  const std::vector<double> values = {3, 1, 0, 2};
  const hsize_t size = 4;
  const hid_t space = H5Screate_simple(1, &size, nullptr);
  const hid_t dataset = H5Dcreate2(file, "input_permutation", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(dataset);
  H5Sclose(space);
  H5Fclose(file);
  const std::string message = error_message([&] { load_model(path); });
  EXPECT_TRUE(contains(message, "input_permutation is not an integer dataset")) << message;
}

TEST(ModelFile, RejectsFifoWithoutBlocking) {
  fixtures::TempDir dir;
  const auto fifo = dir / "model.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string message = error_message([&] { load_model(fifo); });
  EXPECT_TRUE(contains(message, "is not a regular file")) << message;
  EXPECT_FALSE(is_model_file(fifo));
}

// Printing JSON recurses once per level, so a deep `training` attribute once crashed
// `felis info` with a stack overflow. Nesting past 64 levels is now an error.
TEST(ModelFile, DeeplyNestedJsonRejected) {
  fixtures::TempDir dir;
  const auto file = dir / "deep.h5";
  Model model = build_model({.preset = "logreg"}, {1, 2, 2}, {"a", "b"});
  model.training = nlohmann::json::array();
  save_model(model, file);
  {
    const hid_t handle = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(handle, "training");
    hdf5::write_string_attribute(handle, "training",
                                 std::string(100000, '[') + std::string(100000, ']'));
    H5Fclose(handle);
  }
  const std::string message = error_message([&] { load_model(file); });
  EXPECT_TRUE(contains(message, "attribute 'training' nests JSON deeper than 64 levels")) << message;

  model.training = nlohmann::json::parse(std::string(60, '[') + std::string(60, ']'));
  save_model(model, file);
  EXPECT_NO_THROW(load_model(file));
}

}  // namespace
}  // namespace felis
