// felis study as a user runs it: a small grid that writes results.json and index.html.
#include "felis/io/atomic_file.h"
#include "felis/io/dataset_file.h"

#include "data/fixtures.h"
#include "support/cli.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::run_felis;

TEST(StudyCli, WritesResultsAndReport) {
  fixtures::TempDir dir;
  const Dataset train = fixtures::synthetic_dataset(30, 8, 3, 2, 1);
  const Dataset test = fixtures::synthetic_dataset(10, 8, 3, 2, 2);
  AtomicFile file(dir / "data.h5");
  file.write(dataset_file_bytes(train, &test, {}));
  file.commit();

  const auto out = dir / "study";
  const auto r = run_felis(dir, "study --data " + (dir / "data.h5").string() + " --out " +
                                    out.string() + " --models logreg --augment none,tint --seeds 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "4 runs and 3 controls, 2 of 2 seeds")) << r.out;
  EXPECT_TRUE(contains(r.out, "logreg-none-s1-permuted")) << r.out;
  EXPECT_TRUE(contains(r.out, (out / "index.html").string())) << r.out;

  const auto results = nlohmann::json::parse(fixtures::read_text(out / "results.json"));
  EXPECT_EQ(results["runs"].size(), 4u);
  EXPECT_EQ(results["separability"]["true_labels"]["verdict"], "separable");
  const std::string html = fixtures::read_text(out / "index.html");
  for (const char* part : {"Findings", "Accuracy", "Invariance", "What the models learned",
                           "Controls", "logreg with tint augmentation", "data:image/png;base64,",
                           "Pixel permutation", "logreg with its pixels permuted",
                           "Training-set size"}) {
    EXPECT_TRUE(contains(html, part)) << part;
  }
  EXPECT_TRUE(std::filesystem::exists(out / "figures" / "probe-shift.svg"));
  EXPECT_TRUE(std::filesystem::exists(out / "figures" / "logreg-weights-class1.png"));

  // Run again: every run is reused, and --quiet prints only the report's path.
  const auto again = run_felis(dir, "study --data " + (dir / "data.h5").string() + " --out " +
                                        out.string() + " --models logreg --augment none,tint "
                                        "--seeds 2 --quiet");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, (out / "index.html").string() + "\n");
}

TEST(StudyCli, BadOptionsAreOneLine) {
  fixtures::TempDir dir;
  const auto r = run_felis(dir, "study --data " + (dir / "none").string() + " --seeds 0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--seeds 0 is invalid")) << r.err;
  EXPECT_EQ(fixtures::line_count(r.err), 1u) << r.err;
  for (const std::string option : {"--train-images", "--test-images"}) {
    const auto bad = run_felis(dir, "study --data " + (dir / "none").string() + " " + option + " -3");
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_TRUE(contains(bad.err, option + " -3 is invalid; give a number of images, or 0 for all"))
        << bad.err;
    EXPECT_EQ(fixtures::line_count(bad.err), 1u) << bad.err;
  }
  const std::string data = " --data " + (dir / "none").string();
  const std::pair<std::string, std::string> cases[] = {
      {"--models logreg,logreg", "--models names 'logreg' twice; give each once"},
      {"--augment none,shift,none", "--augment names 'none' twice; give each once"},
      {"--out ''", "--out is empty"},
  };
  for (const auto& [options, message] : cases) {
    const auto bad = run_felis(dir, "study" + data + " " + options);
    EXPECT_EQ(bad.exit_code, 2) << options << ": " << bad.err;
    EXPECT_TRUE(contains(bad.err, message)) << bad.err;
  }
  const std::string data_dir = (dir / "").string();
  const auto same = run_felis(dir, "study --data " + data_dir + " --out " + data_dir);
  EXPECT_EQ(same.exit_code, 2) << same.err;
  EXPECT_TRUE(contains(same.err, "is the data directory")) << same.err;
}

}  // namespace
}  // namespace felis
