// Leaderboards from run files: one row per model label, one column per (task, metric), with
// confidence intervals, sample counts, tokens and latency; rendered as Markdown, CSV, JSON or a
// self-contained HTML page with inline SVG charts. Reads run.json contents only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ys::reports {

struct metric_cell {
  double value = 0.0;  // fraction 0-1, as in run.json
  double ci_low = 0.0;
  double ci_high = 0.0;
  std::size_t n = 0;
};

struct leaderboard_column {
  std::string key;  // "gsm8k/exact_match", or "gsm8k@v2/exact_match" when versions differ
  std::string task;
  std::string metric;
  std::string versions;  // "task 1, prompt 1, scorer 1": runs of other versions get other columns
};

struct leaderboard_row {
  std::string label;
  std::map<std::string, metric_cell> cells;  // by column key; absent when the model lacks it
  std::size_t samples = 0;                   // scored samples over its runs
  long long total_tokens = 0;
  double mean_latency_s = 0.0;  // over its runs' timed requests; 0 for replay
};

// One base-vs-tuned comparison on the same items, for the delta chart.
struct delta_entry {
  std::string task;
  std::string metric;
  std::string label_a;  // baseline
  std::string label_b;
  double difference = 0.0;  // b - a, fraction
  double ci_low = 0.0;
  double ci_high = 0.0;
  double p_value = 1.0;
  std::size_t n = 0;
};

struct leaderboard {
  std::vector<leaderboard_column> columns;
  std::vector<leaderboard_row> rows;
  std::map<std::string, std::string> best;  // column key -> label with the best value
  std::vector<delta_entry> deltas;
  std::vector<std::string> warnings;  // e.g. runs of different prompt versions kept apart
};

// Builds the table from run.json objects. Each run contributes its primary metric and every
// other metric it reports; the best value per column is the highest.
leaderboard build_leaderboard(const std::vector<nlohmann::json>& runs);

std::string render_markdown(const leaderboard& board);
std::string render_csv(const leaderboard& board);
// `extra_fields` (an object, e.g. {"profiles": [...]}) are added after the leaderboard's own.
std::string render_json(const leaderboard& board,
                        const nlohmann::ordered_json& extra_fields = nlohmann::ordered_json());
// One self-contained page: no scripts, no external fetches, readable without JavaScript;
// inline SVG bar charts with CI whiskers per task, and a delta chart when deltas exist.
// `extra_section` (HTML, e.g. the profile section of reports/profile_report.h) goes at the end of
// the page; with no runs and an extra section, the page holds that section alone.
std::string render_html(const leaderboard& board, std::string_view extra_section = {});

// Backslash-escapes what would turn text into Markdown markup or split a table cell.
std::string markdown_escape(std::string_view text);

}  // namespace ys::reports
