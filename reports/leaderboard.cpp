#include "reports/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "harness/errors.h"
#include "reports/compare.h"  // lower_is_better, shared with the regression gate

namespace ys::reports {
namespace {

using nlohmann::json;

constexpr int kSchemaVersion = 1;

// Typography for the tables people read; the CSV and JSON for programs stay plain ASCII numbers.
constexpr std::string_view kEnDash = "\u2013";
constexpr std::string_view kEmDash = "\u2014";
constexpr std::string_view kMinus = "\u2212";
constexpr std::string_view kEllipsis = "\u2026";

// The level at which the delta chart colours a difference as a change rather than noise.
constexpr double kSignificance = 0.05;

// ---------------------------------------------------------------------------------------------
// Reading run.json

struct run_metric {
  std::string name;
  metric_cell cell;
};

struct run_entry {
  std::size_t position = 0;  // 1-based place in the input, so that warnings can point at a run
  std::string label;
  std::string task;
  std::string versions;     // "task 1, prompt 1, scorer 1"
  std::string version_tag;  // "t1-p1-s1", part of a column key when versions differ
  std::string primary;
  std::vector<run_metric> metrics;
  std::size_t scored = 0;
  long long total_tokens = 0;
  double latency_mean_s = 0.0;
  double requests_timed = 0.0;
};

[[noreturn]] void bad_field(std::size_t position, std::string_view field,
                            std::string_view problem) {
  throw input_error(fmt::format("run.json #{}", position), 0, field, problem);
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string required_string(const json& object, const char* key, std::string_view field,
                            std::size_t position) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string())
    bad_field(position, field, "missing or not a string");
  return value->get<std::string>();
}

// run.json writes versions as strings ("1"); hand-made files may use numbers.
std::string version_text(const json& task, const char* key) {
  const json* value = member(task, key);
  if (value == nullptr || value->is_null()) return "?";
  return value->is_string() ? value->get<std::string>() : value->dump();
}

double number_or(const json* value, double fallback) {
  return value != nullptr && value->is_number() ? value->get<double>() : fallback;
}

double nested_number(const json& run, const char* object, const char* key) {
  const json* parent = member(run, object);
  return parent == nullptr ? 0.0 : number_or(member(*parent, key), 0.0);
}

std::optional<metric_cell> read_cell(const json& metric, const std::string& name,
                                     std::size_t position) {
  const std::string field = "metrics." + name;
  if (!metric.is_object()) bad_field(position, field, "not an object");
  const json* value = member(metric, "value");
  // A metric that no sample scored has no value: it is left out, as run.json itself does.
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_number()) bad_field(position, field + ".value", "not a number");
  metric_cell cell;
  cell.value = value->get<double>();
  cell.ci_low = cell.value;
  cell.ci_high = cell.value;
  if (const json* ci = member(metric, "ci95"); ci != nullptr && !ci->is_null()) {
    if (!ci->is_array() || ci->size() != 2 || !(*ci)[0].is_number() || !(*ci)[1].is_number())
      bad_field(position, field + ".ci95", "not a pair of numbers");
    cell.ci_low = (*ci)[0].get<double>();
    cell.ci_high = (*ci)[1].get<double>();
  }
  cell.n = static_cast<std::size_t>(std::max(0.0, number_or(member(metric, "n"), 0.0)));
  return cell;
}

run_entry read_run(const json& run, std::size_t position) {
  if (!run.is_object()) bad_field(position, "", "not a JSON object");
  run_entry entry;
  entry.position = position;
  entry.label = required_string(run, "label", "label", position);
  const json* task = member(run, "task");
  if (task == nullptr || !task->is_object())
    bad_field(position, "task", "missing or not an object");
  entry.task = required_string(*task, "name", "task.name", position);
  const std::string task_version = version_text(*task, "task_version");
  const std::string prompt_version = version_text(*task, "prompt_version");
  const std::string scorer_version = version_text(*task, "scorer_version");
  entry.versions =
      fmt::format("task {}, prompt {}, scorer {}", task_version, prompt_version, scorer_version);
  entry.version_tag = fmt::format("t{}-p{}-s{}", task_version, prompt_version, scorer_version);
  entry.primary = required_string(run, "primary_metric", "primary_metric", position);
  const json* metrics = member(run, "metrics");
  if (metrics == nullptr || !metrics->is_object())
    bad_field(position, "metrics", "missing or not an object");
  for (const auto& [name, metric] : metrics->items()) {
    if (auto cell = read_cell(metric, name, position)) entry.metrics.push_back({name, *cell});
  }
  entry.scored = static_cast<std::size_t>(std::max(0.0, nested_number(run, "counts", "scored")));
  entry.total_tokens = std::llround(nested_number(run, "usage", "total_tokens"));
  entry.latency_mean_s = nested_number(run, "latency", "mean_s");
  entry.requests_timed = std::max(0.0, nested_number(run, "latency", "requests_timed"));
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Building the table

struct version_group {
  std::string versions;
  std::string tag;
  std::string primary;
  std::vector<std::string> metrics;
  std::vector<std::string> labels;
};

struct task_group {
  std::string name;
  std::vector<version_group> groups;
};

template <class range, class predicate>
auto* find_in(range& items, predicate&& matches) {
  const auto it = std::find_if(items.begin(), items.end(), std::forward<predicate>(matches));
  return it == items.end() ? nullptr : &*it;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// Later runs of the same label, task and versions replace earlier ones (a rerun after a fix);
// the replacement keeps the first one's place so that rows do not move.
std::vector<run_entry> latest_runs(const std::vector<json>& runs,
                                   std::vector<std::string>& warnings) {
  std::vector<run_entry> kept;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> slot;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    run_entry entry = read_run(runs[i], i + 1);
    const auto key = std::make_tuple(entry.label, entry.task, entry.versions);
    if (const auto it = slot.find(key); it != slot.end()) {
      run_entry& earlier = kept[it->second];
      warnings.push_back(
          fmt::format("\"{}\" has more than one run of {} ({}): run.json #{} replaces #{}",
                      entry.label, entry.task, entry.versions, entry.position, earlier.position));
      earlier = std::move(entry);
    } else {
      slot.emplace(key, kept.size());
      kept.push_back(std::move(entry));
    }
  }
  return kept;
}

std::vector<task_group> group_by_task(const std::vector<run_entry>& runs) {
  std::vector<task_group> tasks;
  for (const auto& run : runs) {
    task_group* task = find_in(tasks, [&](const task_group& t) { return t.name == run.task; });
    if (task == nullptr) task = &tasks.emplace_back(task_group{run.task, {}});
    version_group* group =
        find_in(task->groups, [&](const version_group& g) { return g.versions == run.versions; });
    if (group == nullptr) {
      group = &task->groups.emplace_back(
          version_group{run.versions, run.version_tag, run.primary, {}, {}});
    }
    if (std::find(group->labels.begin(), group->labels.end(), run.label) == group->labels.end())
      group->labels.push_back(run.label);
    for (const auto& metric : run.metrics) {
      if (std::find(group->metrics.begin(), group->metrics.end(), metric.name) ==
          group->metrics.end())
        group->metrics.push_back(metric.name);
    }
  }
  for (auto& task : tasks) {
    for (auto& group : task.groups) {
      std::stable_partition(group.metrics.begin(), group.metrics.end(),
                            [&](const std::string& m) { return m == group.primary; });
    }
  }
  return tasks;
}

}  // namespace

leaderboard build_leaderboard(const std::vector<nlohmann::json>& runs) {
  leaderboard board;
  const std::vector<run_entry> kept = latest_runs(runs, board.warnings);
  const std::vector<task_group> tasks = group_by_task(kept);

  // (task, versions, metric) -> column key
  std::map<std::tuple<std::string, std::string, std::string>, std::string> key_of;
  for (const auto& task : tasks) {
    const bool split = task.groups.size() > 1;
    if (split) {
      std::vector<std::string> parts;
      for (const auto& group : task.groups)
        parts.push_back(fmt::format("{} ({})", group.versions, join(group.labels, ", ")));
      board.warnings.push_back(
          fmt::format("{} has runs of different versions, kept in separate columns: {}", task.name,
                      join(parts, "; ")));
    }
    for (const auto& group : task.groups) {
      for (const auto& metric : group.metrics) {
        const std::string key =
            task.name + (split ? "@" + group.tag : std::string()) + "/" + metric;
        board.columns.push_back({key, task.name, metric, group.versions});
        key_of[{task.name, group.versions, metric}] = key;
      }
    }
  }

  std::map<std::string, std::size_t> row_of;
  std::vector<double> latency_weighted;
  std::vector<double> latency_requests;
  for (const auto& run : kept) {
    auto [it, added] = row_of.try_emplace(run.label, board.rows.size());
    if (added) {
      board.rows.push_back({run.label, {}, 0, 0, 0.0});
      latency_weighted.push_back(0.0);
      latency_requests.push_back(0.0);
    }
    const std::size_t index = it->second;
    leaderboard_row& row = board.rows[index];
    row.samples += run.scored;
    row.total_tokens += run.total_tokens;
    // Runs are weighted by their timed requests so that a short run does not count as much as
    // a long one.
    latency_weighted[index] += run.latency_mean_s * run.requests_timed;
    latency_requests[index] += run.requests_timed;
    for (const auto& metric : run.metrics)
      row.cells[key_of.at({run.task, run.versions, metric.name})] = metric.cell;
  }
  for (std::size_t i = 0; i < board.rows.size(); ++i) {
    board.rows[i].mean_latency_s =
        latency_requests[i] > 0.0 ? latency_weighted[i] / latency_requests[i] : 0.0;
  }

  for (const auto& column : board.columns) {
    const bool lower = lower_is_better(column.metric);
    const leaderboard_row* best = nullptr;
    double best_value = 0.0;
    for (const auto& row : board.rows) {
      const auto cell = row.cells.find(column.key);
      if (cell == row.cells.end()) continue;
      const double value = cell->second.value;
      if (best == nullptr || (lower ? value < best_value : value > best_value)) {
        best = &row;
        best_value = value;
      }
    }
    if (best != nullptr) board.best[column.key] = best->label;
  }
  return board;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Shared formatting

// Whether the tables and charts mark this value as the best. A column with a single value has
// no contest, and marking it would read as a win over models that were never run on it.
bool is_best(const leaderboard& board, const leaderboard_column& column, const std::string& label) {
  const auto it = board.best.find(column.key);
  if (it == board.best.end() || it->second != label) return false;
  const auto values = std::count_if(board.rows.begin(), board.rows.end(), [&](const auto& row) {
    return row.cells.count(column.key) > 0;
  });
  return values > 1;
}

// The column's task as headers show it: with the version tag when runs of other versions exist.
std::string column_task(const leaderboard_column& column) {
  const std::string suffix = "/" + column.metric;
  if (column.key.size() <= suffix.size() || !column.key.ends_with(suffix)) return column.task;
  return column.key.substr(0, column.key.size() - suffix.size());
}

bool versions_split(const leaderboard_column& column) {
  return column_task(column) != column.task;
}

std::string fixed2(double value) {
  std::string text = fmt::format("{:.2f}", value);
  if (text == "-0.00") text = "0.00";
  return text;
}

std::string percent(double fraction) {
  return fixed2(100.0 * fraction);
}

std::string cell_text(const metric_cell& cell) {
  return fmt::format("{} ({}{}{})", percent(cell.value), percent(cell.ci_low), kEnDash,
                     percent(cell.ci_high));
}

// Points with an explicit sign; `minus` lets the HTML use the typographic minus.
std::string signed_points(double fraction, std::string_view minus) {
  std::string text = fixed2(100.0 * fraction);
  if (text == "0.00") return text;
  if (text.front() == '-') return std::string(minus) + text.substr(1);
  return "+" + text;
}

// Three decimals say all a reader needs; below 0.001 the exact value means little.
std::string p_number(double p) {
  return p < 0.001 ? std::string("< 0.001") : fmt::format("{:.3f}", p);
}

std::string p_value_text(double p) {
  return p < 0.001 ? "p " + p_number(p) : "p = " + p_number(p);
}

enum class change { improvement, regression, unclear };

change classify(const delta_entry& delta) {
  if (!(delta.p_value < kSignificance) || delta.difference == 0.0) return change::unclear;
  const bool b_higher = delta.difference > 0.0;
  return b_higher != lower_is_better(delta.metric) ? change::improvement : change::regression;
}

std::string_view change_text(change verdict) {
  switch (verdict) {
    case change::improvement:
      return "improvement";
    case change::regression:
      return "regression";
    case change::unclear:
      break;
  }
  return "no clear change";
}

std::string latency_text(double seconds) {
  return seconds > 0.0 ? fmt::format("{:.2f} s", seconds) : std::string(kEmDash);
}

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Markdown

// Labels are user input: backslash-escapes whatever would turn them into markup or split a table
// cell. An underscore between letters or digits cannot open emphasis in GitHub's Markdown, so
// names such as exact_match are left readable.
std::string markdown_escape(std::string_view text) {
  constexpr std::string_view kSpecial = "\\`*[]<>|~&";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
      continue;
    }
    if (c == '_') {
      const bool inner = i > 0 && i + 1 < text.size() && is_ascii_alnum(text[i - 1]) &&
                         is_ascii_alnum(text[i + 1]);
      if (!inner) out += '\\';
    } else if (kSpecial.find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

namespace {

std::string markdown_row(const std::vector<std::string>& cells) {
  return "| " + join(cells, " | ") + " |\n";
}

}  // namespace

std::string render_markdown(const leaderboard& board) {
  std::vector<std::string> header{"model"};
  std::vector<std::string> rule{"---"};
  std::vector<std::string> lower_names;
  for (const auto& column : board.columns) {
    header.push_back(markdown_escape(column_task(column) + " " + column.metric));
    rule.emplace_back("---:");
    if (lower_is_better(column.metric) &&
        std::find(lower_names.begin(), lower_names.end(), column.metric) == lower_names.end())
      lower_names.push_back(column.metric);
  }
  for (const char* extra : {"samples", "tokens", "latency"}) {
    header.emplace_back(extra);
    rule.emplace_back("---:");
  }
  std::string out = markdown_row(header) + markdown_row(rule);
  for (const auto& row : board.rows) {
    std::vector<std::string> cells{markdown_escape(row.label)};
    for (const auto& column : board.columns) {
      const auto cell = row.cells.find(column.key);
      if (cell == row.cells.end()) {
        cells.emplace_back(kEmDash);
        continue;
      }
      const std::string text = cell_text(cell->second);
      cells.push_back(is_best(board, column, row.label) ? "**" + text + "**" : text);
    }
    cells.push_back(std::to_string(row.samples));
    cells.push_back(std::to_string(row.total_tokens));
    cells.push_back(latency_text(row.mean_latency_s));
    out += markdown_row(cells);
  }
  out += fmt::format(
      "\nValues in percent with the 95% confidence interval in parentheses; the best value in "
      "each column that compares models is in bold{}.\n",
      lower_names.empty()
          ? std::string()
          : " (for " + markdown_escape(join(lower_names, " and ")) + " the lowest)");

  if (!board.deltas.empty()) {
    out += "\nPaired differences, B \u2212 A in percentage points:\n\n";
    out += markdown_row({"task", "metric", "A", "B", "B \u2212 A (95% CI)", "p", "n", "verdict"});
    out += markdown_row({"---", "---", "---", "---", "---:", "---:", "---:", "---"});
    for (const auto& delta : board.deltas) {
      out += markdown_row(
          {markdown_escape(delta.task), markdown_escape(delta.metric),
           markdown_escape(delta.label_a), markdown_escape(delta.label_b),
           fmt::format("{} ({} to {})", signed_points(delta.difference, "-"),
                       signed_points(delta.ci_low, "-"), signed_points(delta.ci_high, "-")),
           markdown_escape(p_number(delta.p_value)), std::to_string(delta.n),
           std::string(change_text(classify(delta)))});
    }
  }
  if (!board.warnings.empty()) {
    out += "\nWarnings:\n\n";
    for (const auto& warning : board.warnings)
      out += "- " + markdown_escape(warning) + "\n";
  }
  return out;
}

namespace {

// RFC 4180: a field holding a comma, a double quote or a line break is quoted, its quotes
// doubled.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string render_csv(const leaderboard& board) {
  std::string out = "label,task,metric,versions,value,ci_low,ci_high,n\n";
  for (const auto& row : board.rows) {
    for (const auto& column : board.columns) {
      const auto it = row.cells.find(column.key);
      if (it == row.cells.end()) continue;
      const metric_cell& cell = it->second;
      // fmt's `{}` prints the shortest text that reads back as the same double.
      out += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(row.label), csv_field(column.task),
                         csv_field(column.metric), csv_field(column.versions), cell.value,
                         cell.ci_low, cell.ci_high, cell.n);
    }
  }
  return out;
}

std::string render_json(const leaderboard& board, const nlohmann::ordered_json& extra_fields) {
  // ordered_json keeps the fields in the order a reader expects them, not alphabetically.
  using nlohmann::ordered_json;
  ordered_json out;
  out["schema_version"] = kSchemaVersion;
  out["columns"] = ordered_json::array();
  for (const auto& column : board.columns) {
    out["columns"].push_back({{"key", column.key},
                              {"task", column.task},
                              {"metric", column.metric},
                              {"versions", column.versions},
                              {"lower_is_better", lower_is_better(column.metric)}});
  }
  out["rows"] = ordered_json::array();
  for (const auto& row : board.rows) {
    ordered_json cells = ordered_json::object();
    for (const auto& column : board.columns) {
      const auto it = row.cells.find(column.key);
      if (it == row.cells.end()) continue;
      cells[column.key] = {{"value", it->second.value},
                           {"ci95", {it->second.ci_low, it->second.ci_high}},
                           {"n", it->second.n}};
    }
    out["rows"].push_back({{"label", row.label},
                           {"cells", cells},
                           {"samples", row.samples},
                           {"total_tokens", row.total_tokens},
                           {"mean_latency_s", row.mean_latency_s}});
  }
  out["best"] = ordered_json::object();
  for (const auto& column : board.columns) {
    if (const auto it = board.best.find(column.key); it != board.best.end())
      out["best"][column.key] = it->second;
  }
  out["deltas"] = ordered_json::array();
  for (const auto& delta : board.deltas) {
    out["deltas"].push_back({{"task", delta.task},
                             {"metric", delta.metric},
                             {"label_a", delta.label_a},
                             {"label_b", delta.label_b},
                             {"difference", delta.difference},
                             {"ci95", {delta.ci_low, delta.ci_high}},
                             {"p_value", delta.p_value},
                             {"n", delta.n}});
  }
  out["warnings"] = board.warnings;
  if (extra_fields.is_object()) {
    for (const auto& [key, value] : extra_fields.items())
      out[key] = value;
  }
  // Labels built in code (not read from a file) may hold invalid UTF-8; U+FFFD beats an exception.
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

// ---------------------------------------------------------------------------------------------
// HTML and SVG

// HTML text and attribute values need exactly what XML needs (reports/compare.h).
std::string html_escape(std::string_view text) {
  return xml_escape(text);
}

// SVG has no text layout, so widths are estimated per character: about 0.62 em covers lower-case
// letters and digits in the sans-serif fonts of common systems (Latin, Greek, Cyrillic), capitals
// take more, spaces and thin punctuation about a third of an em, and Chinese, Japanese and Korean
// characters a full em. Bold text is some 6% wider.
constexpr double kNarrowEm = 0.62;
constexpr double kCapitalEm = 0.74;
constexpr double kThinEm = 0.34;
constexpr double kWideEm = 1.0;
constexpr double kBoldFactor = 1.06;

// The estimated width of the character starting at byte `at`, and its length in bytes. Bytes
// that do not start a character (invalid UTF-8) count as narrow characters of one byte.
std::pair<double, std::size_t> next_char(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80 &&
      std::string_view(" .,:;'|!()[]ijlt").find(static_cast<char>(lead)) != std::string_view::npos)
    return {kThinEm, 1};
  if (lead >= 'A' && lead <= 'Z') return {kCapitalEm, 1};
  std::size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  if (at + length > text.size()) return {kNarrowEm, 1};
  char32_t code = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0) != 0x80) return {kNarrowEm, 1};
    code = (code << 6) | (next & 0x3F);
  }
  const bool wide = (code >= 0x1100 && code <= 0x115F) || (code >= 0x2E80 && code <= 0xA4CF) ||
                    (code >= 0xAC00 && code <= 0xD7A3) || (code >= 0xF900 && code <= 0xFAFF) ||
                    (code >= 0xFE30 && code <= 0xFE4F) || (code >= 0xFF00 && code <= 0xFF60) ||
                    (code >= 0xFFE0 && code <= 0xFFE6) || (code >= 0x1F300 && code <= 0x1FAFF) ||
                    code >= 0x20000;
  return {wide ? kWideEm : kNarrowEm, length};
}

double text_width(std::string_view text, double font_px) {
  double em = 0.0;
  for (std::size_t at = 0; at < text.size();) {
    const auto [width, length] = next_char(text, at);
    em += width;
    at += length;
  }
  return em * font_px;
}

// Cuts at a character boundary and marks the cut; the full text goes in a <title> tooltip.
std::string fit_text(std::string_view text, double max_px, double font_px) {
  if (text_width(text, font_px) <= max_px) return std::string(text);
  const double budget = max_px / font_px - kNarrowEm;  // room left beside the ellipsis, in em
  double em = 0.0;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto [width, length] = next_char(text, at);
    if (em + width > budget) break;
    em += width;
    at += length;
  }
  return std::string(text.substr(0, at)) + std::string(kEllipsis);
}

constexpr double kChartWidth = 1040.0;
constexpr double kFontPx = 13.0;
constexpr double kSmallFontPx = 12.0;
constexpr double kBarHeight = 22.0;
constexpr double kBarGap = 12.0;
constexpr double kChartTop = 56.0;

// Colour-blind-safe blues for bars (the best one darker, and also labelled "best"), and the
// usual green / red / grey for the deltas, each with its word beside it.
constexpr std::string_view kBarColour = "#9cc3e6";
constexpr std::string_view kBestColour = "#2b6cb0";
constexpr std::string_view kInkColour = "#1f2328";
constexpr std::string_view kMutedColour = "#57606a";
constexpr std::string_view kGridColour = "#d8dee4";
constexpr std::string_view kImprovementColour = "#1a7f37";
constexpr std::string_view kRegressionColour = "#cf222e";
constexpr std::string_view kUnclearColour = "#6e7781";

std::string_view change_colour(change verdict) {
  switch (verdict) {
    case change::improvement:
      return kImprovementColour;
    case change::regression:
      return kRegressionColour;
    case change::unclear:
      break;
  }
  return kUnclearColour;
}

std::string_view change_marker(change verdict) {
  switch (verdict) {
    case change::improvement:
      return "\u25B2 ";
    case change::regression:
      return "\u25BC ";
    case change::unclear:
      break;
  }
  return "";
}

using out_it = std::back_insert_iterator<std::string>;

// A whisker from `x_low` to `x_high` at height `y`, over a white halo so that it stays visible on
// a dark bar as well as on the background.
void whisker(out_it out, double x_low, double x_high, double y, std::string_view colour) {
  const std::string d = fmt::format(
      "M{0:.1f} {2:.1f}H{1:.1f}M{0:.1f} {3:.1f}V{4:.1f}M{1:.1f} "
      "{3:.1f}V{4:.1f}",
      x_low, x_high, y, y - 8.0, y + 8.0);
  fmt::format_to(out,
                 "<path d=\"{0}\" stroke=\"#fff\" stroke-width=\"4\" fill=\"none\" "
                 "stroke-linecap=\"round\"/>"
                 "<path d=\"{0}\" stroke=\"{1}\" stroke-width=\"1.6\" fill=\"none\"/>\n",
                 d, colour);
}

struct bar_entry {
  std::string label;
  metric_cell cell;
  bool best = false;
};

// Horizontal bars of one column's values, 0-100%, with 95% CI whiskers, best first.
std::string bar_chart(const leaderboard& board, const leaderboard_column& column,
                      std::size_t chart_index) {
  const bool lower = lower_is_better(column.metric);
  std::vector<bar_entry> bars;
  for (const auto& row : board.rows) {
    const auto it = row.cells.find(column.key);
    if (it != row.cells.end())
      bars.push_back({row.label, it->second, is_best(board, column, row.label)});
  }
  std::stable_sort(bars.begin(), bars.end(), [&](const bar_entry& a, const bar_entry& b) {
    return lower ? a.cell.value < b.cell.value : a.cell.value > b.cell.value;
  });

  // Every chart gets the same label room, so that their axes line up down the page.
  double widest = 0.0;
  for (const auto& row : board.rows)
    widest = std::max(widest, text_width(row.label, kFontPx) * kBoldFactor);
  const double left = std::clamp(widest + 18.0, 90.0, 260.0);
  const double right = 130.0;  // room for "100.00%  best" past a full bar
  const double plot = kChartWidth - left - right;
  const auto x_of = [&](double fraction) { return left + plot * std::clamp(fraction, 0.0, 1.0); };
  const double axis_y = kChartTop + static_cast<double>(bars.size()) * (kBarHeight + kBarGap);
  const double height = axis_y + 48.0;

  std::string svg;
  auto out = std::back_inserter(svg);
  const std::string title = fmt::format("{} {} {}", column_task(column), kEmDash, column.metric);
  std::string subtitle = "in percent; bars: value, whiskers: 95% confidence interval";
  if (lower) subtitle += "; lower is better";
  if (versions_split(column)) subtitle += "; " + column.versions;
  fmt::format_to(out,
                 "<svg class=\"chart\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
                 "{1:.0f}\" role=\"img\" aria-labelledby=\"bars-{2}-title bars-{2}-desc\">\n"
                 "<title id=\"bars-{2}-title\">{3}</title>\n<desc id=\"bars-{2}-desc\">{4}</desc>\n"
                 "<text x=\"0\" y=\"20\" font-size=\"16\" font-weight=\"700\" fill=\"{5}\">{3}"
                 "</text>\n<text x=\"0\" y=\"40\" font-size=\"{6}\" fill=\"{7}\">{4}</text>\n",
                 kChartWidth, height, chart_index, html_escape(title), html_escape(subtitle),
                 kInkColour, kSmallFontPx, kMutedColour);

  const double step = plot >= 400.0 ? 0.1 : 0.2;
  for (int i = 0; i * step <= 1.0 + 1e-9; ++i) {
    const double x = x_of(i * step);
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
                   "stroke=\"{3}\"/>\n<text x=\"{0:.1f}\" y=\"{4:.1f}\" font-size=\"{5}\" "
                   "fill=\"{6}\" text-anchor=\"middle\">{7:.0f}%</text>\n",
                   x, kChartTop - 6.0, axis_y, kGridColour, axis_y + 17.0, kSmallFontPx,
                   kMutedColour, 100.0 * i * step);
  }
  fmt::format_to(out,
                 "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" "
                 "stroke=\"{3}\"/>\n<text x=\"{4:.1f}\" y=\"{5:.1f}\" font-size=\"{6}\" "
                 "fill=\"{7}\" text-anchor=\"middle\">{8} (%)</text>\n",
                 left, left + plot, axis_y, kMutedColour, left + plot / 2.0, axis_y + 38.0,
                 kSmallFontPx, kMutedColour, html_escape(column.metric));

  for (std::size_t i = 0; i < bars.size(); ++i) {
    const bar_entry& bar = bars[i];
    const double y = kChartTop + static_cast<double>(i) * (kBarHeight + kBarGap);
    const double mid = y + kBarHeight / 2.0;
    const double end = x_of(bar.cell.value);
    const double ci_end = std::max(end, x_of(bar.cell.ci_high));
    fmt::format_to(out, "<g><title>{}: {}, n = {}{}</title>\n", html_escape(bar.label),
                   html_escape(cell_text(bar.cell)), bar.cell.n, bar.best ? ", best" : "");
    fmt::format_to(out,
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" dy=\"0.35em\" font-size=\"{}\" "
                   "text-anchor=\"end\" fill=\"{}\"{}>{}</text>\n",
                   left - 8.0, mid, kFontPx, kInkColour, bar.best ? " font-weight=\"700\"" : "",
                   html_escape(fit_text(bar.label, (left - 14.0) / kBoldFactor, kFontPx)));
    fmt::format_to(out,
                   "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"2\" "
                   "fill=\"{}\"/>\n",
                   left, y, end - left, kBarHeight, bar.best ? kBestColour : kBarColour);
    if (bar.cell.ci_high > bar.cell.ci_low)
      whisker(out, x_of(bar.cell.ci_low), x_of(bar.cell.ci_high), mid, kInkColour);
    fmt::format_to(out,
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" dy=\"0.35em\" font-size=\"{}\" "
                   "fill=\"{}\"{}>{}%{}</text>\n</g>\n",
                   ci_end + 8.0, mid, kFontPx, kInkColour, bar.best ? " font-weight=\"700\"" : "",
                   percent(bar.cell.value),
                   bar.best ? fmt::format("<tspan fill=\"{}\"> \u00A0best</tspan>", kBestColour)
                            : std::string());
  }
  svg += "</svg>\n";
  return svg;
}

// A step of 1, 2 or 5 times a power of ten that cuts `half_width` into at most four parts.
double nice_step(double half_width) {
  const double raw = half_width / 4.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double factor : {1.0, 2.0, 5.0}) {
    if (factor * magnitude >= raw) return factor * magnitude;
  }
  return 10.0 * magnitude;
}

std::string tick_text(double points) {
  if (std::abs(points) < 1e-9) return "0";
  const std::string number = fmt::format("{:g}", std::abs(points));
  return (points < 0 ? std::string(kMinus) : std::string("+")) + number;
}

// A forest plot of paired differences: one row per (task, metric, A, B), the point at B - A in
// percentage points, its CI as a whisker, and the numbers and verdict written out above it.
std::string delta_chart(const leaderboard& board) {
  constexpr double kPad = 8.0;
  constexpr double kLine = 18.0;
  constexpr double kBand = 26.0;
  const double plot_left = kPad + 24.0;
  const double plot_right = kChartWidth - kPad - 24.0;

  double half = 0.5;  // points; keeps tiny differences from filling the whole width
  for (const auto& delta : board.deltas) {
    for (const double v : {delta.difference, delta.ci_low, delta.ci_high})
      half = std::max(half, 100.0 * std::abs(v));
  }
  const double step = nice_step(half);
  half = std::ceil(half / step - 1e-9) * step;
  std::vector<double> ticks;
  const auto steps = std::lround(2.0 * half / step);
  for (long i = 0; i <= steps; ++i)
    ticks.push_back(-half + static_cast<double>(i) * step);
  const auto x_of = [&](double fraction) {
    const double points = std::clamp(100.0 * fraction, -half, half);
    return plot_left + (points + half) / (2.0 * half) * (plot_right - plot_left);
  };

  std::string body;
  auto out = std::back_inserter(body);
  double y = kChartTop;
  for (const auto& delta : board.deltas) {
    const change verdict = classify(delta);
    const std::string_view colour = change_colour(verdict);
    std::string name = fmt::format("{} {} {} {} vs {}", delta.task, delta.metric, kEmDash,
                                   delta.label_b, delta.label_a);
    if (lower_is_better(delta.metric)) name += " (lower is better)";
    const std::string stats = fmt::format(
        "{} pts ({} to {}), {}, n = {} \u00B7 {}{}", signed_points(delta.difference, kMinus),
        signed_points(delta.ci_low, kMinus), signed_points(delta.ci_high, kMinus),
        p_value_text(delta.p_value), delta.n, change_marker(verdict), change_text(verdict));
    const double room = kChartWidth - 2.0 * kPad;
    const double stats_width = text_width(stats, kFontPx) * kBoldFactor;
    const bool one_line = text_width(name, kFontPx) + stats_width + 24.0 <= room;
    fmt::format_to(out, "<g><title>{}: {}</title>\n", html_escape(name), html_escape(stats));
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" fill=\"{}\">{}</text>\n",
                   kPad, y + 13.0, kFontPx, kInkColour, html_escape(fit_text(name, room, kFontPx)));
    // The verdict sits at the right end of the name's line, or under the name when both do not
    // fit.
    if (!one_line) y += kLine;
    fmt::format_to(out,
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" font-weight=\"700\" "
                   "fill=\"{}\" text-anchor=\"{}\">{}</text>\n",
                   one_line ? kChartWidth - kPad : kPad, y + 13.0, kFontPx, colour,
                   one_line ? "end" : "start", html_escape(stats));
    const double band_top = y + kLine + 4.0;
    const double mid = band_top + kBand / 2.0;
    fmt::format_to(out,
                   "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" "
                   "fill=\"#f6f8fa\"/>\n",
                   plot_left, band_top, plot_right - plot_left, kBand);
    for (const double t : ticks) {
      const bool zero = std::abs(t) < 1e-9;
      fmt::format_to(out,
                     "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
                     "stroke=\"{3}\"{4}/>\n",
                     x_of(t / 100.0), band_top, band_top + kBand, zero ? kMutedColour : kGridColour,
                     zero ? " stroke-width=\"1.5\" stroke-dasharray=\"4 3\"" : "");
    }
    whisker(out, x_of(delta.ci_low), x_of(delta.ci_high), mid, colour);
    fmt::format_to(out,
                   "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" fill=\"{}\" stroke=\"#fff\" "
                   "stroke-width=\"1.5\"/>\n</g>\n",
                   x_of(delta.difference), mid, colour);
    y = band_top + kBand + 14.0;
  }

  const double axis_y = y - 6.0;
  fmt::format_to(out,
                 "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"/>\n",
                 plot_left, axis_y, plot_right, axis_y, kMutedColour);
  for (const double t : ticks) {
    const double x = x_of(t / 100.0);
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
                   "stroke=\"{3}\"/>\n<text x=\"{0:.1f}\" y=\"{4:.1f}\" font-size=\"{5}\" "
                   "fill=\"{3}\" text-anchor=\"middle\">{6}</text>\n",
                   x, axis_y, axis_y + 5.0, kMutedColour, axis_y + 19.0, kSmallFontPx,
                   tick_text(t));
  }
  fmt::format_to(out,
                 "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" fill=\"{}\" "
                 "text-anchor=\"middle\">B {} A, percentage points (0 = no difference)</text>\n",
                 (plot_left + plot_right) / 2.0, axis_y + 38.0, kSmallFontPx, kMutedColour, kMinus);
  const double height = axis_y + 50.0;

  std::string svg;
  const std::string title = "Paired differences between models";
  const std::string subtitle = fmt::format(
      "B {} A on the same items; whiskers: 95% confidence interval; coloured as an improvement "
      "or a regression when p < {}",
      kMinus, kSignificance);
  fmt::format_to(std::back_inserter(svg),
                 "<svg class=\"chart\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
                 "{1:.0f}\" role=\"img\" aria-labelledby=\"deltas-title deltas-desc\">\n"
                 "<title id=\"deltas-title\">{2}</title>\n<desc id=\"deltas-desc\">{3}</desc>\n"
                 "<text x=\"0\" y=\"20\" font-size=\"16\" font-weight=\"700\" fill=\"{4}\">{2}"
                 "</text>\n<text x=\"0\" y=\"40\" font-size=\"{5}\" fill=\"{6}\">{3}</text>\n",
                 kChartWidth, height, html_escape(title), html_escape(subtitle), kInkColour,
                 kSmallFontPx, kMutedColour);
  svg += body;
  svg += "</svg>\n";
  return svg;
}

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
body {
  margin: 2rem auto; padding: 0 1.25rem; max-width: 1120px; background: #fff; color: #1f2328;
  font: 15px/1.45 system-ui, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial,
    sans-serif;
}
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 {
  font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .3rem;
  border-bottom: 1px solid #d0d7de;
}
.lede { color: #57606a; margin: 0 0 1.2rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .9rem; }
caption {
  caption-side: bottom; text-align: left; color: #57606a; font-size: .85rem; padding-top: .5rem;
}
th, td {
  padding: .4rem .65rem; border-bottom: 1px solid #d0d7de; text-align: right; white-space: nowrap;
}
thead th {
  background: #f6f8fa; vertical-align: bottom; border-bottom: 2px solid #d0d7de;
  white-space: normal;
}
th[scope=row], thead th:first-child {
  text-align: left; min-width: 11rem; max-width: 20rem; white-space: normal;
  overflow-wrap: break-word;
}
th .task, th .metric, th .hint { display: block; }
th .metric { font-weight: 400; }
th .hint { font-weight: 400; font-size: .78rem; color: #57606a; }
tbody tr:hover { background: #f6f8fa; }
td.best { background: #ddf4ff; font-weight: 700; }
td.missing { color: #8c959f; text-align: center; }
.ci { display: block; color: #57606a; font-size: .8em; font-weight: 400; }
.warnings {
  border-left: 4px solid #bf8700; background: #fff8c5; padding: .6rem 1rem; margin-top: 1.5rem;
}
.warnings h2 { border: 0; margin: 0 0 .3rem; font-size: 1rem; }
.warnings ul { margin: 0; padding-left: 1.2rem; }
figure { margin: 1.2rem 0 2rem; }
svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg.chart text { font-variant-numeric: tabular-nums; }
h3 { font-size: 1rem; margin: 1.6rem 0 .3rem; }
.profiles thead th:first-child { min-width: 0; text-align: right; }
)css";

// Escaped, with break opportunities after separators, so that a long metric name in a header
// wraps instead of widening its whole column.
std::string breakable(std::string_view name) {
  std::string out;
  for (const char c : name) {
    out += html_escape(std::string_view(&c, 1));
    if (c == '_' || c == '-' || c == '/' || c == '@' || c == '.') out += "<wbr>";
  }
  return out;
}

void html_table(out_it out, const leaderboard& board) {
  out = fmt::format_to(
      out,
      "<div class=\"table-wrap\">\n<table>\n<caption>Values in percent; the 95% "
      "confidence interval in parentheses; the best value in each column that "
      "compares models is bold and shaded; hover a value for its sample count.</caption>\n"
      "<thead>\n<tr><th scope=\"col\">model</th>");
  for (const auto& column : board.columns) {
    std::string hints;
    if (versions_split(column))
      hints += "<span class=\"hint\">" + html_escape(column.versions) + "</span>";
    if (lower_is_better(column.metric)) hints += "<span class=\"hint\">lower is better</span>";
    out = fmt::format_to(out,
                         "<th scope=\"col\"><span class=\"task\">{}</span><span "
                         "class=\"metric\">{}</span>{}</th>",
                         breakable(column.task), breakable(column.metric), hints);
  }
  out = fmt::format_to(out,
                       "<th scope=\"col\">samples</th><th scope=\"col\">tokens</th>"
                       "<th scope=\"col\">latency</th></tr>\n</thead>\n<tbody>\n");
  for (const auto& row : board.rows) {
    out = fmt::format_to(out, "<tr><th scope=\"row\">{}</th>", html_escape(row.label));
    for (const auto& column : board.columns) {
      const auto it = row.cells.find(column.key);
      if (it == row.cells.end()) {
        out = fmt::format_to(out, "<td class=\"missing\">{}</td>", kEmDash);
        continue;
      }
      const metric_cell& cell = it->second;
      const bool best = is_best(board, column, row.label);
      out = fmt::format_to(
          out, "<td{} title=\"n = {}{}\">{} <span class=\"ci\">({}{}{})</span></td>",
          best ? " class=\"best\"" : "", cell.n, best ? ", best" : "",
          best ? "<strong>" + percent(cell.value) + "</strong>" : percent(cell.value),
          percent(cell.ci_low), kEnDash, percent(cell.ci_high));
    }
    out = fmt::format_to(out, "<td>{}</td><td>{}</td><td>{}</td></tr>\n", row.samples,
                         row.total_tokens, latency_text(row.mean_latency_s));
  }
  fmt::format_to(out, "</tbody>\n</table>\n</div>\n");
}

}  // namespace

std::string render_html(const leaderboard& board, std::string_view extra_section) {
  std::string html;
  auto out = std::back_inserter(html);
  if (board.rows.empty() && board.warnings.empty() && !extra_section.empty()) {
    fmt::format_to(out,
                   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>yardstick report</title>\n<style>{}</style>\n</head>\n<body>\n"
                   "<h1>yardstick report</h1>\n{}</body>\n</html>\n",
                   kStyle, extra_section);
    return html;
  }
  std::vector<std::string> task_names;
  for (const auto& column : board.columns) {
    if (std::find(task_names.begin(), task_names.end(), column.task) == task_names.end())
      task_names.push_back(column.task);
  }
  out = fmt::format_to(
      out,
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>yardstick leaderboard</title>\n<style>{}</style>\n</head>\n<body>\n"
      "<h1>Leaderboard</h1>\n<p class=\"lede\">{} model{} on {} task{}: {}.</p>\n",
      kStyle, board.rows.size(), board.rows.size() == 1 ? "" : "s", task_names.size(),
      task_names.size() == 1 ? "" : "s",
      html_escape(task_names.empty() ? std::string("none") : join(task_names, ", ")));

  if (board.rows.empty()) {
    html += "<p>No runs.</p>\n";
  } else {
    html_table(out, board);
  }
  if (!board.warnings.empty()) {
    html += "<section class=\"warnings\">\n<h2>Warnings</h2>\n<ul>\n";
    for (const auto& warning : board.warnings)
      html += "<li>" + html_escape(warning) + "</li>\n";
    html += "</ul>\n</section>\n";
  }

  // One chart per (task, versions): its first column is the primary metric whenever any run
  // reported it.
  std::vector<const leaderboard_column*> charted;
  for (std::size_t i = 0; i < board.columns.size(); ++i) {
    const auto& column = board.columns[i];
    if (i == 0 || column_task(column) != column_task(board.columns[i - 1]))
      charted.push_back(&column);
  }
  if (!charted.empty()) {
    html += "<h2>Primary metric by task</h2>\n";
    for (std::size_t i = 0; i < charted.size(); ++i)
      html += "<figure>\n" + bar_chart(board, *charted[i], i) + "</figure>\n";
  }
  if (!board.deltas.empty()) {
    html += "<h2>Paired comparisons</h2>\n<figure>\n" + delta_chart(board) + "</figure>\n";
  }
  html += extra_section;
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace ys::reports
