// Line charts through gnuplot: real SVG and PNG output, and the errors for a missing or
// failing gnuplot, which must leave no chart file behind.
#include "felis/study/plot.h"

#include "felis/error.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <optional>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

// True when an executable named gnuplot is on PATH.
bool gnuplot_on_path() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string directories = path;
  size_t begin = 0;
  while (begin <= directories.size()) {
    const size_t colon = std::min(directories.find(':', begin), directories.size());
    const auto candidate =
        std::filesystem::path(directories.substr(begin, colon - begin)) / "gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return true;
    begin = colon + 1;
  }
  return false;
}

// Sets PATH for the test's lifetime and restores it afterwards.
class ScopedPath {
public:
  explicit ScopedPath(const std::string& value) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    setenv("PATH", value.c_str(), 1);
  }
  ScopedPath(const ScopedPath&) = delete;
  ScopedPath& operator=(const ScopedPath&) = delete;
  ~ScopedPath() {
    if (old_) {
      setenv("PATH", old_->c_str(), 1);
    } else {
      unsetenv("PATH");
    }
  }

private:
  std::optional<std::string> old_;
};

LineChart two_series_chart() {
  return {.title = "it's a_b test",
          .x_label = "shift (pixels)",
          .y_label = "percent",
          .y_range = AxisRange{.min = 0, .max = 100},
          .series = {{.name = "accuracy", .points = {{0, 70}, {1, 71.25}, {2, 69.25}}},
                     {.name = "flip rate", .points = {{0, 0}, {1, 6.25}, {2, 11.25}}}}};
}

size_t entries_in(const std::filesystem::path& directory) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(directory),
                                           std::filesystem::directory_iterator()));
}

TEST(PlotFormat, FromExtension) {
  EXPECT_EQ(chart_format_from_path("a/b.svg", "--plot"), ChartFormat::svg);
  EXPECT_EQ(chart_format_from_path("b.SVG", "--plot"), ChartFormat::svg);
  EXPECT_EQ(chart_format_from_path("b.png", "--plot"), ChartFormat::png);
  EXPECT_THROW(chart_format_from_path("b.pdf", "--plot"), UsageError);
  EXPECT_THROW(chart_format_from_path("svg", "--plot"), UsageError);
  const std::string message = error_message([] { chart_format_from_path("b.pdf", "--plot"); });
  EXPECT_TRUE(contains(message, "--plot b.pdf")) << message;
  EXPECT_TRUE(contains(message, ".svg or .png")) << message;
}

TEST(PlotLineChart, WritesSvgAndPng) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not on PATH; install gnuplot-nox";
  const fixtures::TempDir dir;
  write_line_chart(two_series_chart(), dir / "chart.svg");
  const auto svg = fixtures::read_bytes(dir / "chart.svg");
  const std::string text(svg.begin(), svg.end());
  EXPECT_TRUE(text.starts_with("<?xml") || text.starts_with("<svg")) << text.substr(0, 80);
  EXPECT_TRUE(contains(text, "</svg>"));
  EXPECT_TRUE(contains(text, "a_b test")) << "the title should keep its underscore";
  EXPECT_TRUE(contains(text, "flip rate"));

  write_line_chart(two_series_chart(), dir / "chart.png");
  const auto png = fixtures::read_bytes(dir / "chart.png");
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8),
            (std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
  EXPECT_EQ(entries_in(dir.path()), 2u) << "no temporary file should remain";
}

TEST(PlotLineChart, GapsAndSinglePointsDraw) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not on PATH; install gnuplot-nox";
  LineChart chart{.title = "gaps", .x_label = "x", .y_label = "y", .y_range = std::nullopt,
                  .series = {{.name = "one", .points = {{1, 2}}},
                             {.name = "gap", .points = {{0, 1}, {1, std::nan("")}, {2, 3}}}}};
  const auto bytes = render_line_chart(chart, ChartFormat::svg);
  EXPECT_FALSE(bytes.empty());
}

TEST(PlotLineChart, MissingGnuplotNamesThePackage) {
  const fixtures::TempDir dir;
  std::filesystem::create_directory(dir / "empty-bin");
  const auto target = dir / "chart.svg";
  std::string message;
  {
    const ScopedPath path((dir / "empty-bin").string());
    message = error_message([&] { write_line_chart(two_series_chart(), target); });
    EXPECT_THROW(check_gnuplot_installed(), Error);
  }
  EXPECT_NO_THROW(check_gnuplot_installed()) << "with the test's own PATH";
  EXPECT_TRUE(contains(message, "gnuplot was not found")) << message;
  EXPECT_TRUE(contains(message, "gnuplot-nox")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_EQ(entries_in(dir.path()), 1u) << "only empty-bin should remain";
}

TEST(PlotLineChart, FailingGnuplotKeepsTheOldFile) {
  // A stand-in gnuplot that prints a warning and an error as gnuplot does, writes part
  // of a chart, and fails.
  const fixtures::TempDir dir;
  std::filesystem::create_directory(dir / "bin");
  const auto fake = dir / "bin" / "gnuplot";
  fixtures::write_text(fake, "#!/bin/sh\n"
                             "echo '\"/tmp/x/chart.gp\" line 2: warning: font not found' >&2\n"
                             "echo 'set foo' >&2\n"
                             "echo '    ^' >&2\n"
                             "echo '\"/tmp/x/chart.gp\" line 3: unrecognized option' >&2\n"
                             "echo '<?xml partial'\n"
                             "exit 1\n");
  chmod(fake.c_str(), 0755);
  const auto target = dir / "chart.svg";
  fixtures::write_text(target, "old chart");
  std::string message;
  {
    const ScopedPath path((dir / "bin").string());
    message = error_message([&] { write_line_chart(two_series_chart(), target); });
  }
  EXPECT_TRUE(contains(message, "exit code 1")) << message;
  EXPECT_TRUE(contains(message, "line 3: unrecognized option")) << message;
  EXPECT_FALSE(contains(message, "warning")) << message;
  EXPECT_FALSE(contains(message, "/tmp/x")) << message;
  EXPECT_TRUE(contains(message, "gnuplot-nox")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  const auto old_content = fixtures::read_bytes(target);
  EXPECT_EQ(std::string(old_content.begin(), old_content.end()), "old chart");
  EXPECT_EQ(entries_in(dir.path()), 2u) << "only bin and the old chart should remain";
}

TEST(PlotLineChart, LineTypeSetsColor) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not on PATH; install gnuplot-nox";
  // gnuplot 5.4's default colors: line type 1 purple (148, 0, 211), 2 green (0, 158, 115).
  const std::string purple = "rgb(148,   0, 211)";
  const std::string green = "rgb(  0, 158, 115)";
  LineChart chart{.title = "colors", .x_label = "x", .y_label = "y", .y_range = std::nullopt,
                  .series = {{.name = "second model", .points = {{0, 1}, {1, 2}}, .line_type = 2}}};
  const auto chosen = render_line_chart(chart, ChartFormat::svg);
  const std::string chosen_text(chosen.begin(), chosen.end());
  EXPECT_TRUE(contains(chosen_text, green)) << "line type 2 should draw in green";
  EXPECT_FALSE(contains(chosen_text, purple)) << "line type 2 should not draw in purple";

  chart.series[0].line_type = 0;
  const auto by_position = render_line_chart(chart, ChartFormat::svg);
  const std::string by_position_text(by_position.begin(), by_position.end());
  EXPECT_TRUE(contains(by_position_text, purple)) << "the first series should draw in purple";
  EXPECT_FALSE(contains(by_position_text, green)) << "the first series should not draw in green";
}

TEST(PlotLineChart, RejectsEmptyChartsAndBadRanges) {
  LineChart chart = two_series_chart();
  chart.series.clear();
  EXPECT_TRUE(contains(error_message([&] { render_line_chart(chart, ChartFormat::svg); }),
                       "no series"));
  chart = two_series_chart();
  chart.series[1].points.clear();
  EXPECT_TRUE(contains(error_message([&] { render_line_chart(chart, ChartFormat::svg); }),
                       "'flip rate' has no points"));
  chart = two_series_chart();
  chart.y_range = AxisRange{.min = 1, .max = 1};
  EXPECT_TRUE(contains(error_message([&] { render_line_chart(chart, ChartFormat::svg); }),
                       "y range"));
  chart.y_range = AxisRange{.min = 0, .max = std::nan("")};
  EXPECT_TRUE(contains(error_message([&] { render_line_chart(chart, ChartFormat::svg); }),
                       "y range"));
  chart = two_series_chart();
  chart.series[0].line_type = -1;
  EXPECT_TRUE(contains(error_message([&] { render_line_chart(chart, ChartFormat::svg); }),
                       "'accuracy' has line type -1"));
}

}  // namespace
}  // namespace felis
