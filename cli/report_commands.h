// `yardstick compare`, `gate` and `report`: commands that read finished runs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ys {

struct compare_command_options {
  std::filesystem::path run_a;
  std::filesystem::path run_b;
  std::string format = "text";  // text | json | md
  std::optional<std::string> metric;
  int resamples = 10000;
  std::uint64_t seed = 1234;
};

struct gate_command_options {
  std::filesystem::path baseline;
  std::filesystem::path current;
  double max_drop_points = 1.0;
  std::optional<std::string> metric;
  bool strict = false;
  std::optional<std::filesystem::path> junit;
  int resamples = 10000;
  std::uint64_t seed = 1234;
  bool allow_partial = false;  // judge the paired items even when some are unpaired
};

struct report_command_options {
  std::vector<std::filesystem::path> runs;
  std::vector<std::filesystem::path> profiles;  // `yardstick profile --format json` files
  std::string format = "md";                    // md | html | csv | json
  std::optional<std::filesystem::path> out;
};

// Each returns the process exit code; unusable input throws input_error (exit 2).
int compare_command(const compare_command_options& options);
int gate_command(const gate_command_options& options);  // 1 on a regression
int report_command(const report_command_options& options);

}  // namespace ys
