// felis augment, and felis train with --augment and --permute-pixels, as a user runs them.
#include "felis/data/image.h"
#include "felis/data/loaders.h"
#include "felis/io/atomic_file.h"
#include "felis/io/dataset_file.h"

#include "data/fixtures.h"
#include "support/cli.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::line_count;
using fixtures::run_felis;
using fixtures::RunResult;

class AugmentCli : public ::testing::Test {
protected:
  void SetUp() override {
    Dataset train = fixtures::synthetic_dataset(20, 16, 3, 2, 1);
    Dataset test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
    AtomicFile file(dir / "data.h5");
    file.write(dataset_file_bytes(train, &test, {}));
    file.commit();
    data = (dir / "data.h5").string();
  }

  // Expects exit code `code`, one line on stderr containing every part, and no file at
  // `output`.
  void expect_error(const std::string& arguments, int code, const std::vector<std::string>& parts,
                    const std::filesystem::path& output) {
    const RunResult r = run_felis(dir, arguments);
    EXPECT_EQ(r.exit_code, code) << arguments << "\n" << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << arguments << "\n" << r.err;
    for (const auto& part : parts) EXPECT_TRUE(contains(r.err, part)) << arguments << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(output)) << arguments;
  }

  fixtures::TempDir dir;
  std::string data;
};

TEST_F(AugmentCli, PreviewGridHasOneCellPerImage) {
  const auto preview = dir / "preview.png";
  const RunResult r = run_felis(dir, "augment --data " + data + " --augment 'shift:2, tint:0.2'" +
                                         " --preview " + preview.string() + " --rows 3 --columns 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "3 images, each original followed by 4 augmented copies")) << r.out;
  // 16-pixel images are enlarged 6 times to 96; gaps of 4 pixels, 16 after the originals.
  const LoadedImage image = load_image(preview, {});
  EXPECT_EQ(image.source_shape.height, 3 * 96 + 4 * 4);
  EXPECT_EQ(image.source_shape.width, 5 * 96 + 16 + 5 * 4);
  EXPECT_EQ(image.source_shape.channels, 3);
}

TEST_F(AugmentCli, ExpandedDataSetTrains) {
  const auto out = dir / "expanded.h5";
  const RunResult r = run_felis(dir, "augment --data " + data + " --augment 'rotate:10, noise:4'" +
                                         " --copies 2 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "train split: 60 images, the 20 originals then 2 augmented copies"))
      << r.out;
  const DataSplits expanded = load_data(out);
  const DataSplits original = load_data(data);
  EXPECT_EQ(expanded.train.count, 60);
  EXPECT_TRUE(std::equal(original.train.pixels.begin(), original.train.pixels.end(),
                         expanded.train.pixels.begin()));
  ASSERT_TRUE(expanded.test.has_value());
  EXPECT_EQ(expanded.test->pixels, original.test->pixels);

  const RunResult training = run_felis(dir, "train --data " + out.string() + " --iterations 3");
  EXPECT_EQ(training.exit_code, 0) << training.err;
  EXPECT_TRUE(contains(training.out, "train 60 images")) << training.out;
}

TEST_F(AugmentCli, BadInputIsOneLineAndWritesNothing) {
  const auto out = dir / "out.h5";
  const std::string base = "augment --data " + data + " --out " + out.string() + " --copies 2";
  expect_error(base + " --augment 'shift:2, twist:3'", 2, {"unknown transform 'twist'", "rotate"}, out);
  expect_error(base + " --augment 'rotate:720'", 2, {"rotate:720", "[0, 180]"}, out);
  expect_error(base + " --augment 'shift:16'", 2, {"smaller side, 16"}, out);
  expect_error("augment --data " + data + " --augment hflip --copies 0 --out " + out.string(), 2,
               {"--copies 0"}, out);
  expect_error("augment --data " + data + " --augment hflip", 2, {"--preview"}, out);
  expect_error("augment --data " + data + " --augment hflip --copies 2", 2, {"--copies needs --out"},
               out);
  expect_error("augment --data " + data + " --augment hflip --copies 1 --out " + data, 2,
               {"would replace an input file"}, dir / "never");
  EXPECT_TRUE(std::filesystem::exists(data));
  expect_error("augment --data " + data + " --augment hflip --copies 1 --out " + out.string() +
                   " --preview " + (dir / "." / "out.h5").string(),
               2, {"must end in .png"}, out);
  expect_error("augment --data " + data + " --augment hflip --copies 1 --out " +
                   (dir / "p.png").string() + " --preview " + (dir / "." / "p.png").string(),
               2, {"both name"}, dir / "p.png");
  expect_error("augment --data " + (dir / "nowhere").string() + " --augment hflip --copies 1 --out " +
                   out.string(),
               1, {"nowhere"}, out);
}

TEST_F(AugmentCli, TrainRecordsAugmentationAndPermutation) {
  const auto augmented = dir / "augmented.h5";
  RunResult r = run_felis(dir, "train --data " + data + " --iterations 5 --augment 'shift:1, hflip'" +
                                   " --out " + augmented.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "augmentation: shift:1, hflip")) << r.out;
  r = run_felis(dir, "info " + augmented.string());
  EXPECT_TRUE(contains(r.out, "augmentation: shift:1, hflip")) << r.out;

  const auto permuted = dir / "permuted.h5";
  r = run_felis(dir, "train --data " + data + " --iterations 5 --permute-pixels 4 --out " +
                         permuted.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_felis(dir, "info " + permuted.string());
  EXPECT_TRUE(contains(r.out, "pixel positions permuted")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"permute_pixels\":4")) << r.out;
  r = run_felis(dir, "evaluate --model " + permuted.string() + " --data " + data);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  const auto out = dir / "bad.h5";
  expect_error("train --data " + data + " --augment 'tint:2' --out " + out.string(), 2,
               {"tint:2", "[0, 1]"}, out);
  expect_error("train --data " + data + " --permute-pixels -2 --out " + out.string(), 2,
               {"--permute-pixels -2"}, out);
}

}  // namespace
}  // namespace felis
