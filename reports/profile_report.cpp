#include "reports/profile_report.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/run_files.h"
#include "reports/compare.h"      // xml_escape
#include "reports/leaderboard.h"  // markdown_escape

namespace ys::reports {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kEmDash = "\u2014";
constexpr std::string_view kMicro = "\u00B5";

// ---------------------------------------------------------------------------------------------
// Reading

// Reads fields of one profile document; every error names the file and the field's full path.
class field_reader {
 public:
  explicit field_reader(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    throw input_error(file_, 0, field, problem);
  }

  static std::string path(std::string_view parent, std::string_view key) {
    return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
  }

  const json* optional(const json& object, std::string_view parent, const char* key) const {
    if (!object.is_object()) fail(parent, "not an object");
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  const json& required(const json& object, std::string_view parent, const char* key) const {
    const json* value = optional(object, parent, key);
    if (value == nullptr) fail(path(parent, key), "missing");
    return *value;
  }

  const json& object(const json& parent_object, std::string_view parent, const char* key) const {
    const json& value = required(parent_object, parent, key);
    if (!value.is_object()) fail(path(parent, key), "not an object");
    return value;
  }

  const json& array(const json& parent_object, std::string_view parent, const char* key) const {
    const json& value = required(parent_object, parent, key);
    if (!value.is_array()) fail(path(parent, key), "not an array");
    return value;
  }

  std::string text(const json& object, std::string_view parent, const char* key) const {
    const json& value = required(object, parent, key);
    if (!value.is_string()) fail(path(parent, key), "not a string");
    return value.get<std::string>();
  }

  double number(const json& object, std::string_view parent, const char* key) const {
    return number_value(required(object, parent, key), path(parent, key));
  }

  double number_value(const json& value, std::string_view field) const {
    if (!value.is_number()) fail(field, "not a number");
    const double number = value.get<double>();
    if (!std::isfinite(number)) fail(field, "not a finite number");
    return number;
  }

  // Values a log axis draws must be above zero.
  double positive(const json& object, std::string_view parent, const char* key) const {
    const double value = number(object, parent, key);
    if (!(value > 0.0)) fail(path(parent, key), fmt::format("must be > 0, not {}", value));
    return value;
  }

  std::int64_t whole(const json& object, std::string_view parent, const char* key,
                     std::int64_t minimum) const {
    const json& value = required(object, parent, key);
    if (!value.is_number_integer()) fail(path(parent, key), "not a whole number");
    const auto number = value.get<std::int64_t>();
    if (number < minimum) fail(path(parent, key), fmt::format("must be >= {}", minimum));
    return number;
  }

  bool boolean(const json& object, std::string_view parent, const char* key) const {
    const json& value = required(object, parent, key);
    if (!value.is_boolean()) fail(path(parent, key), "not true or false");
    return value.get<bool>();
  }

 private:
  std::string file_;
};

profile_layer_cost read_layer(const field_reader& in, const json& layer, const std::string& at,
                              bool sparse) {
  profile_layer_cost cost;
  cost.flops_per_token = in.number(layer, at, "flops_per_token");
  cost.bytes_per_token = in.number(layer, at, "bytes_per_token");
  cost.roofline_ns_per_token = in.number(layer, at, "roofline_ns_per_token");
  cost.measured_ns_per_token = in.positive(layer, at, "measured_ns_per_token");
  cost.achieved_flops_per_s = in.number(layer, at, "achieved_flops_per_s");
  cost.efficiency = in.number(layer, at, "efficiency");
  if (sparse) {
    if (const json* touched = in.optional(layer, at, "experts_touched"))
      cost.experts_touched = in.number_value(*touched, field_reader::path(at, "experts_touched"));
  }
  return cost;
}

profile_measurement read_measurement(const field_reader& in, const json& measured) {
  const std::string at = "measured";
  profile_measurement m;
  m.backend = in.text(measured, at, "backend");
  m.device = in.text(measured, at, "device");
  m.peak_flops = in.number(measured, at, "peak_flops");
  m.bandwidth_bytes_per_s = in.number(measured, at, "bandwidth_bytes_per_s");
  if (const json* noisy = in.optional(measured, at, "noisy_points")) {
    if (!noisy->is_array()) in.fail(at + ".noisy_points", "expected an array of token counts");
    for (const json& tokens : *noisy) {
      if (!tokens.is_number_integer()) in.fail(at + ".noisy_points", "expected token counts");
      m.noisy_points.push_back(tokens.get<std::int64_t>());
    }
  }

  const std::string shapes_at = at + ".shapes";
  const json& shapes = in.object(measured, at, "shapes");
  m.scale = in.positive(shapes, shapes_at, "scale");
  const json& dense = in.object(shapes, shapes_at, "dense");
  m.dense_d_model = in.whole(dense, shapes_at + ".dense", "d_model", 1);
  m.dense_d_ff = in.whole(dense, shapes_at + ".dense", "d_ff", 1);
  if (in.optional(shapes, shapes_at, "sparse") != nullptr) {
    const json& sparse = in.object(shapes, shapes_at, "sparse");
    const std::string sparse_at = shapes_at + ".sparse";
    m.sparse = profile_sparse_shape{
        in.whole(sparse, sparse_at, "d_model", 1), in.whole(sparse, sparse_at, "d_expert", 1),
        in.whole(sparse, sparse_at, "experts", 1), in.whole(sparse, sparse_at, "top_k", 1)};
  }

  const json& points = in.array(measured, at, "points");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string point_at = fmt::format("{}.points[{}]", at, i);
    const json& item = points[i];
    if (!item.is_object()) in.fail(point_at, "not an object");
    profile_measured_point point;
    point.tokens = in.whole(item, point_at, "tokens", 1);
    point.dense = read_layer(in, in.object(item, point_at, "dense"), point_at + ".dense", false);
    if (in.optional(item, point_at, "sparse") != nullptr) {
      point.sparse =
          read_layer(in, in.object(item, point_at, "sparse"), point_at + ".sparse", true);
    }
    if (in.optional(item, point_at, "time_ratio") != nullptr)
      point.time_ratio = in.number(item, point_at, "time_ratio");
    if (in.optional(item, point_at, "flop_ratio") != nullptr)
      point.flop_ratio = in.number(item, point_at, "flop_ratio");
    m.points.push_back(point);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Formatting

// A duration in ns with a unit a reader takes in at a glance: "24.34 ms", "860.4 µs".
std::string duration_text(double ns) {
  const double magnitude = std::abs(ns);
  if (magnitude >= 1e9) return fmt::format("{:.4g} s", ns / 1e9);
  if (magnitude >= 1e6) return fmt::format("{:.4g} ms", ns / 1e6);
  if (magnitude >= 1e3) return fmt::format("{:.4g} {}s", ns / 1e3, kMicro);
  return fmt::format("{:.4g} ns", ns);
}

// Whole nanoseconds with thousands separators, for the tables' ns/token columns.
std::string ns_text(double ns) {
  if (std::abs(ns) < 100.0) return fmt::format("{:.3g}", ns);
  std::string digits = fmt::format("{:.0f}", std::abs(ns));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return ns < 0 ? fmt::format("-{}", out) : out;
}

std::string ratio_text(const std::optional<double>& ratio) {
  return ratio ? fmt::format("{:.3f}", *ratio) : std::string(kEmDash);
}

std::string billions(std::int64_t count) {
  return fmt::format("{:.2f}B", static_cast<double>(count) / 1e9);
}

// A tick label of a power of ten nanoseconds: "1 ns", "10 µs", "1 ms", "100 s".
std::string decade_label(double ns) {
  struct unit {
    double scale;
    std::string_view name;
  };
  static const unit kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "\u00B5s"}, {1.0, "ns"}};
  for (const auto& u : kUnits) {
    if (ns >= u.scale * (1.0 - 1e-9)) return fmt::format("{:g} {}", ns / u.scale, u.name);
  }
  return fmt::format("{:g} ns", ns);
}

std::string shapes_text(const profile_measurement& m) {
  std::string text = fmt::format("dense d_model {}, d_ff {}", m.dense_d_model, m.dense_d_ff);
  if (m.sparse) {
    text += fmt::format("; sparse {} experts of width {}, top-{} (the same weights)",
                        m.sparse->experts, m.sparse->d_expert, m.sparse->top_k);
  }
  return text + fmt::format("; widths \u00D7 {:g} of the model's", m.scale);
}

// What one profile holds, in a sentence or two (plain text; the caller escapes it).
std::string profile_summary(const profile& p) {
  std::string text = fmt::format("{}, {} parameters, {} active per token. ", p.model_type,
                                 billions(p.total_params), billions(p.active_params));
  if (p.measured) {
    const auto& m = *p.measured;
    text += fmt::format(
        "One FFN layer timed on {} ({} back end; peak {:.1f} GFLOP/s, bandwidth {:.1f} GB/s): "
        "{}.",
        m.device, m.backend, m.peak_flops / 1e9, m.bandwidth_bytes_per_s / 1e9, shapes_text(m));
    if (!m.noisy_points.empty()) {
      text += fmt::format(
          " Warning: timings at {} tokens varied by more than 25% between passes (a busy "
          "machine); measure again before quoting them.",
          fmt::join(m.noisy_points, ", "));
    }
  } else {
    text += fmt::format(
        "Analytic decode step of the whole model on {} (roofline, weights-only "
        "bytes), per token of the batch.",
        p.device);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Chart geometry and style

constexpr double kChartWidth = 1040.0;
constexpr double kPlotLeft = 84.0;
constexpr double kPlotRight = kChartWidth - 24.0;
constexpr double kPlotTop = 64.0;
constexpr double kPlotHeight = 340.0;
constexpr double kPlotBottom = kPlotTop + kPlotHeight;
constexpr double kLegendTop = kPlotBottom + 62.0;
constexpr double kLegendRow = 22.0;
constexpr double kFontPx = 13.0;
constexpr double kSmallFontPx = 12.0;
constexpr std::size_t kLegendChars = 120;  // longer names are cut; the tooltip has them whole

constexpr std::string_view kInkColour = "#1f2328";
constexpr std::string_view kMutedColour = "#57606a";
constexpr std::string_view kGridColour = "#d8dee4";
constexpr std::string_view kMinorGridColour = "#eef1f4";
// Okabe and Ito's colour-blind-safe palette, one colour per profile; the kind of curve is told by
// its dashes and its marker shape, never by colour alone.
constexpr std::string_view kPalette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                         "#e69f00", "#56b4e9", "#000000"};

std::string_view curve_colour(const profile_curve& curve) {
  return kPalette[curve.profile_index % std::size(kPalette)];
}

std::string_view dash_attribute(curve_kind kind) {
  switch (kind) {
    case curve_kind::dense:
      return " stroke-dasharray=\"8 4\"";
    case curve_kind::analytic:
      return " stroke-dasharray=\"2 3\"";
    case curve_kind::sparse:
      break;
  }
  return "";
}

// Dense: a hollow square; sparse: a filled circle; analytic: a filled diamond.
std::string marker(curve_kind kind, double x, double y, std::string_view colour) {
  switch (kind) {
    case curve_kind::dense:
      return fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" height=\"8\" fill=\"#fff\" stroke=\"{}\" "
          "stroke-width=\"2\"/>",
          x - 4.0, y - 4.0, colour);
    case curve_kind::sparse:
      return fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" fill=\"{}\" stroke=\"#fff\" "
          "stroke-width=\"1\"/>",
          x, y, colour);
    case curve_kind::analytic:
      break;
  }
  return fmt::format("<path d=\"M{:.1f} {:.1f}l5 5l-5 5l-5 -5z\" fill=\"{}\"/>", x, y - 5.0,
                     colour);
}

std::string_view kind_text(curve_kind kind) {
  switch (kind) {
    case curve_kind::dense:
      return "dense";
    case curve_kind::sparse:
      return "sparse";
    case curve_kind::analytic:
      break;
  }
  return "analytic";
}

// Cuts a name to `limit` characters (not bytes: UTF-8 stays whole) and marks the cut.
std::string shorten(std::string_view text, std::size_t limit) {
  std::size_t characters = 0;
  for (std::size_t at = 0; at < text.size(); ++at) {
    if ((static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) continue;
    if (++characters > limit) return std::string(text.substr(0, at)) + "\u2026";
  }
  return std::string(text);
}

// The range of whole powers of `base` that holds every value; at least one power wide.
std::pair<int, int> power_range(const std::vector<double>& values, double base) {
  if (values.empty()) return {0, 1};
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const int from = static_cast<int>(std::floor(std::log(*low) / std::log(base) + 1e-9));
  int to = static_cast<int>(std::ceil(std::log(*high) / std::log(base) - 1e-9));
  if (to <= from) to = from + 1;
  return {from, to};
}

// A run's summary (`yardstick run` writes DIR/run.json) rather than a profile: the keys of a run
// and none of a profile's.
bool looks_like_run_summary(const json& document) {
  return document.is_object() && !document.contains("batch_sweep") && document.contains("task") &&
         (document.contains("metrics") || document.contains("status"));
}

// The widths' scale for a legend: "1/8" when it is a power of 1/2, else a decimal ("0.3").
std::string scale_text(double scale) {
  if (scale > 0.0 && scale < 1.0) {
    const double halvings = std::round(std::log2(1.0 / scale));
    const double power = std::ldexp(1.0, -static_cast<int>(halvings));
    if (halvings >= 1.0 && halvings <= 62.0 && std::abs(power - scale) <= 1e-9 * scale) {
      return fmt::format("1/{}", std::int64_t{1} << static_cast<int>(halvings));
    }
  }
  return fmt::format("{:.3g}", scale);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

profile parse_profile(const nlohmann::json& document, std::string_view file) {
  const field_reader in(file);
  if (!document.is_object()) in.fail("", "not a JSON object");
  if (looks_like_run_summary(document)) {
    throw input_error(fmt::format(
        "{} is a run.json, not a profile; pass its directory as a run, or make a profile with "
        "`yardstick profile --format json`",
        file));
  }
  const json& version = in.required(document, "", "schema_version");
  if (!version.is_number_integer()) {
    throw input_error(
        fmt::format("{}: profile schema_version {} is not supported: this yardstick reads "
                    "schema_version {}, a whole number",
                    file, version.dump(), kProfileSchemaVersion));
  }
  if (version.get<std::int64_t>() > kProfileSchemaVersion) {
    throw input_error(fmt::format(
        "{}: profile schema_version {} was written by a newer yardstick (this one reads "
        "schema_version {}); upgrade yardstick to read it",
        file, version.dump(), kProfileSchemaVersion));
  }
  if (version.get<std::int64_t>() < kProfileSchemaVersion) {
    throw input_error(fmt::format(
        "{}: profile schema_version {} was written by an older yardstick (this one reads "
        "schema_version {}); write it again with this version's `yardstick profile --format "
        "json`",
        file, version.dump(), kProfileSchemaVersion));
  }
  profile p;
  p.file = std::string(file);
  p.model = in.text(document, "", "model");
  p.model_type = in.text(document, "", "model_type");
  p.total_params = in.whole(document, "", "total_params", 0);
  p.active_params = in.whole(document, "", "active_params", 0);
  const json& device = in.object(document, "", "device");
  p.device = in.text(device, "device", "name");
  p.device_peak_flops = in.number(device, "device", "peak_flops");
  p.device_bandwidth_bytes_per_s = in.number(device, "device", "bandwidth_bytes_per_s");
  const json& sweep = in.array(document, "", "batch_sweep");
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    const std::string at = fmt::format("batch_sweep[{}]", i);
    if (!sweep[i].is_object()) in.fail(at, "not an object");
    p.batch_sweep.push_back({in.whole(sweep[i], at, "batch", 1),
                             in.positive(sweep[i], at, "ns_per_token"),
                             in.boolean(sweep[i], at, "compute_bound")});
  }
  if (in.optional(document, "", "measured") != nullptr) {
    p.measured = read_measurement(in, in.object(document, "", "measured"));
  }
  return p;
}

profile load_profile(const std::filesystem::path& path) {
  const std::string text = read_text_file(path, "profile");
  return parse_profile(parse_json_text(text, path.string()), path.string());
}

// ---------------------------------------------------------------------------------------------
// Curves

std::vector<profile_curve> profile_curves(const std::vector<profile>& profiles) {
  std::vector<profile_curve> curves;
  for (std::size_t index = 0; index < profiles.size(); ++index) {
    const profile& p = profiles[index];
    if (p.measured) {
      const auto& m = *p.measured;
      // How the curve was measured: the back end, and the widths when they are not the model's.
      std::string how = fmt::format("measured, {}", m.backend);
      if (m.scale != 1.0) how += fmt::format(", \u00D7{} widths", scale_text(m.scale));
      profile_curve dense{
          fmt::format("{} dense layer ({})", p.model, how), curve_kind::dense, index, {}};
      profile_curve sparse{
          fmt::format("{} sparse layer ({})", p.model, how), curve_kind::sparse, index, {}};
      for (const auto& point : m.points) {
        const auto detail = [](const profile_layer_cost& cost) {
          return fmt::format("roofline {} ns, efficiency {:.1f}%, {:.2f} GFLOP/s achieved",
                             cost.roofline_ns_per_token, 100.0 * cost.efficiency,
                             cost.achieved_flops_per_s / 1e9);
        };
        const auto tokens = static_cast<double>(point.tokens);
        dense.points.push_back({tokens, point.dense.measured_ns_per_token, detail(point.dense)});
        if (point.sparse) {
          std::string text = detail(*point.sparse);
          if (point.sparse->experts_touched)
            text += fmt::format(", {:g} experts touched", *point.sparse->experts_touched);
          if (point.time_ratio)
            text += fmt::format(", {:.3f}\u00D7 the dense time", *point.time_ratio);
          sparse.points.push_back({tokens, point.sparse->measured_ns_per_token, text});
        }
      }
      curves.push_back(std::move(dense));
      if (!sparse.points.empty()) curves.push_back(std::move(sparse));
    } else {
      profile_curve analytic{fmt::format("{} (analytic decode, {})", p.model, p.device),
                             curve_kind::analytic,
                             index,
                             {}};
      for (const auto& point : p.batch_sweep) {
        analytic.points.push_back({static_cast<double>(point.batch), point.ns_per_token,
                                   point.compute_bound ? "compute-bound" : "memory-bound"});
      }
      curves.push_back(std::move(analytic));
    }
  }
  for (auto& curve : curves) {
    std::stable_sort(
        curve.points.begin(), curve.points.end(),
        [](const curve_point& a, const curve_point& b) { return a.tokens < b.tokens; });
  }
  std::erase_if(curves, [](const profile_curve& curve) { return curve.points.empty(); });
  return curves;
}

// ---------------------------------------------------------------------------------------------
// The chart

double log_axis::position(double value) const {
  const double power = std::log(value) / std::log(base);
  return from_px + (power - low_power) / (high_power - low_power) * (to_px - from_px);
}

profile_chart_layout layout_profile_chart(const std::vector<profile_curve>& curves) {
  std::vector<double> tokens;
  std::vector<double> ns;
  for (const auto& curve : curves) {
    for (const auto& point : curve.points) {
      tokens.push_back(point.tokens);
      ns.push_back(point.ns_per_token);
    }
  }
  profile_chart_layout layout;
  const auto [x_low, x_high] = power_range(tokens, 2.0);
  const auto [y_low, y_high] = power_range(ns, 10.0);
  layout.x = {2.0, x_low, x_high, kPlotLeft, kPlotRight};
  layout.y = {10.0, y_low, y_high, kPlotBottom, kPlotTop};
  layout.width = kChartWidth;
  layout.height =
      kLegendTop + static_cast<double>(std::max<std::size_t>(curves.size(), 1)) * kLegendRow + 8.0;
  return layout;
}

std::string render_profile_svg(const std::vector<profile>& profiles) {
  const std::vector<profile_curve> curves = profile_curves(profiles);
  const profile_chart_layout layout = layout_profile_chart(curves);
  std::string svg;
  auto out = std::back_inserter(svg);

  const std::string title = "Cost per token vs batch size";
  const std::string subtitle =
      "time per token against tokens per step, both axes logarithmic; dashed: dense layer, "
      "solid: sparse (MoE) layer, dotted: analytic decode";
  fmt::format_to(out,
                 "<svg class=\"chart\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
                 "{1:.0f}\" role=\"img\" aria-labelledby=\"profile-title profile-desc\">\n"
                 "<title id=\"profile-title\">{2}</title>\n<desc id=\"profile-desc\">{3}</desc>\n"
                 "<text x=\"0\" y=\"20\" font-size=\"16\" font-weight=\"700\" fill=\"{4}\">{2}"
                 "</text>\n<text x=\"0\" y=\"40\" font-size=\"{5}\" fill=\"{6}\">{3}</text>\n",
                 layout.width, layout.height, xml_escape(title), xml_escape(subtitle), kInkColour,
                 kSmallFontPx, kMutedColour);

  // The y grid: a labelled line per power of ten, light lines at 2-9 times it; when the data span
  // a single decade, 2 and 5 are labelled as well.
  const log_axis& y = layout.y;
  const bool one_decade = y.high_power - y.low_power == 1;
  for (int power = y.low_power; power <= y.high_power; ++power) {
    const double decade = std::pow(10.0, power);
    for (int factor = 1; factor <= 9; ++factor) {
      if (power == y.high_power && factor > 1) break;
      const double value = factor * decade;
      const double py = y.position(value);
      const bool labelled = factor == 1 || (one_decade && (factor == 2 || factor == 5));
      fmt::format_to(out,
                     "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
                     "stroke=\"{}\"/>\n",
                     kPlotLeft, py, kPlotRight, py, factor == 1 ? kGridColour : kMinorGridColour);
      if (labelled) {
        fmt::format_to(out,
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" dy=\"0.35em\" font-size=\"{}\" "
                       "fill=\"{}\" text-anchor=\"end\">{}</text>\n",
                       kPlotLeft - 8.0, py, kSmallFontPx, kMutedColour,
                       xml_escape(decade_label(value)));
      }
    }
  }
  // The x grid: a line per power of two (every other one past a dozen).
  const log_axis& x = layout.x;
  const int x_step = x.high_power - x.low_power > 12 ? 2 : 1;
  for (int power = x.low_power; power <= x.high_power; power += x_step) {
    const double value = std::pow(2.0, power);
    const double px = x.position(value);
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
                   "stroke=\"{3}\"/>\n<text x=\"{0:.1f}\" y=\"{4:.1f}\" font-size=\"{5}\" "
                   "fill=\"{6}\" text-anchor=\"middle\">{7:g}</text>\n",
                   px, kPlotTop, kPlotBottom, kGridColour, kPlotBottom + 18.0, kSmallFontPx,
                   kMutedColour, value);
  }
  fmt::format_to(out,
                 "<path d=\"M{0:.1f} {1:.1f}V{2:.1f}H{3:.1f}\" fill=\"none\" stroke=\"{4}\"/>\n",
                 kPlotLeft, kPlotTop, kPlotBottom, kPlotRight, kMutedColour);
  fmt::format_to(out,
                 "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" fill=\"{}\" "
                 "text-anchor=\"middle\">batch size (tokens per step, log scale)</text>\n",
                 (kPlotLeft + kPlotRight) / 2.0, kPlotBottom + 40.0, kSmallFontPx, kMutedColour);
  const double y_title_x = 16.0;
  const double y_title_y = (kPlotTop + kPlotBottom) / 2.0;
  fmt::format_to(out,
                 "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"{2}\" fill=\"{3}\" "
                 "text-anchor=\"middle\" transform=\"rotate(-90 {0:.1f} {1:.1f})\">time per token "
                 "(log scale)</text>\n",
                 y_title_x, y_title_y, kSmallFontPx, kMutedColour);

  if (curves.empty()) {
    fmt::format_to(out,
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" fill=\"{}\" "
                   "text-anchor=\"middle\">no points to draw</text>\n",
                   (kPlotLeft + kPlotRight) / 2.0, y_title_y, kFontPx, kMutedColour);
  }

  for (std::size_t i = 0; i < curves.size(); ++i) {
    const profile_curve& curve = curves[i];
    const std::string_view colour = curve_colour(curve);
    fmt::format_to(out, "<g class=\"curve {}\">\n<polyline points=\"", kind_text(curve.kind));
    for (std::size_t j = 0; j < curve.points.size(); ++j) {
      fmt::format_to(out, "{}{:.1f},{:.1f}", j > 0 ? " " : "", x.position(curve.points[j].tokens),
                     y.position(curve.points[j].ns_per_token));
    }
    fmt::format_to(out,
                   "\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}/>"
                   "\n",
                   colour, dash_attribute(curve.kind));
    for (const auto& point : curve.points) {
      const std::string tip =
          fmt::format("{}: {:g} token{}, {} per token ({} ns); {}", curve.name, point.tokens,
                      point.tokens == 1.0 ? "" : "s", duration_text(point.ns_per_token),
                      point.ns_per_token, point.detail);
      fmt::format_to(
          out, "<g><title>{}</title>{}</g>\n", xml_escape(tip),
          marker(curve.kind, x.position(point.tokens), y.position(point.ns_per_token), colour));
    }
    svg += "</g>\n";

    // The legend: a sample of the line with its marker, and the name.
    const double row_y = kLegendTop + static_cast<double>(i) * kLegendRow;
    fmt::format_to(out,
                   "<g><title>{0}</title><line x1=\"{1:.1f}\" y1=\"{2:.1f}\" x2=\"{3:.1f}\" "
                   "y2=\"{2:.1f}\" stroke=\"{4}\" stroke-width=\"2\"{5}/>{6}<text x=\"{7:.1f}\" "
                   "y=\"{2:.1f}\" dy=\"0.35em\" font-size=\"{8}\" fill=\"{9}\">{10}</text></g>\n",
                   xml_escape(curve.name), kPlotLeft, row_y, kPlotLeft + 40.0, colour,
                   dash_attribute(curve.kind), marker(curve.kind, kPlotLeft + 20.0, row_y, colour),
                   kPlotLeft + 52.0, kFontPx, kInkColour,
                   xml_escape(shorten(curve.name, kLegendChars)));
  }
  svg += "</svg>\n";
  return svg;
}

// ---------------------------------------------------------------------------------------------
// Tables

namespace {

struct table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string caption;
};

table profile_table(const profile& p) {
  table t;
  if (p.measured) {
    t.header = {"tokens", "dense ns/token", "sparse ns/token", "time ratio", "FLOP ratio"};
    for (const auto& point : p.measured->points) {
      t.rows.push_back(
          {std::to_string(point.tokens), ns_text(point.dense.measured_ns_per_token),
           point.sparse ? ns_text(point.sparse->measured_ns_per_token) : std::string(kEmDash),
           ratio_text(point.time_ratio), ratio_text(point.flop_ratio)});
    }
    t.caption =
        "Measured time per token of one FFN layer at each token count (batch size); time ratio = "
        "sparse / dense time, FLOP ratio = sparse / dense FLOPs (the layer's active share).";
  } else {
    t.header = {"batch", "ns/token", "bound"};
    for (const auto& point : p.batch_sweep) {
      t.rows.push_back({std::to_string(point.batch), ns_text(point.ns_per_token),
                        point.compute_bound ? "compute" : "memory"});
    }
    t.caption = fmt::format(
        "Analytic decode time per token of the whole model on {} at each batch size: "
        "max(FLOPs / peak, bytes / bandwidth) for one step, over the batch.",
        p.device);
  }
  return t;
}

std::string markdown_cells(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& cell : cells)
    out += fmt::format(" {} |", markdown_escape(cell));
  return out + "\n";
}

std::string heading(const profile& p) {
  return p.measured ? fmt::format("{} (measured, {})", p.model, p.measured->backend)
                    : fmt::format("{} (analytic, {})", p.model, p.device);
}

constexpr std::string_view kIntro =
    "How the cost of a token falls as tokens share a step. Measured curves time one FFN layer on "
    "the machine that ran yardstick profile --measure: dense is a layer with the same weights "
    "as the mixture-of-experts layer but no routing, sparse is the MoE layer itself. Analytic "
    "curves are the whole model's decode step on the named GPU from the roofline. The two kinds "
    "measure different things (one layer on this machine, the whole model on a data sheet's "
    "GPU); compare curves of one kind.";

}  // namespace

std::string render_profile_markdown(const std::vector<profile>& profiles) {
  std::string out = fmt::format("## Dense vs sparse cost\n\n{}\n", markdown_escape(kIntro));
  for (const auto& p : profiles) {
    const table t = profile_table(p);
    out += fmt::format("\n### {}\n\n{} From {}.\n\n", markdown_escape(heading(p)),
                       markdown_escape(profile_summary(p)), markdown_escape(p.file));
    out += markdown_cells(t.header) + "|";
    for (std::size_t i = 0; i < t.header.size(); ++i)
      out += " ---: |";
    out += "\n";
    for (const auto& row : t.rows)
      out += markdown_cells(row);
    out += fmt::format("\n{}\n", markdown_escape(t.caption));
  }
  return out;
}

std::string render_profile_html(const std::vector<profile>& profiles) {
  std::string html = "<section class=\"profiles\">\n<h2>Dense vs sparse cost</h2>\n";
  auto out = std::back_inserter(html);
  fmt::format_to(out, "<p class=\"lede\">{}</p>\n<figure>\n{}</figure>\n", xml_escape(kIntro),
                 render_profile_svg(profiles));
  for (const auto& p : profiles) {
    const table t = profile_table(p);
    fmt::format_to(out, "<h3>{}</h3>\n<p class=\"lede\">{} From <code>{}</code>.</p>\n",
                   xml_escape(heading(p)), xml_escape(profile_summary(p)), xml_escape(p.file));
    fmt::format_to(out, "<div class=\"table-wrap\">\n<table>\n<caption>{}</caption>\n<thead>\n<tr>",
                   xml_escape(t.caption));
    for (const auto& name : t.header)
      fmt::format_to(out, "<th scope=\"col\">{}</th>", xml_escape(name));
    html += "</tr>\n</thead>\n<tbody>\n";
    for (const auto& row : t.rows) {
      html += "<tr>";
      for (const auto& cell : row)
        fmt::format_to(out, "<td>{}</td>", xml_escape(cell));
      html += "</tr>\n";
    }
    html += "</tbody>\n</table>\n</div>\n";
  }
  html += "</section>\n";
  return html;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

ordered_json layer_json(const profile_layer_cost& cost) {
  ordered_json out = {{"flops_per_token", cost.flops_per_token},
                      {"bytes_per_token", cost.bytes_per_token},
                      {"roofline_ns_per_token", cost.roofline_ns_per_token},
                      {"measured_ns_per_token", cost.measured_ns_per_token},
                      {"achieved_flops_per_s", cost.achieved_flops_per_s},
                      {"efficiency", cost.efficiency}};
  if (cost.experts_touched) out["experts_touched"] = *cost.experts_touched;
  return out;
}

ordered_json measurement_json(const profile_measurement& m) {
  ordered_json shapes = {{"scale", m.scale},
                         {"dense", {{"d_model", m.dense_d_model}, {"d_ff", m.dense_d_ff}}}};
  if (m.sparse) {
    shapes["sparse"] = {{"d_model", m.sparse->d_model},
                        {"d_expert", m.sparse->d_expert},
                        {"experts", m.sparse->experts},
                        {"top_k", m.sparse->top_k}};
  }
  ordered_json points = ordered_json::array();
  for (const auto& point : m.points) {
    ordered_json item = {{"tokens", point.tokens}, {"dense", layer_json(point.dense)}};
    if (point.sparse) item["sparse"] = layer_json(*point.sparse);
    if (point.time_ratio) item["time_ratio"] = *point.time_ratio;
    if (point.flop_ratio) item["flop_ratio"] = *point.flop_ratio;
    points.push_back(std::move(item));
  }
  return {{"backend", m.backend},
          {"device", m.device},
          {"peak_flops", m.peak_flops},
          {"bandwidth_bytes_per_s", m.bandwidth_bytes_per_s},
          {"shapes", shapes},
          {"points", points},
          {"noisy_points", m.noisy_points}};
}

}  // namespace

nlohmann::ordered_json profiles_to_json(const std::vector<profile>& profiles) {
  ordered_json out = ordered_json::array();
  for (const auto& p : profiles) {
    ordered_json item = {{"file", p.file},
                         {"schema_version", kProfileSchemaVersion},
                         {"model", p.model},
                         {"model_type", p.model_type},
                         {"total_params", p.total_params},
                         {"active_params", p.active_params},
                         {"device",
                          {{"name", p.device},
                           {"peak_flops", p.device_peak_flops},
                           {"bandwidth_bytes_per_s", p.device_bandwidth_bytes_per_s}}}};
    ordered_json sweep = ordered_json::array();
    for (const auto& point : p.batch_sweep) {
      sweep.push_back({{"batch", point.batch},
                       {"ns_per_token", point.ns_per_token},
                       {"compute_bound", point.compute_bound}});
    }
    item["batch_sweep"] = std::move(sweep);
    if (p.measured) item["measured"] = measurement_json(*p.measured);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace ys::reports
