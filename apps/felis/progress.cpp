#include "progress.h"

#include <spdlog/fmt/fmt.h>

#include <cstdio>
#include <unistd.h>

namespace felis::cli {

ProgressBar::ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::update(const StepRecord& step, const std::string& prefix) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && step.step != step.steps && now - last_draw_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_draw_ = now;
  constexpr int kWidth = 30;
  const double done = static_cast<double>(step.step) / static_cast<double>(step.steps);
  const int filled = static_cast<int>(done * kWidth);
  const double seconds_left =
      step.elapsed_seconds * (static_cast<double>(step.steps - step.step) / step.step);
  const auto left = static_cast<int64_t>(seconds_left + 0.5);
  fmt::print(stderr, "\r\033[K{}epoch {}/{} [{}{}] {:3.0f}% loss={:.4f} {:.0f} img/s ETA {}:{:02d}",
             prefix, step.epoch, step.epochs, std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(kWidth - filled), '.'), 100 * done, step.loss,
             step.images_per_second, left / 60, left % 60);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace felis::cli
