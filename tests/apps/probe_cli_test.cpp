// felis probe as a user runs it: the printed table, the JSON and chart files, and one-line
// errors that leave no output file.
#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace felis {
namespace {

using fixtures::contains;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs `environment felis arguments` through the shell, with the arguments already quoted
// where needed. stdout and stderr go through files beside `dir`, not in it, so they never
// show up as leftovers.
CommandResult run_felis(const fixtures::TempDir& dir, const std::string& arguments,
                        const std::string& environment = "") {
  const auto out = dir.path().parent_path() / (dir.path().filename().string() + ".stdout");
  const auto err = dir.path().parent_path() / (dir.path().filename().string() + ".stderr");
  const std::string command = environment + " " + std::string(FELIS_BINARY) + " " + arguments +
                              " >" + out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out);
  result.err = read_text(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return result;
}

// Writes `data` as the `prefix` split of an HDF5 file in the course's layout.
void write_split(fixtures::H5Writer& writer, const std::string& prefix, const Dataset& data) {
  const auto count = static_cast<hsize_t>(data.count);
  const auto side = static_cast<hsize_t>(data.height);
  writer.write_uint8(prefix + "_set_x",
                     {count, side, side, static_cast<hsize_t>(data.channels)}, data.pixels);
  writer.write_int64(prefix + "_set_y", {count},
                     std::vector<int64_t>(data.labels.begin(), data.labels.end()));
}

class ProbeCli : public ::testing::Test {
protected:
  fixtures::TempDir dir;
  std::filesystem::path data;   // course layout, 8x8x3 images, 60 train and 24 test
  std::filesystem::path model;  // logreg trained on it for 100 iterations

  void SetUp() override {
    data = dir / "data";
    std::filesystem::create_directory(data);
    {
      fixtures::H5Writer writer(data / "train_small.h5");
      write_split(writer, "train", fixtures::synthetic_dataset(60, 8, 3, 2, /*seed=*/1));
    }
    {
      fixtures::H5Writer writer(data / "test_small.h5");
      write_split(writer, "test", fixtures::synthetic_dataset(24, 8, 3, 2, /*seed=*/2));
    }
    model = dir / "model.h5";
    const CommandResult trained =
        run_felis(dir, "train --data " + data.string() + " --iterations 100 --print-cost-every 0 "
                       "--out " + model.string());
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }

  std::string probe_arguments(const std::string& options) const {
    return "probe --model " + model.string() + " --data " + data.string() + " " + options;
  }

  // Expects exit code `code`, one line on stderr containing every part, and neither
  // output file nor any temporary file in the directory.
  void expect_error(const std::string& arguments, int code, const std::vector<std::string>& parts,
                    const std::string& environment = "") {
    const CommandResult r = run_felis(dir, arguments, environment);
    EXPECT_EQ(r.exit_code, code) << arguments << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << arguments << "\n" << r.err;
    for (const auto& part : parts) EXPECT_TRUE(contains(r.err, part)) << arguments << "\n" << r.err;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      const std::string name = entry.path().filename().string();
      EXPECT_TRUE(name == "data" || name == "model.h5" || name == "bin" || name == "train.h5")
          << arguments << " left " << name;
    }
  }
};

TEST_F(ProbeCli, PrintsTableAndWritesJsonAndChart) {
  const auto json_path = dir / "out.json";
  const auto plot_path = dir / "out.svg";
  const CommandResult r =
      run_felis(dir, probe_arguments("--perturb shift --magnitudes 0,1,2 --json " +
                                     json_path.string() + " --plot " + plot_path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_TRUE(contains(lines[0], model.string())) << lines[0];
  EXPECT_TRUE(contains(lines[0], "test split of " + data.string() + " (24 images)")) << lines[0];
  EXPECT_TRUE(contains(lines[0], "shift (pixels), 8 variants per magnitude above 0")) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("shift 0 ")) << lines[1];
  EXPECT_TRUE(contains(lines[1], "flip rate   0.00 %")) << lines[1];
  EXPECT_TRUE(lines[2].starts_with("shift 1 ")) << lines[2];
  EXPECT_TRUE(lines[3].starts_with("shift 2 ")) << lines[3];
  EXPECT_TRUE(contains(lines[3], "min-max")) << lines[3];
  EXPECT_EQ(lines[4], "results written to " + json_path.string());
  EXPECT_EQ(lines[5], "chart written to " + plot_path.string());

  const auto json = nlohmann::json::parse(read_text(json_path));
  EXPECT_EQ(json["perturbation"], "shift");
  EXPECT_EQ(json["model"], model.string());
  EXPECT_EQ(json["data"], data.string());
  EXPECT_EQ(json["seed"], 1);
  ASSERT_EQ(json["points"].size(), 3u);
  EXPECT_EQ(json["points"][0]["variants"], 1);
  EXPECT_EQ(json["points"][0]["flip_rate"], 0.0);
  EXPECT_EQ(json["points"][2]["magnitude"], 2.0);
  EXPECT_EQ(json["points"][2]["variants"], 8);

  // Magnitude 0 is the accuracy that felis evaluate reports.
  const auto metrics_path = dir / "metrics.json";
  ASSERT_EQ(run_felis(dir, "evaluate --model " + model.string() + " --data " + data.string() +
                               " --metrics " + metrics_path.string())
                .exit_code,
            0);
  const auto metrics = nlohmann::json::parse(read_text(metrics_path));
  EXPECT_EQ(json["points"][0]["accuracy"], metrics["accuracy"]);

  const std::string svg = read_text(plot_path);
  EXPECT_TRUE(svg.starts_with("<?xml") || svg.starts_with("<svg")) << svg.substr(0, 80);
}

TEST_F(ProbeCli, DefaultMagnitudesFitTheImages) {
  // The default shifts are 0, 1, 2, 4 and 8 pixels, and 8 does not fit 8x8 images.
  const CommandResult r = run_felis(dir, probe_arguments("--perturb shift"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_TRUE(lines[4].starts_with("shift 4 ")) << r.out;

  const CommandResult tint =
      run_felis(dir, probe_arguments("--perturb tint --magnitudes '0, 0.2'"));
  ASSERT_EQ(tint.exit_code, 0) << tint.err;
  EXPECT_TRUE(contains(tint.out, "6 variants per magnitude")) << tint.out;
  EXPECT_TRUE(contains(tint.out, "tint 0.2 ")) << tint.out;

  const CommandResult blur = run_felis(dir, probe_arguments("--perturb blur --magnitudes 0,1"));
  ASSERT_EQ(blur.exit_code, 0) << blur.err;
  EXPECT_TRUE(contains(blur.out, "), 1 variant per magnitude above 0\n")) << blur.out;
}

TEST_F(ProbeCli, SameJsonOnOneAndTwoThreads) {
  const auto one_thread = dir / "one.json";
  const auto two_threads = dir / "two.json";
  ASSERT_EQ(run_felis(dir, probe_arguments("--perturb noise --magnitudes 0,16 --seed 5 "
                                           "--threads 1 --json " + one_thread.string()))
                .exit_code,
            0);
  ASSERT_EQ(run_felis(dir, probe_arguments("--perturb noise --magnitudes 0,16 --seed 5 "
                                           "--threads 2 --json " + two_threads.string()))
                .exit_code,
            0);
  EXPECT_EQ(read_text(one_thread), read_text(two_threads));
}

TEST_F(ProbeCli, BadInputFailsWithOneLine) {
  const std::string outputs =
      " --json " + (dir / "out.json").string() + " --plot " + (dir / "out.svg").string();
  expect_error(probe_arguments("--perturb sway" + outputs), 2, {"'sway'", "shift, rotate"});
  expect_error(probe_arguments("--perturb shift --magnitudes 0,-1" + outputs), 2,
               {"magnitude -1", "at least 0"});
  expect_error(probe_arguments("--perturb shift --magnitudes 0,1.5" + outputs), 2,
               {"1.5", "whole number"});
  expect_error(probe_arguments("--perturb shift --magnitudes 8" + outputs), 2,
               {"8 pixels", "at most 7"});
  expect_error(probe_arguments("--perturb rotate --magnitudes 0,,5" + outputs), 2,
               {"--magnitudes 0,,5", "not a number"});
  expect_error(probe_arguments("--perturb rotate --magnitudes ten" + outputs), 2, {"'ten'"});
  expect_error(probe_arguments("--perturb shift --threads 0" + outputs), 2, {"--threads 0"});
  expect_error(probe_arguments("--perturb shift --seed -2" + outputs), 2, {"--seed -2"});
  expect_error(probe_arguments("--perturb shift --plot " + (dir / "out.pdf").string()), 2,
               {"out.pdf", ".svg or .png"});
  expect_error(probe_arguments("--perturb shift --json " + (dir / "missing" / "o.json").string()),
               2, {"missing", "does not exist"});
  expect_error(probe_arguments("--perturb shift --json " + model.string()), 2,
               {"would replace an input file"});
  expect_error(probe_arguments("--perturb shift --json " + (dir / "out.svg").string() +
                               " --plot " + (dir / "out.svg").string()),
               2, {"give two different files"});
  expect_error("probe --model " + (dir / "absent.h5").string() + " --data " + data.string() +
                   " --perturb shift" + outputs,
               1, {"absent.h5"});
  expect_error("probe --data " + data.string() + " --perturb shift", 2, {"--model"});
  expect_error("prob --model x", 2, {"unknown subcommand 'prob'", "probe"});
  EXPECT_TRUE(std::filesystem::exists(model));
}

TEST_F(ProbeCli, DataWithoutTestSplitFails) {
  {
    fixtures::H5Writer writer(dir / "train.h5");
    write_split(writer, "train", fixtures::synthetic_dataset(10, 8, 3, 2, /*seed=*/3));
  }
  expect_error("probe --model " + model.string() + " --data " + (dir / "train.h5").string() +
                   " --perturb shift --json " + (dir / "out.json").string(),
               1, {"train.h5 has no test split", "pass a data set with one"});
}

TEST_F(ProbeCli, MissingGnuplotFailsBeforeProbing) {
  std::filesystem::create_directory(dir / "bin");
  const CommandResult r = run_felis(dir, probe_arguments("--perturb shift --plot " +
                                                         (dir / "out.svg").string()),
                                    "PATH=" + (dir / "bin").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "felis: error: gnuplot was not found on PATH; install the package "
                   "gnuplot-nox (apt-get install gnuplot-nox)\n");
  EXPECT_EQ(r.out, "") << "nothing should be measured without a way to draw it";
  EXPECT_FALSE(std::filesystem::exists(dir / "out.svg"));
}

TEST_F(ProbeCli, FailingGnuplotWritesNoJson) {
  // A stand-in gnuplot that fails as a broken installation would.
  std::filesystem::create_directory(dir / "bin");
  const auto fake = dir / "bin" / "gnuplot";
  fixtures::write_text(fake, "#!/bin/sh\necho '\"x.gp\" line 1: unknown terminal' >&2\nexit 1\n");
  chmod(fake.c_str(), 0755);
  expect_error(probe_arguments("--perturb shift --magnitudes 0,1 --json " +
                               (dir / "out.json").string() + " --plot " +
                               (dir / "out.svg").string()),
               1, {"gnuplot failed", "line 1: unknown terminal", "gnuplot-nox"},
               "PATH=" + (dir / "bin").string() + ":\"$PATH\"");
}

}  // namespace
}  // namespace felis
