// The profile section of `yardstick report`: reading `yardstick profile --format json` files, the
// cost-per-token chart, the tables, the JSON, and the --profile option of the binary.
#include "reports/profile_report.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/run_files.h"
#include "reports/leaderboard.h"
#include "tests/support/temp_dir.h"

namespace ys::reports {
namespace {

using nlohmann::json;

const std::string kMeasured =
    std::string(YARDSTICK_TEST_DATA_DIR) + "/profiles/mixtral-8x7b-measured.json";
const std::string kAnalytic =
    std::string(YARDSTICK_TEST_DATA_DIR) + "/profiles/llama-2-7b-analytic.json";

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++found;
  return found;
}

// The message of the input_error that parsing `document` throws, or "" when it does not throw.
std::string parse_error(const json& document) {
  try {
    parse_profile(document, "profile.json");
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

std::vector<profile> both() {
  return {load_profile(kMeasured), load_profile(kAnalytic)};
}

// The `points` attribute of every polyline, in order.
std::vector<std::string> polyline_points(const std::string& svg) {
  std::vector<std::string> found;
  const std::regex pattern("<polyline points=\"([^\"]*)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), pattern), end; it != end; ++it)
    found.push_back((*it)[1].str());
  return found;
}

std::vector<std::pair<double, double>> coordinates(const std::string& points) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(points);
  for (std::string pair; in >> pair;) {
    const auto comma = pair.find(',');
    out.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return out;
}

TEST(ProfileReport, ParsesAMeasuredMixtureOfExpertsProfile) {
  const profile p = load_profile(kMeasured);
  EXPECT_EQ(p.file, kMeasured);
  EXPECT_EQ(p.model, "mixtral-8x7b");
  EXPECT_EQ(p.model_type, "mixtral");
  EXPECT_EQ(p.total_params, 46702792704);
  EXPECT_EQ(p.active_params, 12879925248);
  EXPECT_EQ(p.device, "h100-sxm");
  EXPECT_DOUBLE_EQ(p.device_peak_flops, 989e12);
  ASSERT_EQ(p.batch_sweep.size(), 11u);
  EXPECT_EQ(p.batch_sweep.back().batch, 1024);
  EXPECT_TRUE(p.batch_sweep.back().compute_bound);
  ASSERT_TRUE(p.measured.has_value());
  const auto& m = *p.measured;
  EXPECT_EQ(m.backend, "cpu");
  EXPECT_EQ(m.device.rfind("CPU, 2 threads", 0), 0u);
  EXPECT_DOUBLE_EQ(m.scale, 0.25);
  EXPECT_EQ(m.dense_d_model, 1024);
  EXPECT_EQ(m.dense_d_ff, 28672);
  ASSERT_TRUE(m.sparse.has_value());
  EXPECT_EQ(m.sparse->experts, 8);
  EXPECT_EQ(m.sparse->top_k, 2);
  EXPECT_EQ(m.sparse->d_expert, 3584);
  ASSERT_EQ(m.points.size(), 2u);
  EXPECT_EQ(m.points[0].tokens, 1);
  EXPECT_EQ(m.points[1].tokens, 64);
  EXPECT_DOUBLE_EQ(m.points[0].dense.measured_ns_per_token, 24337740.0);
  ASSERT_TRUE(m.points[0].sparse.has_value());
  EXPECT_DOUBLE_EQ(m.points[0].sparse->measured_ns_per_token, 3256504.5);
  EXPECT_DOUBLE_EQ(m.points[1].sparse->experts_touched.value_or(0), 8.0);
  EXPECT_FALSE(m.points[1].dense.experts_touched.has_value());
  EXPECT_NEAR(m.points[0].time_ratio.value_or(0), 0.1338, 1e-4);
  EXPECT_NEAR(m.points[0].flop_ratio.value_or(0), 0.2501, 1e-4);
}

TEST(ProfileReport, ParsesAnAnalyticDenseProfile) {
  const profile p = load_profile(kAnalytic);
  EXPECT_EQ(p.model, "llama-2-7b");
  EXPECT_EQ(p.model_type, "llama");
  EXPECT_EQ(p.total_params, p.active_params);
  EXPECT_FALSE(p.measured.has_value());
  ASSERT_EQ(p.batch_sweep.size(), 11u);
  EXPECT_EQ(p.batch_sweep[0].batch, 1);
  EXPECT_DOUBLE_EQ(p.batch_sweep[0].ns_per_token, 3944685.20119403);
  EXPECT_FALSE(p.batch_sweep[0].compute_bound);
  EXPECT_TRUE(p.batch_sweep[8].compute_bound);
}

TEST(ProfileReport, AMissingOrMistypedFieldIsNamedWithItsPath) {
  const json document = read_json_file(kMeasured);

  json missing = document;
  missing["measured"]["points"][1]["dense"].erase("measured_ns_per_token");
  EXPECT_EQ(parse_error(missing),
            "profile.json: field 'measured.points[1].dense.measured_ns_per_token': missing");

  json mistyped = document;
  mistyped["batch_sweep"][3]["ns_per_token"] = "fast";
  EXPECT_EQ(parse_error(mistyped),
            "profile.json: field 'batch_sweep[3].ns_per_token': not a number");

  json zero = document;
  zero["measured"]["points"][0]["sparse"]["measured_ns_per_token"] = 0;
  EXPECT_EQ(parse_error(zero),
            "profile.json: field 'measured.points[0].sparse.measured_ns_per_token': must be > 0, "
            "not 0");

  json no_model = document;
  no_model.erase("model");
  EXPECT_EQ(parse_error(no_model), "profile.json: field 'model': missing");

  json no_shape = document;
  no_shape["measured"]["shapes"]["sparse"].erase("top_k");
  EXPECT_EQ(parse_error(no_shape), "profile.json: field 'measured.shapes.sparse.top_k': missing");

  EXPECT_EQ(parse_error(json::array()), "profile.json: not a JSON object");

  // Through a file, the message names the file as given.
  testing::temp_dir dir;
  const auto path = dir.write("broken.json", missing.dump());
  try {
    load_profile(path);
    FAIL() << "no error";
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": field 'measured.points[1].dense.measured_ns_per_token': missing");
  }
  EXPECT_THROW(load_profile(dir.path() / "absent.json"), input_error);
  EXPECT_THROW(load_profile(dir.write("bad.json", "{\"schema_version\": 2,")), input_error);
}

TEST(ProfileReport, OtherSchemaVersionsAreRefused) {
  json document = read_json_file(kAnalytic);
  document["schema_version"] = 1;
  EXPECT_EQ(parse_error(document),
            "profile.json: profile schema_version 1 was written by an older yardstick (this one "
            "reads schema_version 2); write it again with this version's `yardstick profile "
            "--format json`");
  document["schema_version"] = 3;
  EXPECT_EQ(parse_error(document),
            "profile.json: profile schema_version 3 was written by a newer yardstick (this one "
            "reads schema_version 2); upgrade yardstick to read it");
  document["schema_version"] = "2";
  EXPECT_EQ(parse_error(document),
            "profile.json: profile schema_version \"2\" is not supported: this yardstick reads "
            "schema_version 2, a whole number");
  document["schema_version"] = 2.5;
  EXPECT_NE(parse_error(document).find("schema_version 2.5 is not supported"), std::string::npos);
  document.erase("schema_version");
  EXPECT_EQ(parse_error(document), "profile.json: field 'schema_version': missing");
}

TEST(ProfileReport, ARunSummaryIsNamedAsOneNotAsAnOldProfile) {
  // The keys `yardstick run` writes to run.json (schema_version 1 among them).
  json run = {{"schema_version", 1},
              {"label", "tuned"},
              {"task", {{"name", "gsm8k"}}},
              {"metrics", {{"exact_match", {{"value", 0.5}}}}},
              {"status", "complete"}};
  const std::string expected =
      "profile.json is a run.json, not a profile; pass its directory as a run, or make a profile "
      "with `yardstick profile --format json`";
  EXPECT_EQ(parse_error(run), expected);
  run.erase("metrics");  // an unfinished run: status, no metrics yet
  EXPECT_EQ(parse_error(run), expected);
  // A profile that happens to carry a "task" key is still read as a profile.
  json profile_with_task = read_json_file(kAnalytic);
  profile_with_task["task"] = "decode";
  profile_with_task["status"] = "complete";
  EXPECT_EQ(parse_error(profile_with_task), "");
}

TEST(ProfileReport, CurvesAreMeasuredDenseAndSparseOrAnalytic) {
  const auto curves = profile_curves(both());
  ASSERT_EQ(curves.size(), 3u);
  // The fixture was measured at a quarter of Mixtral's widths.
  EXPECT_EQ(curves[0].name, "mixtral-8x7b dense layer (measured, cpu, \u00D71/4 widths)");
  EXPECT_EQ(curves[0].kind, curve_kind::dense);
  EXPECT_EQ(curves[1].name, "mixtral-8x7b sparse layer (measured, cpu, \u00D71/4 widths)");
  EXPECT_EQ(curves[1].kind, curve_kind::sparse);
  EXPECT_EQ(curves[2].name, "llama-2-7b (analytic decode, h100-sxm)");
  EXPECT_EQ(curves[2].kind, curve_kind::analytic);
  EXPECT_EQ(curves[0].profile_index, 0u);
  EXPECT_EQ(curves[2].profile_index, 1u);
  ASSERT_EQ(curves[1].points.size(), 2u);
  EXPECT_DOUBLE_EQ(curves[1].points[1].tokens, 64.0);
  EXPECT_DOUBLE_EQ(curves[1].points[1].ns_per_token, 2624911.5);
  EXPECT_EQ(curves[2].points.size(), 11u);
}

TEST(ProfileReport, LegendNamesTheBackEndOfBothCurvesAndTheScaleUnlessItIsOne) {
  profile p = load_profile(kMeasured);
  const auto names = [&p](double scale, const std::string& backend) {
    p.measured->scale = scale;
    p.measured->backend = backend;
    const auto curves = profile_curves({p});
    EXPECT_EQ(curves.size(), 2u);
    return std::pair{curves.at(0).name, curves.at(1).name};
  };
  EXPECT_EQ(names(1.0, "cuda"),
            std::pair(std::string("mixtral-8x7b dense layer (measured, cuda)"),
                      std::string("mixtral-8x7b sparse layer (measured, cuda)")));
  EXPECT_EQ(names(0.125, "cpu").second,
            "mixtral-8x7b sparse layer (measured, cpu, \u00D71/8 widths)");
  EXPECT_EQ(names(0.5, "cpu").first, "mixtral-8x7b dense layer (measured, cpu, \u00D71/2 widths)");
  EXPECT_EQ(names(1.0 / 1024, "cpu").first,
            "mixtral-8x7b dense layer (measured, cpu, \u00D71/1024 widths)");
  // Not a power of 1/2: a decimal.
  EXPECT_EQ(names(0.3, "cpu").second,
            "mixtral-8x7b sparse layer (measured, cpu, \u00D70.3 widths)");
  EXPECT_EQ(names(0.75, "cpu").first,
            "mixtral-8x7b dense layer (measured, cpu, \u00D70.75 widths)");
  EXPECT_EQ(names(1.0 / 3, "cpu").first,
            "mixtral-8x7b dense layer (measured, cpu, \u00D70.333 widths)");
  EXPECT_EQ(names(2.0, "cpu").first, "mixtral-8x7b dense layer (measured, cpu, \u00D72 widths)");
}

TEST(ProfileReport, SvgDrawsOnePolylinePerCurveOnLogAxes) {
  const auto profiles = both();
  const std::string svg = render_profile_svg(profiles);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("Cost per token vs batch size"), std::string::npos);
  const auto lines = polyline_points(svg);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(coordinates(lines[0]).size(), 2u);
  EXPECT_EQ(coordinates(lines[1]).size(), 2u);
  EXPECT_EQ(coordinates(lines[2]).size(), 11u);
  // Dense dashed, sparse solid, analytic dotted: told apart without colour.
  EXPECT_EQ(count(svg, "<polyline"), 3u);
  EXPECT_EQ(count(svg, "stroke-dasharray=\"8 4\""), 2u);  // the dense line and its legend sample
  EXPECT_EQ(count(svg, "stroke-dasharray=\"2 3\""), 2u);  // the analytic line and its legend
  EXPECT_EQ(count(svg, "<circle"), 3u);                   // two sparse points and the legend's

  // The axes span whole powers: 1 to 1024 tokens, 10 µs to 100 ms.
  const auto layout = layout_profile_chart(profile_curves(profiles));
  EXPECT_EQ(layout.x.low_power, 0);
  EXPECT_EQ(layout.x.high_power, 10);
  EXPECT_EQ(layout.y.low_power, 4);
  EXPECT_EQ(layout.y.high_power, 8);
  // Log scales: 32 tokens (2^5) is half-way along 2^0..2^10, 1 ms (10^6 ns) half-way up 10^4..10^8.
  EXPECT_DOUBLE_EQ(layout.x.position(32.0), (layout.x.from_px + layout.x.to_px) / 2.0);
  EXPECT_DOUBLE_EQ(layout.y.position(1e6), (layout.y.from_px + layout.y.to_px) / 2.0);
  EXPECT_LT(layout.y.position(1e7), layout.y.position(1e6));  // larger values higher up

  // llama-2-7b at batch 32: 123273.78 ns per token.
  const auto llama = coordinates(lines[2]);
  const double x32 = layout.x.position(32.0);
  const double y32 = layout.y.position(123273.78149253732);
  EXPECT_NEAR(llama[5].first, x32, 0.051);
  EXPECT_NEAR(llama[5].second, y32, 0.051);
  EXPECT_NE(lines[2].find(fmt::format("{:.1f},{:.1f}", x32, y32)), std::string::npos);
  const double plot_height = layout.y.from_px - layout.y.to_px;
  EXPECT_NEAR(y32, layout.y.from_px - plot_height * (std::log10(123273.78149253732) - 4.0) / 4.0,
              1e-9);
  // Doubling the batch is one equal step to the right.
  for (std::size_t i = 1; i < llama.size(); ++i)
    EXPECT_NEAR(llama[i].first - llama[i - 1].first, llama[1].first - llama[0].first, 0.11);

  // Readable decade labels, and the exact values in the tooltips.
  for (const char* label : {">10 \u00B5s<", ">100 \u00B5s<", ">1 ms<", ">10 ms<", ">100 ms<"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  EXPECT_NE(svg.find("<title>mixtral-8x7b dense layer (measured, cpu, \u00D71/4 widths): 1 "
                     "token, 24.34 ms per token (24337740 ns)"),
            std::string::npos);
  EXPECT_NE(svg.find("<title>mixtral-8x7b sparse layer (measured, cpu, \u00D71/4 widths): 64 "
                     "tokens, 2.625 ms per token (2624911.5 ns)"),
            std::string::npos);
  // The legend carries the same names.
  EXPECT_NE(svg.find(">mixtral-8x7b sparse layer (measured, cpu, \u00D71/4 widths)</text>"),
            std::string::npos);
  EXPECT_NE(svg.find("(123273.78149253732 ns); memory-bound</title>"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
}

TEST(ProfileReport, SvgEscapesNamesAndDrawsNothingWithoutPoints) {
  profile p = load_profile(kAnalytic);
  p.model = "<b>&\"x\"";
  const std::string svg = render_profile_svg({p});
  EXPECT_EQ(svg.find("<b>&"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;&amp;&quot;x&quot; (analytic decode, h100-sxm)"), std::string::npos);

  p.batch_sweep.clear();
  const std::string empty = render_profile_svg({p});
  EXPECT_EQ(count(empty, "<polyline"), 0u);
  EXPECT_NE(empty.find("no points to draw"), std::string::npos);
}

TEST(ProfileReport, MarkdownTablesCarryTheFixtureValues) {
  const std::string md = render_profile_markdown(both());
  EXPECT_EQ(md.rfind("## Dense vs sparse cost\n", 0), 0u) << md;
  EXPECT_NE(md.find("### mixtral-8x7b (measured, cpu)\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| tokens | dense ns/token | sparse ns/token | time ratio | FLOP ratio |\n"
                    "| ---: | ---: | ---: | ---: | ---: |\n"
                    "| 1 | 24,337,740 | 3,256,504 | 0.134 | 0.250 |\n"
                    "| 64 | 3,323,106 | 2,624,912 | 0.790 | 0.250 |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("### llama-2-7b (analytic, h100-sxm)\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| batch | ns/token | bound |\n| ---: | ---: | ---: |\n"
                    "| 1 | 3,944,685 | memory |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 256 | 15,532 | compute |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("8 experts of width 3584, top-2"), std::string::npos) << md;
}

TEST(ProfileReport, NoisyPointsAreFlaggedWhereTheFiguresAreQuoted) {
  json document = json::parse(slurp(kMeasured));
  document["measured"]["noisy_points"] = {1, 64};
  const profile p = parse_profile(document, "noisy.json");
  EXPECT_EQ(p.measured->noisy_points, (std::vector<std::int64_t>{1, 64}));
  const std::string md = render_profile_markdown({p});
  EXPECT_NE(md.find("timings at 1, 64 tokens varied by more than 25%"), std::string::npos) << md;
  EXPECT_EQ(profiles_to_json({p})[0]["measured"]["noisy_points"], json({1, 64}));
  document["measured"]["noisy_points"] = "1";
  EXPECT_NE(parse_error(document).find("measured.noisy_points"), std::string::npos);
}

TEST(ProfileReport, JsonKeepsTheParsedProfilesAndReadsBack) {
  const auto profiles = both();
  nlohmann::ordered_json extra = {{"profiles", profiles_to_json(profiles)}};
  const json report = json::parse(render_json(build_leaderboard({}), extra));
  EXPECT_EQ(report["rows"], json::array());
  ASSERT_EQ(report["profiles"].size(), 2u);
  const json& measured = report["profiles"][0];
  EXPECT_EQ(measured["model"], "mixtral-8x7b");
  EXPECT_EQ(measured["file"], kMeasured);
  EXPECT_EQ(measured["measured"]["points"][1]["sparse"]["experts_touched"], 8.0);
  EXPECT_EQ(measured["measured"]["points"][0]["dense"]["measured_ns_per_token"], 24337740.0);
  EXPECT_FALSE(report["profiles"][1].contains("measured"));
  // What the report writes is itself a profile this reader takes.
  const profile back = parse_profile(measured, "report.json");
  EXPECT_EQ(back.measured->points.size(), 2u);
  EXPECT_DOUBLE_EQ(back.measured->points[1].time_ratio.value_or(0),
                   profiles[0].measured->points[1].time_ratio.value_or(1));
  // Without extra fields the leaderboard JSON is unchanged.
  EXPECT_FALSE(json::parse(render_json(build_leaderboard({}))).contains("profiles"));
}

TEST(ProfileReport, HtmlSectionStandsAloneWithoutRuns) {
  const std::string section = render_profile_html(both());
  EXPECT_EQ(section.rfind("<section class=\"profiles\">\n<h2>Dense vs sparse cost</h2>", 0), 0u);
  EXPECT_EQ(count(section, "<table>"), 2u);
  const std::string page = render_html(build_leaderboard({}), section);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<h1>yardstick report</h1>"), std::string::npos);
  EXPECT_EQ(page.find("No runs."), std::string::npos);
  EXPECT_NE(page.find(section), std::string::npos);
  for (const char* forbidden :
       {"<script", "http://", "https://", "src=", "href=", "url(", "@import", "<link"})
    EXPECT_EQ(page.find(forbidden), std::string::npos) << forbidden;
  // Without a section the page is the leaderboard as before.
  EXPECT_NE(render_html(build_leaderboard({})).find("No runs."), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Through the binary

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

command_result run_yardstick(const std::string& arguments, const testing::temp_dir& dir) {
  const auto out = dir.path() / "stdout.txt";
  const auto err = dir.path() / "stderr.txt";
  const std::string command =
      std::string(YARDSTICK_BINARY) + " " + arguments + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

TEST(ProfileReportCli, HtmlWithProfilesOnly) {
  testing::temp_dir dir;
  const auto page = dir.path() / "report.html";
  const auto r = run_yardstick("report --profile " + kMeasured + " --profile " + kAnalytic +
                                   " --format html --out " + page.string(),
                               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(page);
  EXPECT_NE(html.find("<h2>Dense vs sparse cost</h2>"), std::string::npos);
  EXPECT_NE(html.find("Cost per token vs batch size"), std::string::npos);
  EXPECT_EQ(count(html, "<polyline"), 3u);
  EXPECT_NE(html.find("24,337,740"), std::string::npos);
}

TEST(ProfileReportCli, MarkdownAndJsonWithProfilesOnly) {
  testing::temp_dir dir;
  const auto md = run_yardstick("report --profile " + kMeasured, dir);
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("## Dense vs sparse cost\n", 0), 0u) << md.out;
  EXPECT_EQ(md.out.find("| model |"), std::string::npos) << md.out;

  const auto js = run_yardstick("report --format json --profile " + kAnalytic, dir);
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const json report = json::parse(js.out);
  ASSERT_EQ(report["profiles"].size(), 1u);
  EXPECT_EQ(report["profiles"][0]["batch_sweep"].size(), 11u);
}

TEST(ProfileReportCli, RunsAndProfilesTogether) {
  testing::temp_dir dir;
  const auto run = dir.path() / "run";
  const auto made =
      run_yardstick("run --task gsm8k --model replay:" + std::string(YARDSTICK_DATASETS_DIR) +
                        "/gsm8k/outputs/code-davinci-002.cot.jsonl --limit 5 -q "
                        "--out " +
                        run.string(),
                    dir);
  ASSERT_EQ(made.exit_code, 0) << made.err;

  const auto html =
      run_yardstick("report " + run.string() + " --profile " + kMeasured + " --format html", dir);
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(html.out.find("<h1>Leaderboard</h1>"), std::string::npos);
  EXPECT_NE(html.out.find("<h2>Dense vs sparse cost</h2>"), std::string::npos);
  EXPECT_LT(html.out.find("<h1>Leaderboard</h1>"), html.out.find("Dense vs sparse cost"));

  const auto md = run_yardstick("report --profile " + kMeasured + " " + run.string(), dir);
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("| model |", 0), 0u) << md.out;
  EXPECT_NE(md.out.find("\n## Dense vs sparse cost\n"), std::string::npos) << md.out;

  // CSV holds the leaderboard only, and says so.
  const auto csv =
      run_yardstick("report " + run.string() + " --profile " + kMeasured + " --format csv", dir);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("label,task,metric", 0), 0u);
  EXPECT_NE(csv.err.find("warning: --format csv leaves the --profile files out"), std::string::npos)
      << csv.err;
}

TEST(ProfileReportCli, UnusableInputExitsTwo) {
  testing::temp_dir dir;
  const auto nothing = run_yardstick("report", dir);
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("at least one run directory or --profile file"), std::string::npos)
      << nothing.err;

  const auto csv = run_yardstick("report --format csv --profile " + kAnalytic, dir);
  EXPECT_EQ(csv.exit_code, 2);
  EXPECT_NE(csv.err.find("--format csv holds the leaderboard only"), std::string::npos) << csv.err;

  json old = read_json_file(kAnalytic);
  old["schema_version"] = 1;
  const auto path = dir.write("old.json", old.dump());
  const auto refused = run_yardstick("report --profile " + path.string(), dir);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("schema_version 1 was written by an older yardstick"),
            std::string::npos)
      << refused.err;

  const auto absent = run_yardstick("report --profile " + (dir.path() / "nope.json").string(), dir);
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_NE(absent.err.find("nope.json"), std::string::npos) << absent.err;
}

TEST(ProfileReportCli, ARunAndAProfileInEachOthersPlaceAreNamed) {
  testing::temp_dir dir;
  const auto run = dir.path() / "run";
  const auto made = run_yardstick(
      "run --task gsm8k --model replay:" + std::string(YARDSTICK_DATASETS_DIR) +
          "/gsm8k/outputs/code-davinci-002.cot.jsonl --limit 3 -q --out " + run.string(),
      dir);
  ASSERT_EQ(made.exit_code, 0) << made.err;

  // A run.json given as a profile.
  const auto summary = (run / "run.json").string();
  const auto as_profile = run_yardstick("report --profile " + summary, dir);
  EXPECT_EQ(as_profile.exit_code, 2);
  EXPECT_NE(as_profile.err.find(summary + " is a run.json, not a profile; pass its directory as a "
                                          "run, or make a profile with `yardstick profile "
                                          "--format json`"),
            std::string::npos)
      << as_profile.err;

  // A profile given as a run directory.
  const auto as_run = run_yardstick("report " + kMeasured, dir);
  EXPECT_EQ(as_run.exit_code, 2);
  EXPECT_NE(as_run.err.find(kMeasured +
                            " is a file, not a run directory; to chart a profile use "
                            "yardstick report --profile " +
                            kMeasured),
            std::string::npos)
      << as_run.err;
  EXPECT_EQ(as_run.err.find("cannot open"), std::string::npos) << as_run.err;
}

}  // namespace
}  // namespace ys::reports
