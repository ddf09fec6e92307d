// The HTML report in a real browser. Headless Chromium (Debian package chromium) opens a
// report with two PNG figures and one gnuplot SVG chart from a file:// URL twice: once to
// dump the DOM after the load event, once to take a screenshot. The page's script writes
// on <body> how many images decoded, so the DOM shows whether every data: URI loaded. A
// study's report, built from hand-built results, is loaded the same way.
//
// Chromium is a test dependency that build.sh installs. Without /usr/bin/chromium the tests
// fail, unless FELIS_SKIP_BROWSER_TESTS=1 is set, which skips them.
#include "felis/study/report.h"

#include "felis/data/image.h"
#include "felis/study/plot.h"
#include "felis/study/study_report.h"

#include "data/fixtures.h"
#include "study/study_report_fixture.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

extern char** environ;

namespace felis {
namespace {

namespace fs = std::filesystem;
using fixtures::contains;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kChromiumTimeoutSeconds = "60";

// Where a person finds the last screenshot after the tests ran, in the build tree.
const fs::path kArtifactDir = FELIS_TEST_ARTIFACT_DIR;

std::string read_file_text(const fs::path& file) {
  const std::vector<uint8_t> bytes = fixtures::read_bytes(file);
  return {bytes.begin(), bytes.end()};
}

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
  int64_t elapsed_ms = 0;
};

// Runs `argv` without a shell, stdin from /dev/null, stdout and stderr into files of `dir`.
ProcessResult run_process(const std::vector<std::string>& argv, const fixtures::TempDir& dir) {
  const fs::path out = dir / "process.stdout";
  const fs::path err = dir / "process.stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> arguments = argv;
  std::vector<char*> pointers;
  for (auto& argument : arguments) pointers.push_back(argument.data());
  pointers.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawn_error =
      posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ProcessResult result;
  if (spawn_error != 0) {
    result.err = "cannot start " + argv[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file_text(out);
  result.err = read_file_text(err);
  return result;
}

// Chromium's command line for a file:// page, with `action` such as --dump-dom. The flags
// keep it headless and without GPU, turn off the sandbox, which Chromium requires when it
// runs as root, and stop every connection of its own (background networking, component
// updates, sync, QUIC).
std::vector<std::string> chromium_command(const fs::path& profile, const std::string& action,
                                          const fs::path& page) {
  return {"timeout",
          "--kill-after=5",
          kChromiumTimeoutSeconds,
          kChromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile.string(),
          action,
          "file://" + page.string()};
}

std::string describe_failure(const ProcessResult& result) {
  if (result.exit_code == 124) {
    return std::string("chromium timed out after ") + kChromiumTimeoutSeconds + " s";
  }
  // Chromium's stderr starts with pages of D-Bus errors on a machine without a bus, so the
  // cause of a failure is at the end.
  const size_t keep = 2000;
  const std::string tail =
      result.err.size() > keep ? result.err.substr(result.err.size() - keep) : result.err;
  return "chromium failed with exit code " + std::to_string(result.exit_code) +
         ". The end of its stderr:\n" + tail;
}

// An (H, W, 3) gradient with a dark diagonal band, so the screenshot shows structure.
std::vector<char> gradient_png() {
  const ImageShape shape{.height = 128, .width = 192, .channels = 3};
  std::vector<uint8_t> pixels(static_cast<size_t>(shape.height * shape.width * 3));
  for (int64_t y = 0; y < shape.height; ++y) {
    for (int64_t x = 0; x < shape.width; ++x) {
      uint8_t* pixel = &pixels[static_cast<size_t>((y * shape.width + x) * 3)];
      const bool band = std::abs(x - y * 3 / 2) < 10;
      pixel[0] = band ? 30 : static_cast<uint8_t>(x * 255 / shape.width);
      pixel[1] = band ? 30 : static_cast<uint8_t>(y * 255 / shape.height);
      pixel[2] = band ? 30 : 160;
    }
  }
  return encode_png(pixels.data(), shape);
}

// An (H, W, 1) checkerboard of 14-pixel squares.
std::vector<char> checkerboard_png() {
  const ImageShape shape{.height = 112, .width = 112, .channels = 1};
  std::vector<uint8_t> pixels(static_cast<size_t>(shape.height * shape.width));
  for (int64_t y = 0; y < shape.height; ++y) {
    for (int64_t x = 0; x < shape.width; ++x) {
      pixels[static_cast<size_t>(y * shape.width + x)] = (x / 14 + y / 14) % 2 == 0 ? 40 : 220;
    }
  }
  return encode_png(pixels.data(), shape);
}

std::vector<char> accuracy_chart_svg() {
  const LineChart chart{
      .title = "Test accuracy as the shift grows",
      .x_label = "shift (pixels)",
      .y_label = "test accuracy (%)",
      .y_range = AxisRange{.min = 0, .max = 100},
      .series = {{.name = "logreg", .points = {{0, 70}, {1, 68}, {2, 62}, {4, 58}, {8, 50}}},
                 {.name = "cnn", .points = {{0, 82}, {1, 81}, {2, 79}, {4, 74}, {8, 63}}}}};
  return render_line_chart(chart, ChartFormat::svg);
}

const std::vector<std::string> kHeadings = {"Data", "Shifts", "Method"};

Report browser_report() {
  return {
      .title = "felis report: browser test",
      .question = "Do all three figures of this page load from data: URIs in a real browser?",
      .findings = {{.sentence = "Logistic regression reaches 70.0 % test accuracy.",
                    .seeds = 5,
                    .spread = "66-74 %"},
                   {.sentence = "A shift of 8 pixels costs it 20 points.", .seeds = 5,
                    .spread = "17-23 points"}},
      .sections = {
          {.heading = kHeadings[0],
           .blocks = {ReportParagraph{"Two synthetic PNG images, one RGB and one gray."},
                      ReportFigure{.bytes = gradient_png(),
                                   .mime_type = "image/png",
                                   .caption = "An RGB gradient, 192 x 128 pixels",
                                   .alt_text = "A red-green gradient crossed by a dark band"},
                      ReportFigure{.bytes = checkerboard_png(),
                                   .mime_type = "image/png",
                                   .caption = "A gray checkerboard, 112 x 112 pixels",
                                   .alt_text = "A checkerboard of 8 x 8 squares"}}},
          {.heading = kHeadings[1],
           .blocks = {ReportTable{.caption = "Test accuracy (%) by shift",
                                  .header = {"model", "0 px", "4 px", "8 px"},
                                  .rows = {{"logreg", "70.0", "58.0", "50.0"},
                                           {"cnn", "82.0", "74.0", "63.0"}}},
                      ReportFigure{.bytes = accuracy_chart_svg(),
                                   .mime_type = "image/svg+xml",
                                   .caption = "Test accuracy against the shift, by gnuplot",
                                   .alt_text = "Two falling lines, cnn above logreg"}}},
          {.heading = kHeadings[2],
           .blocks = {ReportParagraph{"Headless Chromium renders this page from a file:// URL "
                                      "with background networking off."}}}}};
}

// Fails each test unless Chromium is installed, and skips it when
// FELIS_SKIP_BROWSER_TESTS=1. GoogleTest runs no test body after SetUp fails or skips.
class ReportBrowser : public ::testing::Test {
protected:
  void SetUp() override {
    const char* skip = std::getenv("FELIS_SKIP_BROWSER_TESTS");
    if (skip != nullptr && std::string(skip) == "1") {
      GTEST_SKIP() << "FELIS_SKIP_BROWSER_TESTS=1 is set, so the browser tests are skipped";
    }
    ASSERT_EQ(access(kChromium, X_OK), 0)
        << kChromium << " was not found; install the Debian package chromium "
        << "(apt-get install chromium, which ./build.sh test does), or set "
        << "FELIS_SKIP_BROWSER_TESTS=1 to skip the browser tests";
  }
};

// The image counts that the page's script wrote on <body> of a dumped DOM.
struct ImageCounts {
  std::string total;
  std::string loaded;
};

ImageCounts image_counts(const std::string& dom) {
  std::smatch total;
  std::smatch loaded;
  ImageCounts counts;
  if (std::regex_search(dom, total, std::regex(R"re(data-images-total="(\d+)")re"))) {
    counts.total = total[1].str();
  }
  if (std::regex_search(dom, loaded, std::regex(R"re(data-images-loaded="(\d+)")re"))) {
    counts.loaded = loaded[1].str();
  }
  return counts;
}

TEST_F(ReportBrowser, AllImagesLoad) {
  fixtures::TempDir dir;
  const fs::path page = dir / "index.html";
  write_report_html(browser_report(), page);

  const ProcessResult result = run_process(
      chromium_command(dir / "profile-dom", "--dump-dom", page), dir);
  std::cout << "chromium --dump-dom took " << result.elapsed_ms << " ms\n";
  ASSERT_EQ(result.exit_code, 0) << describe_failure(result);

  const std::string& dom = result.out;
  const ImageCounts counts = image_counts(dom);
  ASSERT_FALSE(counts.total.empty()) << "the page's script did not set data-images-total; DOM "
                                        "starts:\n"
                                     << dom.substr(0, 1000);
  ASSERT_FALSE(counts.loaded.empty()) << "the page's script did not set data-images-loaded";
  EXPECT_EQ(counts.total, "3");
  EXPECT_EQ(counts.loaded, "3");

  for (const auto& heading : kHeadings) {
    EXPECT_TRUE(contains(dom, "<h2>" + heading + "</h2>")) << heading;
  }
  EXPECT_TRUE(contains(dom, "<td class=\"number\">58.0</td>"));
  EXPECT_TRUE(contains(dom, "Logistic regression reaches 70.0 % test accuracy."));
}

TEST_F(ReportBrowser, StudyReportImagesLoad) {
  fixtures::TempDir dir;
  DataSplits data;
  data.train = fixtures::synthetic_dataset(12, 16, 3, 2, 1);
  data.test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
  ThreadPool pool(1);
  // Without model files in DIR/runs, "What the models learned" has no figure. The others
  // are the two learning curves, three invariance charts (no run was probed with
  // brightness) and the augmentation preview.
  const Report report = build_study_report(fixtures::hand_built_study(), data, "cats.h5",
                                           dir.path(), pool);
  const fs::path page = dir / "index.html";
  write_report_html(report, page);

  const ProcessResult result = run_process(
      chromium_command(dir / "profile-study", "--dump-dom", page), dir);
  ASSERT_EQ(result.exit_code, 0) << describe_failure(result);
  const ImageCounts counts = image_counts(result.out);
  ASSERT_FALSE(counts.total.empty()) << "the page's script did not set data-images-total";
  EXPECT_EQ(counts.total, "6");
  EXPECT_EQ(counts.loaded, counts.total);
  for (const char* heading : {"Findings", "Contents", "Accuracy", "Learning curves", "Invariance",
                              "Augmentations", "What the models learned", "Controls", "Method"}) {
    EXPECT_TRUE(contains(result.out, std::string("<h2>") + heading + "</h2>")) << heading;
  }
  EXPECT_TRUE(contains(result.out, "Seeds completed: 2 of the 5 requested."));
  EXPECT_TRUE(contains(result.out, "86.0 -&gt; 86.2 % clean"));
}

TEST_F(ReportBrowser, Screenshot) {
  fixtures::TempDir dir;
  const fs::path page = dir / "index.html";
  const fs::path screenshot = dir / "report.png";
  write_report_html(browser_report(), page);

  std::vector<std::string> command =
      chromium_command(dir / "profile-screenshot", "--screenshot=" + screenshot.string(), page);
  command.insert(command.end() - 1, "--window-size=1200,2000");
  // Scrollbars would take width from the page in the picture.
  command.insert(command.end() - 1, "--hide-scrollbars");
  const ProcessResult result = run_process(command, dir);
  std::cout << "chromium --screenshot took " << result.elapsed_ms << " ms\n";
  ASSERT_EQ(result.exit_code, 0) << describe_failure(result);
  ASSERT_TRUE(fs::is_regular_file(screenshot)) << "chromium wrote no " << screenshot;

  const LoadedImage image = load_image(screenshot, {.height = 0, .width = 0, .channels = 3});
  EXPECT_EQ(image.source_shape.width, 1200);
  EXPECT_EQ(image.source_shape.height, 2000);

  // The page is mostly white, but text, tables and figures cover a few percent of it.
  size_t dark_pixels = 0;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    if (image.pixels[i] < 128 && image.pixels[i + 1] < 128 && image.pixels[i + 2] < 128) {
      ++dark_pixels;
    }
  }
  const double dark_fraction =
      static_cast<double>(dark_pixels) / static_cast<double>(image.pixels.size() / 3);
  EXPECT_GT(dark_fraction, 0.005) << "the screenshot looks blank";
  EXPECT_LT(dark_fraction, 0.5) << "the screenshot looks mostly dark";

  fs::create_directories(kArtifactDir);
  const fs::path artifact = kArtifactDir / "report-screenshot.png";
  fs::copy_file(screenshot, artifact, fs::copy_options::overwrite_existing);
  std::cout << "screenshot copied to " << artifact.string() << "\n";
}

}  // namespace
}  // namespace felis
