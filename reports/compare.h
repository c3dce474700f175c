// Paired comparison of two runs of the same task on the same items (`yardstick compare`), and
// the CI regression verdict built on it (`yardstick gate`). Reads run files only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/types.h"
#include "scorers/paired_stats.h"

namespace ys::reports {

struct loaded_run {
  std::filesystem::path dir;
  nlohmann::json summary;  // run.json
  std::vector<sample_result> samples;
};

// Reads DIR/run.json and DIR/samples.jsonl (DIR may also be the run.json path). Throws
// input_error naming the file when either is missing or malformed, or the run is unfinished; for
// another file in DIR's place, "PATH is a file, not a run directory" (with a pointer to
// `report --profile` when it is a profile).
loaded_run load_run(const std::filesystem::path& path);

struct flipped_item {
  std::string id;
  std::string answer_a;
  std::string answer_b;
  std::string gold;
};

struct metric_comparison {
  std::string metric;
  bool binary = false;
  stats::paired_difference difference;
  std::string test;  // "mcnemar_exact" or "sign_flip"
  double p_value = 1.0;
  std::size_t a_only = 0;  // binary: right in A only
  std::size_t b_only = 0;  // binary: right in B only
  double minimum_detectable_effect = 0.0;
  std::vector<flipped_item> right_to_wrong;  // binary metrics: A right, B wrong
  std::vector<flipped_item> wrong_to_right;
};

struct comparison {
  std::string task;
  std::string label_a;
  std::string label_b;
  std::string primary_metric;
  std::size_t paired = 0;                  // items scored in both runs
  std::size_t unpaired = 0;                // items in only one run, or failed in either
  std::vector<metric_comparison> metrics;  // primary first
};

struct compare_options {
  int resamples = 10000;
  std::uint64_t seed = 1234;
  std::optional<std::string> metric;  // only this metric
};

// Pairs samples by id. Throws input_error when the runs are not comparable (another task,
// dataset, prompt or scorer), saying what differs.
comparison compare_runs(const loaded_run& a, const loaded_run& b, const compare_options& options);

nlohmann::json to_json(const comparison& c);
std::string render_comparison_text(const comparison& c);
std::string render_comparison_markdown(const comparison& c);

struct gate_verdict {
  bool regression = false;
  std::string metric;
  std::string explanation;  // one paragraph
};

// A regression is a paired 95% CI of (current - baseline) wholly below -max_drop points; with
// `strict`, the point estimate below -max_drop.
gate_verdict judge_gate(const comparison& c, double max_drop_points, bool strict);

std::string render_junit(const comparison& c, const gate_verdict& verdict);

// Metrics where a smaller value is better (`invalid`, `nonstandard_markers`).
bool lower_is_better(std::string_view metric);

// XML and HTML text and attribute escaping (&, <, >, ", '); control characters other than
// tab and line breaks become U+FFFD.
std::string xml_escape(std::string_view text);

}  // namespace ys::reports
