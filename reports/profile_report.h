// The profile section of `yardstick report`: reads the JSON that `yardstick profile --format json`
// writes (schema_version 2) and draws the cost per token against batch size, measured (one FFN
// layer, dense and sparse, timed on the machine that ran --measure) or analytic (the whole model's
// decode on the named GPU, from the roofline), as an inline SVG chart, Markdown and HTML tables,
// and JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ys::reports {

inline constexpr int kProfileSchemaVersion = 2;

// One decode step of the whole model on the profile's GPU, per token of the batch.
struct profile_sweep_point {
  std::int64_t batch = 0;
  double ns_per_token = 0.0;
  bool compute_bound = false;
};

// One timed FFN layer at one token count, per token.
struct profile_layer_cost {
  double flops_per_token = 0.0;
  double bytes_per_token = 0.0;
  double roofline_ns_per_token = 0.0;
  double measured_ns_per_token = 0.0;
  double achieved_flops_per_s = 0.0;
  double efficiency = 0.0;                // roofline / measured
  std::optional<double> experts_touched;  // sparse only
};

struct profile_measured_point {
  std::int64_t tokens = 0;  // the batch size
  profile_layer_cost dense;
  std::optional<profile_layer_cost> sparse;  // absent for a dense model
  std::optional<double> time_ratio;          // sparse / dense time
  std::optional<double> flop_ratio;          // sparse / dense FLOPs
};

struct profile_sparse_shape {
  std::int64_t d_model = 0;
  std::int64_t d_expert = 0;
  std::int64_t experts = 0;
  std::int64_t top_k = 0;
};

struct profile_measurement {
  std::string backend;  // "cpu" or "cuda"
  std::string device;   // what it ran on, in words
  double peak_flops = 0.0;
  double bandwidth_bytes_per_s = 0.0;
  double scale = 1.0;  // the widths relative to the model's
  std::int64_t dense_d_model = 0;
  std::int64_t dense_d_ff = 0;
  std::optional<profile_sparse_shape> sparse;
  std::vector<profile_measured_point> points;
  // Token counts whose timings varied by more than 25% between passes (a busy machine); optional.
  std::vector<std::int64_t> noisy_points;
};

struct profile {
  std::string file;   // where it was read from, for messages and the report
  std::string model;  // a preset name or the config path it was made from
  std::string model_type;
  std::int64_t total_params = 0;
  std::int64_t active_params = 0;
  std::string device;  // the GPU of the analytic numbers
  double device_peak_flops = 0.0;
  double device_bandwidth_bytes_per_s = 0.0;
  std::vector<profile_sweep_point> batch_sweep;
  std::optional<profile_measurement> measured;
};

// Reads a parsed profile document. `file` names it in errors: input_error with "FILE: field
// 'measured.points[2].dense.measured_ns_per_token': missing". A schema_version other than 2 is
// refused, saying whether a newer yardstick wrote it (upgrade) or an older one (write it again);
// a run's run.json is recognised and named as such.
profile parse_profile(const nlohmann::json& document, std::string_view file);
// Reads and parses a profile file; input_error names the file when it cannot.
profile load_profile(const std::filesystem::path& path);

enum class curve_kind { analytic, dense, sparse };

struct curve_point {
  double tokens = 0.0;
  double ns_per_token = 0.0;
  std::string detail;  // extra tooltip text
};

// One line of the chart: measured profiles give "<model> dense layer (measured, <backend>)" and,
// for a mixture of experts, "<model> sparse layer (measured, <backend>)", both with the widths'
// scale when it is not 1 ("(measured, cpu, ×1/8 widths)"; a power of 1/2 as a fraction, else a
// decimal); analytic-only profiles give "<model> (analytic decode, <device>)" from the batch
// sweep.
struct profile_curve {
  std::string name;
  curve_kind kind = curve_kind::analytic;
  std::size_t profile_index = 0;  // which profile: picks the colour
  std::vector<curve_point> points;
};

std::vector<profile_curve> profile_curves(const std::vector<profile>& profiles);

// A logarithmic axis: value base^low_power sits at pixel from_px, base^high_power at to_px.
struct log_axis {
  double base = 10.0;
  int low_power = 0;
  int high_power = 1;
  double from_px = 0.0;
  double to_px = 1.0;
  double position(double value) const;
};

struct profile_chart_layout {
  log_axis x;  // tokens, base 2, left to right
  log_axis y;  // ns per token, base 10, bottom to top
  double width = 0.0;
  double height = 0.0;
};

// Where the chart puts things for these curves (the axes span whole powers around the data).
profile_chart_layout layout_profile_chart(const std::vector<profile_curve>& curves);

// "Cost per token vs batch size": an inline SVG line chart, log2 tokens against log10 ns per
// token, one polyline with point markers per curve (dashed for dense, solid for sparse, dotted
// for analytic), a legend, and a <title> tooltip with the exact values on every point.
std::string render_profile_svg(const std::vector<profile>& profiles);
// "## Dense vs sparse cost" and a table per profile.
std::string render_profile_markdown(const std::vector<profile>& profiles);
// The same as an HTML section (heading, chart, tables) for the leaderboard page.
std::string render_profile_html(const std::vector<profile>& profiles);
// The parsed profiles as the report's "profiles" array.
nlohmann::ordered_json profiles_to_json(const std::vector<profile>& profiles);

}  // namespace ys::reports
