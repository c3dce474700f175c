// Renders the HTML leaderboard in a real browser (Debian's chromium, headless): the page must
// parse into the table and the SVG charts, and paint. Skipped where chromium is not installed;
// scripts/setup.sh --with-browser installs it.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "reports/leaderboard.h"
#include "reports/profile_report.h"
#include "tests/support/temp_dir.h"

namespace ys::reports {
namespace {

using nlohmann::json;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr int kWindowWidth = 1200;
constexpr int kWindowHeight = 1600;

json make_run(const std::string& label, const std::string& task, const std::string& primary,
              const std::vector<std::array<double, 3>>& values, std::size_t n) {
  json run;
  run["label"] = label;
  run["task"] = {
      {"name", task}, {"task_version", "1"}, {"prompt_version", "1"}, {"scorer_version", "1"}};
  run["primary_metric"] = primary;
  run["metrics"] = json::object();
  const std::vector<std::string> names = {primary, "invalid"};
  for (std::size_t i = 0; i < values.size() && i < names.size(); ++i) {
    run["metrics"][names[i]] = {
        {"value", values[i][0]}, {"ci95", {values[i][1], values[i][2]}}, {"n", n}};
  }
  run["counts"] = {{"scored", n}};
  run["usage"] = {{"total_tokens", 400 * n}};
  run["latency"] = {{"requests_timed", n}, {"mean_s", 0.8}};
  return run;
}

// Four models, one with a label that needs escaping and one long enough to be shortened in the
// charts, two tasks, and paired differences both ways.
leaderboard sample_board() {
  const std::string long_label = "example-org/a-rather-long-model-name-instruct-v0.3-q4_k_m";
  leaderboard board = build_leaderboard({
      make_run("base-7b", "gsm8k", "exact_match",
               {{{0.6353, 0.6090, 0.6609}}, {{0.0121, 0.0071, 0.0205}}}, 1319),
      make_run("tuned-7b", "gsm8k", "exact_match",
               {{{0.7013, 0.6761, 0.7253}}, {{0.0045, 0.0021, 0.0099}}}, 1319),
      make_run("<b>&\"x\"", "gsm8k", "exact_match",
               {{{0.2400, 0.1600, 0.3400}}, {{0.0800, 0.0400, 0.1500}}}, 100),
      make_run(long_label, "gsm8k", "exact_match",
               {{{0.9120, 0.8960, 0.9260}}, {{0.0010, 0.0002, 0.0050}}}, 1319),
      make_run("base-7b", "drop", "f1", {{{0.4821, 0.4712, 0.4930}}}, 9536),
      make_run("tuned-7b", "drop", "f1", {{{0.5133, 0.5031, 0.5235}}}, 9536),
      make_run(long_label, "drop", "f1", {{{0.7702, 0.7610, 0.7790}}}, 9536),
  });
  board.deltas = {
      {"gsm8k", "exact_match", "base-7b", "tuned-7b", 0.066, 0.0409, 0.0910, 0.00012, 1319},
      {"gsm8k", "invalid", "base-7b", "tuned-7b", -0.0076, -0.0129, -0.0023, 0.021, 1319},
      {"drop", "f1", "base-7b", "tuned-7b", 0.0312, 0.0240, 0.0385, 0.0004, 9536},
      {"drop", "f1", "tuned-7b", "<b>&\"x\"", -0.021, -0.052, 0.009, 0.17, 400},
  };
  return board;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// One headless chromium run with its own fresh profile, so that nothing of a previous run (or the
// user's browser) is reused; everything that could reach the network is switched off.
int run_chromium(const std::filesystem::path& work, const std::string& name,
                 const std::string& arguments, const std::filesystem::path& page) {
  const auto profile = work / ("profile-" + name);
  std::filesystem::create_directories(profile);
  const std::string command =
      "timeout 120 " + std::string(kChromium) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" +
      shell_quote(profile.string()) + " " + arguments + " " +
      shell_quote("file://" + page.string()) + " >" +
      shell_quote((work / (name + ".out")).string()) + " 2>" +
      shell_quote((work / (name + ".err")).string());
  return std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++found;
  return found;
}

class BrowserReport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kChromium))
      GTEST_SKIP() << kChromium << " is not installed; scripts/setup.sh --with-browser installs it";
    page_ = dir_.write("leaderboard.html", render_html(sample_board()));
  }

  testing::temp_dir dir_;
  std::filesystem::path page_;
};

TEST_F(BrowserReport, DomHasTheTableAndTheCharts) {
  ASSERT_EQ(run_chromium(dir_.path(), "dom", "--dump-dom", page_), 0)
      << slurp(dir_.path() / "dom.err");
  const std::string dom = slurp(dir_.path() / "dom.out");
  ASSERT_FALSE(dom.empty()) << slurp(dir_.path() / "dom.err");
  EXPECT_NE(dom.find("<h1>Leaderboard</h1>"), std::string::npos);
  EXPECT_EQ(count(dom, "<table"), 1u);
  EXPECT_EQ(count(dom, "<tr>"), 5u);  // the header and four models
  EXPECT_EQ(count(dom, "<svg"), 3u);  // gsm8k, drop, the deltas
  EXPECT_EQ(count(dom, "<circle"), 4u);
  EXPECT_GE(count(dom, "<rect"), 7u);   // a bar per (model, task) with a value
  EXPECT_GE(count(dom, "<path"), 14u);  // whiskers, each with its halo
  EXPECT_GT(count(dom, "<text"), 40u);
  // The label reached the DOM as text: the browser did not parse it into an element.
  EXPECT_EQ(dom.find("<b>&"), std::string::npos);
  EXPECT_NE(dom.find("&lt;b&gt;&amp;\"x\""), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
}

// The profile section on a page of its own (no runs): the chart's lines and markers reach the
// DOM as SVG elements.
TEST_F(BrowserReport, ProfileChartParses) {
  const std::string data = YARDSTICK_TEST_DATA_DIR;
  const std::vector<profile> profiles = {
      load_profile(data + "/profiles/mixtral-8x7b-measured.json"),
      load_profile(data + "/profiles/llama-2-7b-analytic.json")};
  const auto page = dir_.write("profiles.html",
                               render_html(build_leaderboard({}), render_profile_html(profiles)));
  ASSERT_EQ(run_chromium(dir_.path(), "profiles", "--dump-dom", page), 0)
      << slurp(dir_.path() / "profiles.err");
  const std::string dom = slurp(dir_.path() / "profiles.out");
  ASSERT_FALSE(dom.empty()) << slurp(dir_.path() / "profiles.err");
  EXPECT_NE(dom.find("<h2>Dense vs sparse cost</h2>"), std::string::npos);
  EXPECT_EQ(count(dom, "<svg"), 1u);
  EXPECT_EQ(count(dom, "<polyline"), 3u);  // mixtral dense and sparse, llama analytic
  EXPECT_EQ(count(dom, "<circle"), 3u);    // the sparse points and the legend's
  EXPECT_EQ(count(dom, "<table"), 2u);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
}

TEST_F(BrowserReport, ScreenshotIsPainted) {
  const auto png = dir_.path() / "leaderboard.png";
  ASSERT_EQ(run_chromium(dir_.path(), "shot",
                         "--hide-scrollbars --screenshot=" + shell_quote(png.string()) +
                             " --window-size=" + std::to_string(kWindowWidth) + "," +
                             std::to_string(kWindowHeight),
                         page_),
            0)
      << slurp(dir_.path() / "shot.err");
  ASSERT_TRUE(std::filesystem::exists(png)) << slurp(dir_.path() / "shot.err");
  const std::string bytes = slurp(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: big-endian width and height at bytes 16 and 20.
  const auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) |
           (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) |
           static_cast<unsigned char>(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), kWindowWidth);
  EXPECT_EQ(be32(20), kWindowHeight);
  // A blank page compresses to a few hundred bytes; text and charts take tens of kilobytes.
  EXPECT_GT(bytes.size(), 20000u);
  // To look at the picture: YARDSTICK_KEEP_SCREENSHOT=/some/file.png
  if (const char* keep = std::getenv("YARDSTICK_KEEP_SCREENSHOT"))  // NOLINT(concurrency-mt-unsafe)
    std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace ys::reports
