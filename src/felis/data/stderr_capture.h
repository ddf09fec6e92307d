// Capturing what C libraries print to stderr. Private to the data module.
#pragma once

#include <cstdio>
#include <string>

namespace felis::detail {

// Redirects file descriptor 2 to an unnamed temporary file from construction until
// destruction, so that text which libpng, libjpeg or OpenCV print to stderr can be read
// back instead of reaching the terminal. When the redirection cannot be set up, nothing is
// captured and stderr stays as it was.
// NOTE: file descriptor 2 belongs to the whole process. While a capture is active, output
// of every thread goes to it, and captures must not overlap across threads.
class StderrCapture {
public:
  StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture();

  // Returns what was written so far as one line for a message: each line trimmed, empty
  // and repeated lines dropped, the rest joined by "; ", at most about 300 characters.
  std::string text() const;

private:
  std::FILE* file_ = nullptr;  // the temporary file that fd 2 points to
  int saved_fd_ = -1;          // a duplicate of the original fd 2, restored on destruction
};

}  // namespace felis::detail
