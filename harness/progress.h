// A progress line on stderr: done/total, failures, rate and ETA. Results never go here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace ys {

class progress_meter {
 public:
  // Draws in place with '\r' on a terminal; elsewhere (CI logs) prints a line every few seconds.
  // `enabled` false makes every call a no-op (--quiet). `unit` names what is counted in the rate.
  progress_meter(std::string label, std::size_t total, bool enabled, std::FILE* sink = stderr,
                 std::string unit = "samples");

  // Thread-safe. Cheap enough to call once per sample.
  void advance(bool failed);
  // Prints the final line (always, when enabled).
  void finish();

 private:
  void draw_locked(bool final_line);

  std::string label_;
  std::string unit_;
  std::size_t total_;
  bool enabled_;
  std::FILE* sink_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
  std::size_t done_ = 0;
  std::size_t failed_ = 0;
};

// "1:02:03" or "2:03" for a duration in seconds.
std::string format_duration(double seconds);

}  // namespace ys
