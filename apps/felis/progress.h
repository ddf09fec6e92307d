// A progress bar for training on a terminal: the epoch, a bar, the loss, images per
// second and the time left. Drawn on stderr, and only when stderr is a terminal, so logs
// written to files keep one line per epoch.
#pragma once

#include "felis/train/trainer.h"

#include <chrono>
#include <string>

namespace felis::cli {

class ProgressBar {
public:
  ProgressBar();
  bool enabled() const { return enabled_; }
  // Redraws the bar, at most ten times a second, after `prefix` (such as the study's own
  // progress) when one is given.
  void update(const StepRecord& step, const std::string& prefix = "");
  // Erases the bar so that a log line can take its place.
  void clear();

private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace felis::cli
