#include "reports/leaderboard.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/errors.h"

namespace ys::reports {
namespace {

using nlohmann::json;

struct metric_spec {
  std::string name;
  double value;
  double low;
  double high;
  std::size_t n;
  bool binary = true;
};

json make_run(const std::string& label, const std::string& task, const std::string& prompt_version,
              const std::string& primary, const std::vector<metric_spec>& metrics,
              std::size_t scored, long long tokens, double latency_s) {
  json run;
  run["schema_version"] = 1;
  run["status"] = "complete";
  run["label"] = label;
  run["task"] = {{"name", task},
                 {"task_version", "1"},
                 {"prompt_version", prompt_version},
                 {"scorer_version", "1"}};
  run["metrics"] = json::object();
  for (const auto& m : metrics) {
    run["metrics"][m.name] = {{"value", m.value},
                              {"stderr", 0.01},
                              {"ci95", {m.low, m.high}},
                              {"ci_method", m.binary ? "wilson" : "normal"},
                              {"n", m.n},
                              {"binary", m.binary}};
  }
  run["primary_metric"] = primary;
  run["counts"] = {{"samples", scored}, {"scored", scored}, {"failed", 0}};
  run["usage"] = {
      {"prompt_tokens", tokens - 1000}, {"completion_tokens", 1000}, {"total_tokens", tokens}};
  run["latency"] = {{"requests_timed", latency_s > 0.0 ? scored : 0}, {"mean_s", latency_s}};
  return run;
}

// Two models on two tasks; the tuned model's DROP run used a newer prompt, and GSM8K reports
// the share of answers without a number (`invalid`, lower is better).
std::vector<json> fixture_runs() {
  return {
      make_run("base-7b", "gsm8k", "1", "exact_match",
               {{"exact_match", 0.6353, 0.6090, 0.6609, 1319},
                {"invalid", 0.0121, 0.0071, 0.0205, 1319}},
               1319, 512340, 1.25),
      make_run("tuned-7b", "gsm8k", "1", "exact_match",
               {{"exact_match", 0.7013, 0.6761, 0.7253, 1319},
                {"invalid", 0.0045, 0.0021, 0.0099, 1319}},
               1319, 498112, 0.75),
      make_run("base-7b", "drop", "1", "f1",
               {{"exact_match", 0.4102, 0.3998, 0.4207, 9536},
                {"f1", 0.4821, 0.4712, 0.4930, 9536, false}},
               9536, 2210004, 0.5),
      make_run("tuned-7b", "drop", "2", "f1",
               {{"exact_match", 0.4410, 0.4311, 0.4510, 9536},
                {"f1", 0.5133, 0.5031, 0.5235, 9536, false}},
               9536, 2301777, 0.0),
  };
}

leaderboard fixture_board() {
  leaderboard board = build_leaderboard(fixture_runs());
  board.deltas.push_back(
      {"gsm8k", "exact_match", "base-7b", "tuned-7b", 0.066, 0.0409, 0.0910, 0.00012, 1319});
  board.deltas.push_back(
      {"gsm8k", "invalid", "base-7b", "tuned-7b", -0.0076, -0.0129, -0.0023, 0.021, 1319});
  return board;
}

std::filesystem::path golden_path(const std::string& name) {
  return std::filesystem::path(YARDSTICK_TEST_DATA_DIR) / "reports" / name;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Set YARDSTICK_UPDATE_GOLDEN=1 to rewrite the expected files after an intended change; the diff
// then shows in review what the change does to the reports.
void expect_golden(const std::string& name, const std::string& actual) {
  const auto path = golden_path(name);
  if (std::getenv("YARDSTICK_UPDATE_GOLDEN") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  EXPECT_EQ(actual, slurp(path)) << "differs from " << path;
}

TEST(Leaderboard, MarkdownMatchesGolden) {
  expect_golden("leaderboard.md", render_markdown(fixture_board()));
}

TEST(Leaderboard, CsvMatchesGolden) {
  expect_golden("leaderboard.csv", render_csv(fixture_board()));
}

TEST(Leaderboard, JsonMatchesGolden) {
  expect_golden("leaderboard.json", render_json(fixture_board()));
}

TEST(Leaderboard, ColumnsPutThePrimaryMetricFirstAndKeepVersionsApart) {
  const auto board = build_leaderboard(fixture_runs());
  std::vector<std::string> keys;
  for (const auto& column : board.columns)
    keys.push_back(column.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"gsm8k/exact_match", "gsm8k/invalid",
                                            "drop@t1-p1-s1/f1", "drop@t1-p1-s1/exact_match",
                                            "drop@t1-p2-s1/f1", "drop@t1-p2-s1/exact_match"}));
  EXPECT_EQ(board.columns[4].versions, "task 1, prompt 2, scorer 1");
  ASSERT_EQ(board.warnings.size(), 1u);
  EXPECT_NE(board.warnings[0].find("task 1, prompt 1, scorer 1 (base-7b)"), std::string::npos);
  EXPECT_NE(board.warnings[0].find("task 1, prompt 2, scorer 1 (tuned-7b)"), std::string::npos);
  // Neither model has a value in the other's DROP columns: nothing was averaged across prompts.
  EXPECT_FALSE(board.rows[0].cells.count("drop@t1-p2-s1/f1"));
  EXPECT_FALSE(board.rows[1].cells.count("drop@t1-p1-s1/f1"));
}

TEST(Leaderboard, RowsSumSamplesAndTokensAndWeighLatencyByTimedRequests) {
  const auto board = build_leaderboard(fixture_runs());
  ASSERT_EQ(board.rows.size(), 2u);
  EXPECT_EQ(board.rows[0].label, "base-7b");
  EXPECT_EQ(board.rows[0].samples, 1319u + 9536u);
  EXPECT_EQ(board.rows[0].total_tokens, 512340 + 2210004);
  EXPECT_DOUBLE_EQ(board.rows[0].mean_latency_s, (1.25 * 1319 + 0.5 * 9536) / (1319 + 9536));
  // The replayed DROP run has no timed requests and must not pull the mean towards 0.
  EXPECT_DOUBLE_EQ(board.rows[1].mean_latency_s, 0.75);
}

TEST(Leaderboard, BestIsHighestExceptForLowerIsBetterMetrics) {
  const auto board = build_leaderboard(fixture_runs());
  EXPECT_EQ(board.best.at("gsm8k/exact_match"), "tuned-7b");
  EXPECT_EQ(board.best.at("gsm8k/invalid"), "tuned-7b");

  const auto markers = build_leaderboard({
      make_run("a", "citations", "1", "citation_f1",
               {{"citation_f1", 0.5, 0.4, 0.6, 50}, {"nonstandard_markers", 0.02, 0.0, 0.1, 50}},
               50, 1, 0.0),
      make_run("b", "citations", "1", "citation_f1",
               {{"citation_f1", 0.5, 0.4, 0.6, 50}, {"nonstandard_markers", 0.30, 0.2, 0.4, 50}},
               50, 1, 0.0),
  });
  EXPECT_EQ(markers.best.at("citations/nonstandard_markers"), "a");
  EXPECT_EQ(markers.best.at("citations/citation_f1"), "a");  // a tie goes to the first row
}

TEST(Leaderboard, ALoneValueIsBestButNotMarkedAsAWin) {
  const auto board = build_leaderboard(fixture_runs());
  EXPECT_EQ(board.best.at("drop@t1-p2-s1/f1"), "tuned-7b");
  EXPECT_EQ(render_markdown(board).find("**51.33"), std::string::npos);
  EXPECT_EQ(render_html(board).find("<strong>51.33"), std::string::npos);
  EXPECT_NE(render_html(board).find("<strong>70.13"), std::string::npos);
}

TEST(Leaderboard, ALaterRunOfTheSameLabelAndColumnReplacesTheEarlierOne) {
  const auto board = build_leaderboard({
      make_run("m", "gsm8k", "1", "exact_match", {{"exact_match", 0.20, 0.1, 0.3, 100}}, 100, 10,
               1.0),
      make_run("other", "gsm8k", "1", "exact_match", {{"exact_match", 0.30, 0.2, 0.4, 100}}, 100,
               10, 1.0),
      make_run("m", "gsm8k", "1", "exact_match", {{"exact_match", 0.50, 0.4, 0.6, 100}}, 100, 10,
               1.0),
  });
  ASSERT_EQ(board.rows.size(), 2u);
  EXPECT_EQ(board.rows[0].label, "m");
  EXPECT_DOUBLE_EQ(board.rows[0].cells.at("gsm8k/exact_match").value, 0.50);
  EXPECT_EQ(board.rows[0].samples, 100u);  // the replaced run counts no more
  EXPECT_EQ(board.best.at("gsm8k/exact_match"), "m");
  ASSERT_EQ(board.warnings.size(), 1u);
  EXPECT_EQ(board.warnings[0],
            "\"m\" has more than one run of gsm8k (task 1, prompt 1, scorer 1): run.json #3 "
            "replaces #1");
}

TEST(Leaderboard, MetricsWithoutValueAreLeftOut) {
  auto run = make_run("m", "drop", "1", "f1", {{"f1", 0.5, 0.4, 0.6, 10, false}}, 10, 1, 0.0);
  run["metrics"]["exact_match"] = {{"value", nullptr}};
  const auto board = build_leaderboard({run});
  ASSERT_EQ(board.columns.size(), 1u);
  EXPECT_EQ(board.columns[0].key, "drop/f1");
}

TEST(Leaderboard, UnusableRunNamesItsPositionAndField) {
  auto run = make_run("m", "drop", "1", "f1", {{"f1", 0.5, 0.4, 0.6, 10, false}}, 10, 1, 0.0);
  auto no_label = run;
  no_label.erase("label");
  try {
    build_leaderboard({run, no_label});
    FAIL() << "expected input_error";
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()), "run.json #2: field 'label': missing or not a string");
  }
  auto bad_value = run;
  bad_value["metrics"]["f1"]["value"] = "high";
  EXPECT_THROW(build_leaderboard({bad_value}), input_error);
  auto bad_ci = run;
  bad_ci["metrics"]["f1"]["ci95"] = {0.1};
  EXPECT_THROW(build_leaderboard({bad_ci}), input_error);
}

TEST(Leaderboard, NumericVersionsAndInvalidUtf8AreHandled) {
  auto run = make_run("bad\xff", "drop", "1", "f1", {{"f1", 0.5, 0.4, 0.6, 10, false}}, 10, 1, 0.0);
  run["task"]["prompt_version"] = 2;
  const auto board = build_leaderboard({run});
  EXPECT_EQ(board.columns[0].versions, "task 1, prompt 2, scorer 1");
  const json back = json::parse(render_json(board));
  EXPECT_EQ(back["rows"][0]["label"], "bad\uFFFD");
  EXPECT_NO_THROW(render_html(board));
}

TEST(Leaderboard, EmptyInputRendersEverywhere) {
  const auto board = build_leaderboard({});
  EXPECT_EQ(render_markdown(board).substr(0, 39), "| model | samples | tokens | latency |\n");
  EXPECT_EQ(render_csv(board), "label,task,metric,versions,value,ci_low,ci_high,n\n");
  EXPECT_EQ(json::parse(render_json(board))["rows"], json::array());
  EXPECT_NE(render_html(board).find("No runs."), std::string::npos);
}

// Labels are user input: a comma, a quote or a line break must not shift or split CSV fields.
TEST(Leaderboard, CsvQuotesFieldsAsRfc4180Says) {
  const auto board = build_leaderboard({
      make_run("a,\"b\"", "gsm8k", "1", "exact_match", {{"exact_match", 0.5, 0.25, 0.75, 4}}, 4, 1,
               0.0),
      make_run("line\nbreak", "gsm8k", "1", "exact_match", {{"exact_match", 0.1, 0.0, 0.5, 4}}, 4,
               1, 0.0),
  });
  EXPECT_EQ(render_csv(board),
            "label,task,metric,versions,value,ci_low,ci_high,n\n"
            "\"a,\"\"b\"\"\",gsm8k,exact_match,\"task 1, prompt 1, scorer 1\",0.5,0.25,0.75,4\n"
            "\"line\nbreak\",gsm8k,exact_match,\"task 1, prompt 1, scorer 1\",0.1,0,0.5,4\n");
}

TEST(Leaderboard, MarkdownEscapesLabelsThatWouldBreakTheTable) {
  const auto board = build_leaderboard({
      make_run("x|y *z* <b> _a_ snake_case", "gsm8k", "1", "exact_match",
               {{"exact_match", 0.5, 0.25, 0.75, 4}}, 4, 1, 0.0),
      make_run("plain", "gsm8k", "1", "exact_match", {{"exact_match", 0.25, 0.1, 0.5, 4}}, 4, 1,
               0.0),
  });
  const std::string md = render_markdown(board);
  EXPECT_NE(md.find("| x\\|y \\*z\\* \\<b\\> \\_a\\_ snake_case | **50.00 (25.00\u201375.00)** |"),
            std::string::npos)
      << md;
}

TEST(Leaderboard, HtmlIsSelfContainedAndEscapesLabels) {
  auto runs = fixture_runs();
  runs.push_back(make_run("<b>&\"x\"", "gsm8k", "1", "exact_match",
                          {{"exact_match", 0.9, 0.8, 0.95, 50}}, 50, 1, 0.0));
  auto board = build_leaderboard(runs);
  board.deltas = fixture_board().deltas;
  board.deltas[0].label_b = "<b>&\"x\"";
  const std::string html = render_html(board);

  for (const char* forbidden : {"<script", "http://", "https://", "src=", "href=", "url(",
                                "@import", "<b>&\"x\"", "<link", "<iframe", "<img"})
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  EXPECT_NE(html.find("&lt;b&gt;&amp;&quot;x&quot;"), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);

  std::size_t charts = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
    ++charts;
  EXPECT_EQ(charts, 4u);  // gsm8k, the two DROP prompt versions, and the deltas
  EXPECT_NE(html.find("Paired differences"), std::string::npos);
  // Improvement and regression are written out, not shown by colour alone; a drop in `invalid`
  // is an improvement.
  EXPECT_NE(html.find("p &lt; 0.001, n = 1319 \u00B7 \u25B2 improvement"), std::string::npos);
  EXPECT_NE(html.find("p = 0.021, n = 1319 \u00B7 \u25B2 improvement"), std::string::npos);
  EXPECT_NE(html.find("best"), std::string::npos);
}

TEST(Leaderboard, HtmlReplacesControlCharactersAndShortensLongChartLabels) {
  const std::string long_label = "org/" + std::string(80, 'm') + "\u00E9-end";
  const auto board = build_leaderboard({
      make_run("bell\x07", "gsm8k", "1", "exact_match", {{"exact_match", 0.5, 0.25, 0.75, 4}}, 4, 1,
               0.0),
      make_run(long_label, "gsm8k", "1", "exact_match", {{"exact_match", 0.4, 0.2, 0.6, 4}}, 4, 1,
               0.0),
  });
  const std::string html = render_html(board);
  EXPECT_EQ(html.find('\x07'), std::string::npos);
  EXPECT_NE(html.find("bell\uFFFD"), std::string::npos);
  EXPECT_NE(html.find(long_label), std::string::npos);       // whole in the table and the tooltip
  EXPECT_NE(html.find("\u2026</text>"), std::string::npos);  // shortened beside its bar
}

TEST(Leaderboard, DeltaVerdictNeedsSignificance) {
  auto board = build_leaderboard(fixture_runs());
  board.deltas.push_back({"drop", "f1", "base-7b", "tuned-7b", -0.02, -0.05, 0.01, 0.2, 100});
  board.deltas.push_back(
      {"drop", "exact_match", "base-7b", "tuned-7b", -0.04, -0.07, -0.01, 0.003, 100});
  const std::string md = render_markdown(board);
  EXPECT_NE(md.find("| drop | f1 | base-7b | tuned-7b | -2.00 (-5.00 to +1.00) | 0.200 | 100 | "
                    "no clear change |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| -4.00 (-7.00 to -1.00) | 0.003 | 100 | regression |"), std::string::npos);
  const std::string html = render_html(board);
  EXPECT_NE(html.find("\u25BC regression"), std::string::npos);
  EXPECT_NE(html.find("no clear change"), std::string::npos);
}

}  // namespace
}  // namespace ys::reports
