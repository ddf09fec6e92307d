// Charts drawn by gnuplot (Debian package gnuplot-nox), as SVG or PNG files.
//
// The data and the script go to a private temporary directory, gnuplot runs on them as a
// child process (no shell), and its output replaces the target only once it is complete,
// through AtomicFile. gnuplot's messages stay hidden unless it fails.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace felis {

enum class ChartFormat { svg, png };
// The format named by the file's extension, .svg or .png in any case. Throws
// felis::UsageError naming `option` (e.g. "--plot") for any other extension.
ChartFormat chart_format_from_path(const std::filesystem::path& file, const std::string& option);

struct ChartPoint {
  double x = 0.0;
  double y = 0.0;  // not finite: a gap in the line
};

struct ChartSeries {
  std::string name;  // the legend's entry
  std::vector<ChartPoint> points;
  // gnuplot's line type k >= 1, which sets the color, so that one model keeps its color
  // across charts. 0 takes the series' position in the chart, 1 for the first.
  int line_type = 0;
};

struct AxisRange {
  double min = 0.0;
  double max = 1.0;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::optional<AxisRange> y_range;  // none: gnuplot fits the axis to the data
  std::vector<ChartSeries> series;   // one line with point marks each, in legend order
};

// Throws felis::Error, naming the package gnuplot-nox, unless an executable gnuplot is on
// PATH. Lets a command fail before long work whose chart it could not draw.
void check_gnuplot_installed();

// Renders `chart` with gnuplot and returns the file's bytes. Throws felis::Error when the
// chart has no series, a series has no points or a negative line type, or the range is
// empty or not finite. Also throws when gnuplot is not installed (naming the package
// gnuplot-nox) or when it fails (with its first error line).
std::vector<char> render_line_chart(const LineChart& chart, ChartFormat format);

// Renders `chart` in the format of the file's extension and writes it to `file`
// atomically: on any failure `file` keeps its old content, or stays absent.
void write_line_chart(const LineChart& chart, const std::filesystem::path& file);

}  // namespace felis
