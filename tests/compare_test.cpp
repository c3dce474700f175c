// compare and gate on the real pair shipped with the project: code-davinci-002 (base) and
// text-davinci-002 (its instruction-tuned descendant) on all 1,319 GSM8K test questions.
#include "reports/compare.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cli/report_commands.h"
#include "cli/run_command.h"
#include "harness/run_files.h"
#include "tests/support/temp_dir.h"

namespace ys {
namespace {

const std::string kOutputs = std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/outputs/";

// Both replayed runs, made once for the whole suite.
class shipped_pair : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::temp_dir();
    run_command_options options;
    options.tasks = {"gsm8k"};
    options.models = {"replay:" + kOutputs + "code-davinci-002.cot.jsonl",
                      "replay:" + kOutputs + "text-davinci-002.cot.jsonl"};
    options.labels = {"base", "tuned"};
    options.out = dir_->path();
    options.quiet = true;
    ASSERT_EQ(run_command(options), kExitOk);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path base() { return dir_->path() / "base"; }
  static std::filesystem::path tuned() { return dir_->path() / "tuned"; }
  static testing::temp_dir* dir_;
};
testing::temp_dir* shipped_pair::dir_ = nullptr;

TEST_F(shipped_pair, CompareCountsFlipsAndIsSignificant) {
  const auto c = reports::compare_runs(reports::load_run(base()), reports::load_run(tuned()), {});
  EXPECT_EQ(c.paired, 1319u);
  EXPECT_EQ(c.unpaired, 0u);
  ASSERT_FALSE(c.metrics.empty());
  const auto& em = c.metrics.front();
  EXPECT_EQ(em.metric, "exact_match");
  EXPECT_EQ(em.test, "mcnemar_exact");
  EXPECT_NEAR(em.difference.mean_a, 838.0 / 1319.0, 1e-12);
  EXPECT_NEAR(em.difference.mean_b, 679.0 / 1319.0, 1e-12);
  EXPECT_EQ(static_cast<long>(em.b_only) - static_cast<long>(em.a_only), 679 - 838);
  EXPECT_EQ(em.right_to_wrong.size(), em.a_only);
  EXPECT_EQ(em.wrong_to_right.size(), em.b_only);
  EXPECT_LT(em.p_value, 1e-6);
  EXPECT_LT(em.difference.ci95.high, 0.0);
  EXPECT_GT(em.difference.ci95.low, -0.25);
  EXPECT_GT(em.minimum_detectable_effect, 0.0);
  EXPECT_EQ(em.difference.resamples, 10000);
  // A flipped item carries both extracted answers and the gold.
  const auto& flip = em.right_to_wrong.front();
  EXPECT_FALSE(flip.id.empty());
  EXPECT_EQ(flip.answer_a, flip.gold);
  EXPECT_NE(flip.answer_b, flip.gold);
}

TEST_F(shipped_pair, JsonOutputIsCompleteAndSeeded) {
  const auto a = reports::load_run(base());
  const auto b = reports::load_run(tuned());
  const auto j1 = reports::to_json(reports::compare_runs(a, b, {}));
  const auto j2 = reports::to_json(reports::compare_runs(a, b, {}));
  EXPECT_EQ(j1, j2);  // the bootstrap is seeded
  EXPECT_EQ(j1["metrics"][0]["metric"], "exact_match");
  EXPECT_TRUE(j1["metrics"][0].contains("right_to_wrong"));
  EXPECT_EQ(j1["paired"], 1319);
}

TEST_F(shipped_pair, GateFlagsTheDropAndPassesTheOtherWay) {
  testing::temp_dir out;
  gate_command_options options;
  options.baseline = base();
  options.current = tuned();
  options.max_drop_points = 1.0;
  options.junit = out.path() / "gate.xml";
  EXPECT_EQ(gate_command(options), 1);
  std::ifstream xml(*options.junit);
  const std::string text((std::istreambuf_iterator<char>(xml)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<failure message=\"regression\">"), std::string::npos) << text;
  EXPECT_NE(text.find("failures=\"1\""), std::string::npos);

  std::swap(options.baseline, options.current);
  EXPECT_EQ(gate_command(options), 0);
  // A drop allowance larger than the whole interval passes too.
  std::swap(options.baseline, options.current);
  options.max_drop_points = 30.0;
  EXPECT_EQ(gate_command(options), 0);
  options.strict = true;
  options.max_drop_points = 11.0;  // the point estimate is -12.05 points
  EXPECT_EQ(gate_command(options), 1);
  options.max_drop_points = 13.0;
  EXPECT_EQ(gate_command(options), 0);
}

TEST_F(shipped_pair, RunsOfDifferentEvaluationsAreRefusedWithTheDifference) {
  testing::temp_dir out;
  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {"replay:" + kOutputs + "text-davinci-002.cot.jsonl"};
  options.task.shots = 4;
  options.out = out.path() / "four-shot";
  options.quiet = true;
  ASSERT_EQ(run_command(options), kExitOk);
  try {
    reports::compare_runs(reports::load_run(base()), reports::load_run(options.out), {});
    FAIL();
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("task/shots: 8 -> 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reports::load_run(out.path() / "missing"), input_error);
}

TEST(Compare, AFileInPlaceOfARunDirectoryIsNamedAsOne) {
  testing::temp_dir dir;
  const auto message = [](const std::filesystem::path& path) {
    try {
      reports::load_run(path);
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto notes = dir.write("notes.txt", "not a run\n");
  EXPECT_EQ(message(notes), notes.string() + " is a file, not a run directory");
  const auto other_json = dir.write("other.json", R"({"task": {"name": "gsm8k"}})");
  EXPECT_EQ(message(other_json), other_json.string() + " is a file, not a run directory");
  // A profile gets a pointer to where profiles go.
  const auto profile = dir.write("mixtral.json", R"({"schema_version": 2, "batch_sweep": []})");
  EXPECT_EQ(message(profile), profile.string() +
                                  " is a file, not a run directory; to chart a profile use "
                                  "yardstick report --profile " +
                                  profile.string());
  // A missing directory still names run.json, and run.json itself is still a way to name a run.
  EXPECT_NE(message(dir.path() / "absent").find("run.json"), std::string::npos);
  std::filesystem::create_directories(dir.path() / "run");
  const auto run_json = dir.write("run/run.json", "{");
  EXPECT_EQ(message(run_json).find("is a file"), std::string::npos) << message(run_json);
}

TEST(Compare, XmlEscape) {
  EXPECT_EQ(reports::xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST_F(shipped_pair, LowerIsBetterMetricsAreJudgedTheOtherWay) {
  gate_command_options options;
  options.baseline = tuned();  // 0.00% invalid
  options.current = base();    // 0.15% invalid: a rise, but within a 1-point allowance
  options.metric = "invalid";
  options.max_drop_points = 1.0;
  EXPECT_EQ(gate_command(options), 0);
  options.strict = true;
  options.max_drop_points = 0.1;  // the point estimate rose by 0.15 points
  EXPECT_EQ(gate_command(options), 1);
  EXPECT_TRUE(reports::lower_is_better("invalid"));
  EXPECT_FALSE(reports::lower_is_better("exact_match"));
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST_F(shipped_pair, GateRefusesPartialRunsAndStillWritesJUnit) {
  testing::temp_dir out;
  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {"replay:" + kOutputs + "text-davinci-002.cot.jsonl"};
  options.labels = {"tuned"};
  options.limit = 100;
  options.out = out.path() / "partial";
  options.quiet = true;
  ASSERT_EQ(run_command(options), kExitOk);
  gate_command_options gate;
  gate.baseline = base();
  gate.current = options.out;
  gate.junit = out.path() / "gate.xml";
  try {
    gate_command(gate);
    FAIL() << "a partial run must not be judged silently";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("1219 item(s) are not scored in both runs"),
              std::string::npos)
        << e.what();
  }
  std::ifstream xml(*gate.junit);
  const std::string text((std::istreambuf_iterator<char>(xml)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<error message=\"unusable input\">"), std::string::npos) << text;
  gate.allow_partial = true;
  EXPECT_EQ(gate_command(gate), 1);  // on the 100 paired items the drop is still clear
}

TEST(GoldBackEnd, ScoresReferencesOfGsm8kAsAModel) {
  testing::temp_dir out;
  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {"gold"};
  options.limit = 50;
  options.out = out.path() / "gold";
  options.quiet = true;
  ASSERT_EQ(run_command(options), kExitOk);
  const auto run = read_json_file(options.out / "run.json");
  EXPECT_DOUBLE_EQ(run["metrics"]["exact_match"]["value"].get<double>(), 1.0);
}

}  // namespace
}  // namespace ys
