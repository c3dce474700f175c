#include "harness/progress.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

namespace ys {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

progress_meter::progress_meter(std::string label, std::size_t total, bool enabled, std::FILE* sink,
                               std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      sink_(sink),
      interactive_(isatty(fileno(sink)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void progress_meter::advance(bool failed) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  ++done_;
  if (failed) ++failed_;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = interactive_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5);
  if (now - last_draw_ >= interval) {
    last_draw_ = now;
    draw_locked(false);
  }
}

void progress_meter::finish() {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  draw_locked(true);
}

void progress_meter::draw_locked(bool final_line) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
  const double percent = total_ ? 100.0 * static_cast<double>(done_) / total_ : 100.0;
  std::string line = fmt::format("[{}] {}/{} ({:.1f}%) ", label_, done_, total_, percent);
  // Failures only mean something for samples; a profiler's points do not fail one by one.
  if (unit_ == "samples" || failed_ > 0) line += fmt::format("failed {} ", failed_);
  line += fmt::format("| {:.1f} {}/s | ", rate, unit_);
  line += final_line ? fmt::format("took {}", format_duration(elapsed))
                     : fmt::format("ETA {}", format_duration(eta));
  if (interactive_) {
    fmt::print(sink_, "\r{}\x1b[K{}", line, final_line ? "\n" : "");
  } else {
    fmt::print(sink_, "{}\n", line);
  }
  std::fflush(sink_);
}

}  // namespace ys
