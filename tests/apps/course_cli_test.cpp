// The course's cat classifier through the felis program: images written out as PNG and
// classified by file must get the probabilities that evaluating the HDF5 file gives.
#include "felis/data/image.h"
#include "felis/data/loaders.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace felis {
namespace {

std::string run_to_file(const std::string& arguments, const std::filesystem::path& out) {
  const std::string command = std::string(FELIS_BINARY) + " " + arguments + " >" + out.string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CourseCli, PngFilesPredictLikeHdf5) {
  const auto data = fixtures::shared_data("catvnoncat");
  if (!std::filesystem::exists(data / "test_catvnoncat.h5")) {
    GTEST_SKIP() << "cat data missing: " << data.string();
  }
  fixtures::TempDir dir;
  const auto model = dir / "cat.h5";
  run_to_file("train --data " + data.string() + " --iterations 2000 --out " + model.string(),
              dir / "train.txt");
  run_to_file("evaluate --model " + model.string() + " --data " + data.string() + " --metrics " +
                  (dir / "metrics.json").string(),
              dir / "evaluate.txt");
  std::ifstream metrics_file(dir / "metrics.json");
  const auto metrics = nlohmann::json::parse(metrics_file);
  EXPECT_DOUBLE_EQ(metrics["accuracy"].get<double>(), 0.70);

  const Dataset test = *load_data(data).test;
  std::string files;
  for (int64_t i = 0; i < test.count; ++i) {
    const auto png = dir / (std::to_string(i) + ".png");
    save_png(png, test.image(i), {.height = 64, .width = 64, .channels = 3});
    files += ' ';
    files += png.string();
  }
  std::istringstream lines(
      run_to_file("predict --model " + model.string() + files, dir / "predict.txt"));

  std::string line;
  int64_t i = 0;
  double worst = 0.0;
  for (; std::getline(lines, line); ++i) {
    // path <tab> class <tab> probability
    const auto last_tab = line.rfind('\t');
    const auto class_tab = line.rfind('\t', last_tab - 1);
    const std::string name = line.substr(class_tab + 1, last_tab - class_tab - 1);
    const double probability = std::stod(line.substr(last_tab + 1));
    const auto& row = metrics["predictions"][static_cast<size_t>(i)];
    const int predicted = row["predicted"];
    EXPECT_EQ(name, test.class_names[static_cast<size_t>(predicted)]) << line;
    const double expected = row["probabilities"][static_cast<size_t>(predicted)];
    worst = std::max(worst, std::abs(probability - expected));
  }
  EXPECT_EQ(i, 50);
  // predict prints six decimals, so equal probabilities differ by at most 5e-7.
  EXPECT_LE(worst, 5e-7);
}

}  // namespace
}  // namespace felis
