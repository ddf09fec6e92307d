#include "felis/study/plot.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace felis {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInstallHint =
    "install the package gnuplot-nox (apt-get install gnuplot-nox)";

// A directory of our own under the system's temporary directory, removed with its content.
class PrivateDirectory {
public:
  PrivateDirectory() {
    std::error_code error;
    const fs::path base = fs::temp_directory_path(error);
    if (error) {
      const char* tmpdir = std::getenv("TMPDIR");
      throw Error(fmt::format("the temporary directory {} cannot be used: {}; set TMPDIR to a "
                              "writable directory",
                              tmpdir != nullptr ? tmpdir : "/tmp", error.message()));
    }
    std::string pattern = (base / "felis-plot-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw Error(fmt::format("cannot create a temporary directory for gnuplot in {}: {}; set "
                              "TMPDIR to a writable directory",
                              base.string(), std::strerror(errno)));
    }
    path_ = pattern;
  }
  PrivateDirectory(const PrivateDirectory&) = delete;
  PrivateDirectory& operator=(const PrivateDirectory&) = delete;
  ~PrivateDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  fs::path operator/(const std::string& name) const { return path_ / name; }

private:
  fs::path path_;
};

// A file descriptor closed on destruction.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

private:
  int fd_;
};

FileDescriptor open_or_throw(const fs::path& file, int flags) {
  const int fd = ::open(file.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error(fmt::format("cannot open {} for gnuplot: {}; set TMPDIR to a writable directory",
                            file.string(), std::strerror(errno)));
  }
  return FileDescriptor(fd);
}

void write_text_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    throw Error(fmt::format("cannot write {} for gnuplot; free space in {} or set TMPDIR",
                            file.string(), file.parent_path().string()));
  }
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A gnuplot single-quoted string: nothing is escaped inside, and '' is one quote. Control
// characters, which would end the command at a newline, become spaces.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (std::iscntrl(static_cast<unsigned char>(c))) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The shortest text that reads back as `value`. gnuplot skips NaN points, leaving a gap.
std::string number(double value) { return std::isfinite(value) ? fmt::format("{}", value) : "NaN"; }

void check_chart(const LineChart& chart) {
  if (chart.series.empty()) {
    throw Error(fmt::format("chart '{}' has no series to draw; add at least one", chart.title));
  }
  for (const auto& series : chart.series) {
    if (series.line_type < 0) {
      throw Error(fmt::format("chart '{}': series '{}' has line type {}, which is invalid; use "
                              "0 for the series' position or a gnuplot line type of 1 or more",
                              chart.title, series.name, series.line_type));
    }
    if (series.points.empty()) {
      throw Error(fmt::format("chart '{}': series '{}' has no points; add at least one",
                              chart.title, series.name));
    }
  }
  if (chart.y_range) {
    const AxisRange& range = *chart.y_range;
    if (!std::isfinite(range.min) || !std::isfinite(range.max) || !(range.min < range.max)) {
      throw Error(fmt::format("chart '{}': y range [{}, {}] is invalid; give finite bounds "
                              "with min < max",
                              chart.title, range.min, range.max));
    }
  }
}

// One block per series, separated by two blank lines, so `index i` selects series i.
std::string data_text(const LineChart& chart) {
  std::string text;
  for (const auto& series : chart.series) {
    for (const auto& point : series.points) text += number(point.x) + " " + number(point.y) + "\n";
    text += "\n\n";
  }
  return text;
}

std::string script_text(const LineChart& chart, ChartFormat format, const fs::path& data) {
  // noenhanced: titles and labels are shown as written, so "a_b" keeps its underscore.
  std::string script =
      format == ChartFormat::svg
          ? "set terminal svg size 720,480 noenhanced font 'sans,12' background rgb 'white'\n"
          : "set terminal pngcairo size 960,640 noenhanced font 'sans,11' background rgb 'white'\n";
  script += "set title " + quoted(chart.title) + "\n";
  script += "set xlabel " + quoted(chart.x_label) + "\n";
  script += "set ylabel " + quoted(chart.y_label) + "\n";
  if (chart.y_range) {
    script += fmt::format("set yrange [{}:{}]\n", number(chart.y_range->min),
                          number(chart.y_range->max));
  }
  script += "set grid\nset key below\nplot ";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    if (i > 0) script += ", \\\n     ";
    const ChartSeries& series = chart.series[i];
    const int line_type = series.line_type > 0 ? series.line_type : static_cast<int>(i) + 1;
    script += fmt::format("{} index {} using 1:2 with linespoints linetype {} pointtype 7 title {}",
                          i == 0 ? quoted(data.string()) : "''", i, line_type,
                          quoted(series.name));
  }
  return script + "\n";
}

// The line of gnuplot's messages that names the error: the first `"script" line N: ...`
// that is not a warning, else the first line with text. The script's temporary path is
// dropped, since the file is gone by the time the user reads the message.
std::string first_error_line(const std::string& messages) {
  std::istringstream lines(messages);
  std::string line;
  std::string first_text;
  while (std::getline(lines, line)) {
    const auto marker = line.find("\" line ");
    if (line.starts_with('"') && marker != std::string::npos &&
        line.find("warning:") == std::string::npos) {
      return line.substr(marker + 2);
    }
    if (first_text.empty() && line.find_first_not_of(" \t\r^") != std::string::npos) {
      first_text = line;
    }
  }
  return first_text.empty() ? "no message" : first_text;
}

// Runs `gnuplot -d script` with stdin from /dev/null, stdout into `output` and stderr
// into `messages`. -d skips the user's ~/.gnuplot, whose settings would change the chart.
void run_gnuplot(const fs::path& script, const fs::path& output, const fs::path& messages) {
  const FileDescriptor input = open_or_throw("/dev/null", O_RDONLY);
  const FileDescriptor out = open_or_throw(output, O_WRONLY | O_CREAT | O_TRUNC);
  const FileDescriptor err = open_or_throw(messages, O_WRONLY | O_CREAT | O_TRUNC);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.get(), STDERR_FILENO);
  std::string program = "gnuplot";
  std::string default_settings = "-d";
  std::string script_path = script.string();
  char* argv[] = {program.data(), default_settings.data(), script_path.data(), nullptr};
  pid_t pid = 0;
  // posix_spawnp searches PATH and, in glibc 2.24 and later, returns exec's error itself.
  const int spawn_error = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error == ENOENT) {
    throw Error(fmt::format("gnuplot was not found on PATH; {}", kInstallHint));
  }
  if (spawn_error != 0) {
    throw Error(
        fmt::format("cannot run gnuplot: {}; {}", std::strerror(spawn_error), kInstallHint));
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw Error(fmt::format("waiting for gnuplot failed: {}", std::strerror(errno)));
    }
  }
  if (WIFSIGNALED(status)) {
    throw Error(fmt::format("gnuplot was killed by signal {} while drawing the chart; check that "
                            "it runs, or {}",
                            WTERMSIG(status), kInstallHint));
  }
  if (WEXITSTATUS(status) != 0) {
    throw Error(fmt::format("gnuplot failed with exit code {}: {}; check that the plotted "
                            "values are finite and in range, and that gnuplot 5 with the svg and "
                            "pngcairo terminals is installed (package gnuplot-nox)",
                            WEXITSTATUS(status), first_error_line(read_text_file(messages))));
  }
}

}  // namespace

void check_gnuplot_installed() {
  // PATH as posix_spawnp reads it: unset means glibc's default, an empty entry the current
  // directory.
  const char* variable = std::getenv("PATH");
  const std::string path = variable != nullptr ? variable : "/bin:/usr/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t colon = std::min(path.find(':', begin), path.size());
    const fs::path directory =
        colon == begin ? fs::path(".") : fs::path(path.substr(begin, colon - begin));
    const fs::path candidate = directory / "gnuplot";
    std::error_code ignored;
    if (fs::is_regular_file(candidate, ignored) && ::access(candidate.c_str(), X_OK) == 0) return;
    begin = colon + 1;
  }
  throw Error(fmt::format("gnuplot was not found on PATH; {}", kInstallHint));
}

ChartFormat chart_format_from_path(const fs::path& file, const std::string& option) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".svg") return ChartFormat::svg;
  if (extension == ".png") return ChartFormat::png;
  throw UsageError(fmt::format("{} {}: the extension must be .svg or .png, which selects the "
                               "chart's format",
                               option, file.string()));
}

std::vector<char> render_line_chart(const LineChart& chart, ChartFormat format) {
  check_chart(chart);
  const PrivateDirectory directory;
  const fs::path data = directory / "chart.dat";
  const fs::path script = directory / "chart.gp";
  const fs::path output = directory / (format == ChartFormat::svg ? "chart.svg" : "chart.png");
  write_text_file(data, data_text(chart));
  write_text_file(script, script_text(chart, format, data));
  run_gnuplot(script, output, directory / "gnuplot.stderr");

  const std::string bytes = read_text_file(output);
  if (bytes.empty()) {
    throw Error(fmt::format("gnuplot exited without drawing chart '{}'; {}", chart.title,
                            kInstallHint));
  }
  return {bytes.begin(), bytes.end()};
}

void write_line_chart(const LineChart& chart, const fs::path& file) {
  const ChartFormat format = chart_format_from_path(file, "chart file");
  AtomicFile out(file);
  out.write(render_line_chart(chart, format));
  out.commit();
}

}  // namespace felis
