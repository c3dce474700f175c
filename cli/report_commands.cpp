#include "cli/report_commands.h"

#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/run_files.h"
#include "reports/compare.h"
#include "reports/leaderboard.h"
#include "reports/profile_report.h"

namespace ys {

namespace {

void write_output(const std::string& text, const std::optional<std::filesystem::path>& out) {
  if (!out) {
    fmt::print("{}", text);
    return;
  }
  std::ofstream file(*out, std::ios::binary | std::ios::trunc);
  if (!file) throw input_error(fmt::format("{}: cannot write", out->string()));
  file << text;
  fmt::print(stderr, "wrote {}\n", out->string());
}

// Base-vs-other deltas for the report: per task, the first label seen is the baseline.
std::vector<reports::delta_entry> report_deltas(const std::vector<reports::loaded_run>& runs,
                                                std::vector<std::string>& warnings) {
  std::vector<reports::delta_entry> deltas;
  std::map<std::string, const reports::loaded_run*> baseline;
  for (const auto& run : runs) {
    const std::string task = run.summary["task"].value("name", "");
    auto [it, first] = baseline.emplace(task, &run);
    if (first) continue;
    try {
      const auto c = reports::compare_runs(*it->second, run, {});
      if (c.metrics.empty()) continue;
      const auto& m = c.metrics.front();
      deltas.push_back({c.task, m.metric, c.label_a, c.label_b, m.difference.difference,
                        m.difference.ci95.low, m.difference.ci95.high, m.p_value, m.difference.n});
    } catch (const input_error& e) {
      warnings.push_back(fmt::format("no delta for {} vs {}: {}", it->second->dir.string(),
                                     run.dir.string(), e.what()));
    }
  }
  return deltas;
}

}  // namespace

int compare_command(const compare_command_options& options) {
  const auto a = reports::load_run(options.run_a);
  const auto b = reports::load_run(options.run_b);
  const auto c = reports::compare_runs(a, b, {options.resamples, options.seed, options.metric});
  if (options.format == "json") {
    fmt::print("{}\n", reports::to_json(c).dump(2));
  } else if (options.format == "md") {
    fmt::print("{}", reports::render_comparison_markdown(c));
  } else {
    fmt::print("{}", reports::render_comparison_text(c));
  }
  return 0;
}

// A gate that cannot judge still leaves a JUnit file, so the CI's test report shows why.
static void write_junit_error(const std::filesystem::path& path, const std::string& message) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuite name=\"yardstick gate\" tests=\"1\" errors=\"1\">\n"
       << "  <testcase classname=\"yardstick\" name=\"gate\">\n"
       << "    <error message=\"unusable input\">" << reports::xml_escape(message)
       << "</error>\n  </testcase>\n</testsuite>\n";
}

static int gate_or_throw(const gate_command_options& options) {
  if (options.max_drop_points < 0) throw input_error("--max-drop must be >= 0 points");
  const auto baseline = reports::load_run(options.baseline);
  const auto current = reports::load_run(options.current);
  reports::compare_options compare{options.resamples, options.seed, options.metric};
  auto c = reports::compare_runs(baseline, current, compare);
  if (c.unpaired > 0 && !options.allow_partial) {
    throw input_error(fmt::format(
        "{} item(s) are not scored in both runs (failed, or outside a --limit); a gate on part "
        "of the test set could pass a regression. Complete both runs, or pass --allow-partial "
        "to judge the {} paired items",
        c.unpaired, c.paired));
  }
  if (options.metric) c.primary_metric = *options.metric;
  const auto verdict = reports::judge_gate(c, options.max_drop_points, options.strict);
  fmt::print("{}\n", verdict.explanation);
  if (options.junit) {
    std::ofstream file(*options.junit, std::ios::binary | std::ios::trunc);
    if (!file) throw input_error(fmt::format("{}: cannot write", options.junit->string()));
    file << reports::render_junit(c, verdict);
  }
  return verdict.regression ? 1 : 0;
}

int gate_command(const gate_command_options& options) {
  try {
    return gate_or_throw(options);
  } catch (const input_error& e) {
    if (options.junit) write_junit_error(*options.junit, e.what());
    throw;
  }
}

// The leaderboard keeps runs apart by task/prompt/scorer version; runs of one task that differ
// in another setting (shots, prompt format, dataset) must not share a column either, so the
// differing settings are folded into the prompt version the leaderboard sees.
void separate_settings(std::vector<nlohmann::json>& summaries) {
  static const std::set<std::string> kIgnored = {
      "name",        "task_version", "prompt_version", "scorer_version",     "max_tokens",
      "temperature", "dataset",      "fewshot_source", "fewshot_train_lines"};
  std::map<std::string, std::vector<nlohmann::json*>> by_task;
  for (auto& s : summaries)
    by_task[s["task"].value("name", "")].push_back(&s);
  for (auto& [task, runs] : by_task) {
    std::set<std::string> keys;
    for (auto* run : runs) {
      for (const auto& [key, value] : (*run)["task"].items()) {
        if (!kIgnored.count(key)) keys.insert(key);
      }
    }
    for (const auto& key : keys) {
      std::set<std::string> values;
      for (auto* run : runs)
        values.insert((*run)["task"].value(key, nlohmann::json()).dump());
      if (values.size() < 2) continue;
      for (auto* run : runs) {
        auto& task_json = (*run)["task"];
        const auto value = task_json.value(key, nlohmann::json());
        const auto version = task_json.value("prompt_version", nlohmann::json("?"));
        task_json["prompt_version"] = fmt::format(
            "{} {}={}", version.is_string() ? version.get<std::string>() : version.dump(), key,
            value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
  }
}

int report_command(const report_command_options& options) {
  if (options.runs.empty() && options.profiles.empty())
    throw input_error("report needs at least one run directory or --profile file");
  // CSV holds the leaderboard's cells only; the profile points are another table, which a second
  // block in the same file would break for CSV readers.
  if (options.format == "csv" && !options.profiles.empty()) {
    if (options.runs.empty()) {
      throw input_error(
          "--format csv holds the leaderboard only; write --profile files with --format md, html "
          "or json");
    }
    fmt::print(stderr,
               "warning: --format csv leaves the --profile files out (use md, html or "
               "json to include them)\n");
  }
  std::vector<reports::profile> profiles;
  for (const auto& path : options.profiles)
    profiles.push_back(reports::load_profile(path));
  std::vector<reports::loaded_run> runs;
  std::vector<nlohmann::json> summaries;
  for (const auto& path : options.runs) {
    runs.push_back(reports::load_run(path));
    summaries.push_back(runs.back().summary);
  }
  separate_settings(summaries);
  auto board = reports::build_leaderboard(summaries);
  board.deltas = report_deltas(runs, board.warnings);
  for (const auto& w : board.warnings)
    fmt::print(stderr, "warning: {}\n", w);
  std::string text;
  if (options.format == "html") {
    text = reports::render_html(
        board, profiles.empty() ? std::string() : reports::render_profile_html(profiles));
  } else if (options.format == "csv") {
    text = reports::render_csv(board);
  } else if (options.format == "json") {
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    if (!profiles.empty()) extra["profiles"] = reports::profiles_to_json(profiles);
    text = reports::render_json(board, extra);
  } else {
    if (!runs.empty()) text = reports::render_markdown(board);
    if (!profiles.empty()) {
      if (!text.empty()) text += "\n";
      text += reports::render_profile_markdown(profiles);
    }
  }
  write_output(text, options.out);
  return 0;
}

}  // namespace ys
