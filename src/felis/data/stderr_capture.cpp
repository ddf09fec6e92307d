#include "felis/data/stderr_capture.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

namespace felis::detail {

namespace {

// Maximum bytes of captured output that text() reads, because a decoder may repeat a
// warning many times.
constexpr size_t kMaxReadBytes = 64 * 1024;
// Maximum characters of captured output that text() returns.
constexpr size_t kMaxTextChars = 300;

std::string trim(const std::string& line) {
  const size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const size_t last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

// Flushes the C and C++ streams that write to fd 2, so that their buffered text lands on
// the side of the redirection where it was written.
void flush_stderr() {
  std::cerr.flush();
  std::fflush(stderr);
}

}  // namespace

StderrCapture::StderrCapture() {
  flush_stderr();
  file_ = std::tmpfile();
  if (file_ == nullptr) return;
  saved_fd_ = dup(STDERR_FILENO);
  if (saved_fd_ < 0 || dup2(fileno(file_), STDERR_FILENO) < 0) {
    if (saved_fd_ >= 0) close(saved_fd_);
    saved_fd_ = -1;
    std::fclose(file_);
    file_ = nullptr;
  }
}

StderrCapture::~StderrCapture() {
  if (file_ == nullptr) return;
  flush_stderr();
  dup2(saved_fd_, STDERR_FILENO);
  close(saved_fd_);
  std::fclose(file_);
}

std::string StderrCapture::text() const {
  if (file_ == nullptr) return "";
  flush_stderr();
  std::string raw(kMaxReadBytes, '\0');
  const ssize_t size = pread(fileno(file_), raw.data(), raw.size(), 0);
  raw.resize(size > 0 ? static_cast<size_t>(size) : 0);

  std::vector<std::string> lines;
  std::istringstream stream(raw);
  for (std::string line; std::getline(stream, line);) {
    line = trim(line);
    if (!line.empty() && std::find(lines.begin(), lines.end(), line) == lines.end()) {
      lines.push_back(std::move(line));
    }
  }
  std::string joined;
  for (const std::string& line : lines) joined += (joined.empty() ? "" : "; ") + line;
  if (joined.size() > kMaxTextChars) joined = joined.substr(0, kMaxTextChars) + "...";
  return joined;
}

}  // namespace felis::detail
