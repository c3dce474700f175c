// End-to-end tests of the `yardstick` binary: exit codes, run files, resume, secrets.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/run_files.h"
#include "tests/support/temp_dir.h"

namespace ys {
namespace {

const std::string kOutputs = std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/outputs/";

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

command_result run_yardstick(const std::string& arguments, const testing::temp_dir& dir,
                             const std::string& environment = "") {
  const auto out = dir.path() / "stdout.txt";
  const auto err = dir.path() / "stderr.txt";
  const std::string command = environment + " " + YARDSTICK_BINARY + " " + arguments + " >" +
                              out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

std::size_t count_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    lines += line.empty() ? 0 : 1;
  return lines;
}

TEST(Cli, ReplayRunWritesRunFilesAndTable) {
  testing::temp_dir dir;
  const auto out = dir.path() / "run";
  const auto r = run_yardstick("run --task gsm8k --model replay:" + kOutputs +
                                   "code-davinci-002.cot.jsonl --limit 40 -q --out " + out.string(),
                               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("exact_match"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("code-davinci-002.cot"), std::string::npos) << r.out;
  EXPECT_EQ(count_lines(out / "samples.jsonl"), 40u);

  const auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["schema_version"], 1);
  EXPECT_EQ(run["task"]["name"], "gsm8k");
  EXPECT_EQ(run["task"]["task_version"], "1");
  EXPECT_EQ(run["model"]["backend"], "replay");
  EXPECT_EQ(run["counts"]["samples"], 40);
  EXPECT_EQ(run["counts"]["scored"], 40);
  EXPECT_EQ(run["counts"]["failed"], 0);
  EXPECT_EQ(run["counts"]["dataset_samples"], 1319);
  EXPECT_EQ(run["seed"], 1234);
  EXPECT_TRUE(run["context"].contains("git_revision"));
  EXPECT_TRUE(run["context"].contains("build_type"));
  EXPECT_TRUE(run.contains("started_at"));
  EXPECT_TRUE(run.contains("finished_at"));
  const auto& em = run["metrics"]["exact_match"];
  EXPECT_EQ(em["n"], 40);
  const double value = em["value"].get<double>();
  EXPECT_GT(value, 0.3);
  EXPECT_LE(em["ci95"][0].get<double>(), value);
  EXPECT_GE(em["ci95"][1].get<double>(), value);
  EXPECT_GT(em["stderr"].get<double>(), 0.0);

  // The samples agree with the aggregate.
  double correct = 0;
  for (const auto& s : read_samples(out / "samples.jsonl"))
    correct += s.metrics.at("exact_match");
  EXPECT_DOUBLE_EQ(correct / 40.0, value);
}

TEST(Cli, UnknownTaskIsExitTwoWithSuggestion) {
  testing::temp_dir dir;
  const auto r = run_yardstick(
      "run --task gsm8 --model replay:x.jsonl -q --out " + (dir.path() / "o").string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'gsm8k'?"), std::string::npos) << r.err;
}

TEST(Cli, MissingOptionIsExitTwo) {
  testing::temp_dir dir;
  EXPECT_EQ(run_yardstick("run --task gsm8k", dir).exit_code, 2);
  const auto help = run_yardstick("run --help", dir);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

TEST(Cli, MalformedDatasetNamesFileAndLineAndIsExitTwo) {
  testing::temp_dir dir;
  const auto data = dir.write("data.jsonl",
                              "{\"question\": \"q\", \"answer\": \"#### 1\"}\n"
                              "{\"question\": \"q\"}\n");
  const auto r = run_yardstick(
      "run --task gsm8k --shots 0 --dataset " + data.string() + " --model replay:" + kOutputs +
          "code-davinci-002.cot.jsonl -q --out " + (dir.path() / "o").string(),
      dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("data.jsonl:2: field 'answer': missing"), std::string::npos) << r.err;
}

TEST(Cli, MissingReplayRecordsFailSamplesAndResumeFinishesThem) {
  testing::temp_dir dir;
  // A replay file with records for ids 0-4 of 10, as an interrupted generation job would leave.
  std::ifstream full(kOutputs + "text-davinci-002.cot.jsonl");
  std::string line, partial, complete;
  for (int i = 0; i < 10 && std::getline(full, line); ++i) {
    complete += line + "\n";
    if (i < 5) partial += line + "\n";
  }
  const auto replay_file = dir.write("outputs.jsonl", partial);
  const auto out = (dir.path() / "run").string();
  const std::string command = "run --task gsm8k --limit 10 --model replay:" + replay_file.string() +
                              " --label tuned --out " + out;

  auto r = run_yardstick(command + " -q", dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("5 sample(s) failed"), std::string::npos) << r.err;
  auto run = read_json_file(std::filesystem::path(out) / "run.json");
  EXPECT_EQ(run["status"], "complete");
  EXPECT_EQ(run["counts"]["failed"], 5);
  EXPECT_EQ(run["counts"]["scored"], 5);
  EXPECT_EQ(run["failures"]["not_found"], 5);
  EXPECT_EQ(count_lines(std::filesystem::path(out) / "samples.jsonl"), 10u);

  // Re-running into the same directory without --resume would mix runs: refused.
  r = run_yardstick(command + " -q", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;

  dir.write("outputs.jsonl", complete);  // the generation job finished
  r = run_yardstick(command + " --resume", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("5 sample(s) already scored, 5 to run"), std::string::npos) << r.err;
  run = read_json_file(std::filesystem::path(out) / "run.json");
  EXPECT_EQ(run["counts"]["failed"], 0);
  EXPECT_EQ(run["counts"]["resumed"], 5);
  EXPECT_EQ(count_lines(std::filesystem::path(out) / "samples.jsonl"), 10u);
}

TEST(Cli, TwoModelsGetOneRowAndOneDirectoryEach) {
  testing::temp_dir dir;
  const auto out = dir.path() / "pair";
  const auto r =
      run_yardstick("run --task gsm8k --limit 20 -q --model replay:" + kOutputs +
                        "code-davinci-002.cot.jsonl --label base --model replay:" + kOutputs +
                        "text-davinci-002.cot.jsonl --label tuned --out " + out.string(),
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out / "base" / "run.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "tuned" / "run.json"));
  EXPECT_NE(r.out.find("base"), std::string::npos);
  EXPECT_NE(r.out.find("tuned"), std::string::npos);
}

TEST(Cli, ApiKeyNeverReachesOutputs) {
  testing::temp_dir dir;
  const std::string key = "sk-test-SECRET-0123456789";
  const auto out = dir.path() / "run";
  // Port 9 on loopback has no listener: every request fails fast, which is all this test needs.
  const auto r = run_yardstick(
      "run --task gsm8k --limit 3 --shots 0 --max-retries 0 --timeout 2 --api-key-env YS_TEST_KEY "
      "--model 'openai:http://user:pw@127.0.0.1:9/v1#tiny' --out " +
          out.string(),
      dir, "YS_TEST_KEY=" + key);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const auto& file : {out / "run.json", out / "samples.jsonl"}) {
    const auto text = slurp(file);
    EXPECT_FALSE(text.empty()) << file;
    EXPECT_EQ(text.find(key), std::string::npos) << file;
    EXPECT_EQ(text.find("pw@"), std::string::npos) << file;
  }
  EXPECT_EQ(r.out.find(key), std::string::npos);
  EXPECT_EQ(r.err.find(key), std::string::npos);
  const auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["failures"]["unavailable"], 3);
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

std::string replay_spec(const char* name) {
  return "replay:" + kOutputs + name;
}

TEST(Cli, ResumeRefusesADifferentModelOrSettings) {
  testing::temp_dir dir;
  const auto out = (dir.path() / "run").string();
  auto r = run_yardstick("run -t gsm8k --limit 5 -q -m " +
                             replay_spec("code-davinci-002.cot.jsonl") + " --label m --out " + out,
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_yardstick("run -t gsm8k --limit 5 -q -m " + replay_spec("text-davinci-002.cot.jsonl") +
                        " --label m --resume --out " + out,
                    dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot resume"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/model/path"), std::string::npos) << r.err;
  r = run_yardstick("run -t gsm8k --limit 5 --shots 4 -q -m " +
                        replay_spec("code-davinci-002.cot.jsonl") + " --label m --resume --out " +
                        out,
                    dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/task/shots: 8 -> 4"), std::string::npos) << r.err;
  // The same run resumes, and a larger --limit extends it.
  r = run_yardstick("run -t gsm8k --limit 8 -m " + replay_spec("code-davinci-002.cot.jsonl") +
                        " --label m --resume --out " + out,
                    dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("5 sample(s) already scored, 3 to run"), std::string::npos) << r.err;
}

TEST(Cli, EveryOutputFolderIsCheckedBeforeAnythingRuns) {
  testing::temp_dir dir;
  const auto out = dir.path() / "pair";
  std::filesystem::create_directories(out / "b");
  std::ofstream(out / "b" / "samples.jsonl") << "";
  const auto r =
      run_yardstick("run -t gsm8k --limit 3 -q -m " + replay_spec("code-davinci-002.cot.jsonl") +
                        " --label a -m " + replay_spec("text-davinci-002.cot.jsonl") +
                        " --label b --out " + out.string(),
                    dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(out / "a"));
}

TEST(Cli, LabelsNeverEscapeTheOutputFolder) {
  testing::temp_dir dir;
  const auto out = dir.path() / "pair";
  const auto r =
      run_yardstick("run -t gsm8k --limit 2 -q -m " + replay_spec("code-davinci-002.cot.jsonl") +
                        " --label .. -m " + replay_spec("text-davinci-002.cot.jsonl") +
                        " --label org/model --out " + out.string(),
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out / "_.." / "run.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "org_model" / "run.json"));
  EXPECT_EQ(read_json_file(out / "org_model" / "run.json")["label"], "org/model");
}

TEST(Cli, BadNumbersAndEmptyInputAreRefused) {
  testing::temp_dir dir;
  const std::string base = "run -t gsm8k -q -m " + replay_spec("code-davinci-002.cot.jsonl") +
                           " --out " + (dir.path() / "o").string() + " ";
  for (const char* bad : {"--limit 0", "--limit -3", "--seed -1", "--max-tokens 0",
                          "--temperature -1", "--timeout 0", "--max-retries -1", "-c 0"}) {
    EXPECT_EQ(run_yardstick(base + bad, dir).exit_code, 2) << bad;
  }
  const auto empty = dir.write("empty.jsonl", "");
  auto r = run_yardstick(base + "--shots 0 --dataset " + empty.string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no samples to evaluate"), std::string::npos) << r.err;
  r = run_yardstick(base + "--shots 0 --dataset " + dir.path().string(), dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "o"));
}

TEST(Cli, AServerThatNeverAnswersStopsTheRunEarly) {
  testing::temp_dir dir;
  const auto out = dir.path() / "run";
  const auto r = run_yardstick(
      "run -t gsm8k --limit 40 --shots 0 -c 1 --max-retries 0 --timeout 2 -q "
      "-m 'openai:http://127.0.0.1:9/v1#m' --out " +
          out.string(),
      dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the first 16 samples all failed"), std::string::npos) << r.err;
  const auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["status"], "stopped");
  EXPECT_EQ(run["counts"]["failed"], 16);
  EXPECT_EQ(run["counts"]["not_run"], 24);
  EXPECT_TRUE(run["metrics"].empty());  // nothing scored: no number rather than a fake 0
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

// The dev subset's own first answers, written as a model would ("Answer: a | b"), score 100 on
// every answer type through extraction, and the per-type counts are the dataset's.
TEST(Cli, DropRunOnReplayedAnswerText) {
  testing::temp_dir dir;
  const auto data = nlohmann::json::parse(
      std::ifstream(std::string(YARDSTICK_DATASETS_DIR) + "/drop/dev-subset.json"));
  std::string replay;
  for (const auto& [passage_id, passage] : data.items()) {
    for (const auto& qa : passage["qa_pairs"]) {
      const auto& a = qa["answer"];
      std::string text;
      if (!a["number"].get<std::string>().empty()) {
        text = a["number"];
      } else if (!a["spans"].empty()) {
        for (const auto& s : a["spans"])
          text += (text.empty() ? "" : " | ") + s.get<std::string>();
      } else {
        for (const char* part : {"day", "month", "year"}) {
          const std::string value = a["date"][part];
          if (!value.empty()) text += (text.empty() ? "" : " ") + value;
        }
      }
      replay +=
          nlohmann::json{{"query_id", qa["query_id"]},
                         {"completion", "Counting in the passage.\nAnswer: **" + text + "**.\n"}}
              .dump() +
          "\n";
    }
  }
  const auto file = dir.write("drop.jsonl", replay);
  const auto out = dir.path() / "run";
  const auto r =
      run_yardstick("run -t drop -q -m replay:" + file.string() + " --out " + out.string(), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("occurs more than once"), std::string::npos) << r.err;
  const auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["primary_metric"], "f1");
  EXPECT_DOUBLE_EQ(run["metrics"]["em"]["value"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(run["metrics"]["f1"]["value"].get<double>(), 1.0);
  EXPECT_EQ(run["metrics"]["em"]["n"], 461);
  EXPECT_EQ(run["metrics"]["em_number"]["n"], 263);
  EXPECT_EQ(run["metrics"]["em_span"]["n"], 176);
  EXPECT_EQ(run["metrics"]["em_spans"]["n"], 16);
  EXPECT_EQ(run["metrics"]["em_date"]["n"], 6);
  EXPECT_EQ(run["task"]["dataset_sha256"],
            "68b39088752c42abdd9be646185af8d7dd51c42efb11c635203a5dffe90981ce");
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(Cli, ResumeGuardsLimitSeedAndFollowsTheDataNotItsPath) {
  testing::temp_dir dir;
  const auto out = (dir.path() / "run").string();
  const std::string model = " -q -m " + replay_spec("code-davinci-002.cot.jsonl") + " --out " + out;
  ASSERT_EQ(run_yardstick("run -t gsm8k --limit 6" + model, dir).exit_code, 0);
  auto r = run_yardstick("run -t gsm8k --limit 3 --resume" + model, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("3 sample(s) there lie outside this run's --limit"), std::string::npos)
      << r.err;
  r = run_yardstick("run -t gsm8k --limit 6 --seed 7 --resume" + model, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/seed: 1234 -> 7"), std::string::npos) << r.err;
  // The same file named by another path is the same data.
  const auto copy = dir.path() / "copy.jsonl";
  std::filesystem::copy_file(std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/test.jsonl", copy);
  r = run_yardstick("run -t gsm8k --limit 6 --resume --dataset " + copy.string() + model, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, APartialReplayFileIsScoredNotStoppedEarly) {
  testing::temp_dir dir;
  std::ifstream full(kOutputs + "code-davinci-002.cot.jsonl");
  std::string line, late;
  for (int i = 0; std::getline(full, line); ++i) {
    if (i >= 30 && i < 40) late += line + "\n";
  }
  const auto file = dir.write("late.jsonl", late);
  const auto out = dir.path() / "run";
  const auto r = run_yardstick(
      "run -t gsm8k --limit 40 -q -m replay:" + file.string() + " --out " + out.string(), dir);
  EXPECT_EQ(r.exit_code, 1);
  const auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["status"], "complete");
  EXPECT_EQ(run["counts"]["scored"], 10);
  EXPECT_EQ(run["counts"]["failed"], 30);
  EXPECT_EQ(run["counts"]["not_run"], 0);
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(Cli, ProfilePresetAsJson) {
  testing::temp_dir dir;
  const auto r =
      run_yardstick("profile --model-config mixtral-8x7b --context 2048 --format json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total_params"], 46702792704LL);
  EXPECT_EQ(j["active_params"], 12879925248LL);
  EXPECT_EQ(j["context"], 2048);
  EXPECT_GT(j["flops_per_token"].get<double>(), 2.0 * 12.0e9);
  EXPECT_TRUE(j.contains("schema_version"));
  EXPECT_TRUE(j["roofline"]["decode"].contains("arithmetic_intensity"));
  const auto bad = run_yardstick("profile --model-config mixtral-8x8b", dir);
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(Cli, ProfileMeasureOnTheCpuAsJson) {
  testing::temp_dir dir;
  const auto r = run_yardstick(
      "profile --model-config mixtral-8x7b --measure --scale 0.03125 --tokens 1,4 --format json",
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["batch_sweep"].size(), 11U);
  const auto& measured = j["measured"];
  EXPECT_EQ(measured["backend"], "cpu");
  EXPECT_EQ(measured["shapes"]["sparse"]["d_expert"], 448);  // 14336 / 32
  ASSERT_EQ(measured["points"].size(), 2U);
  const auto& point = measured["points"][1];
  EXPECT_EQ(point["tokens"], 4);
  EXPECT_GT(point["dense"]["measured_ns_per_token"].get<double>(), 0.0);
  EXPECT_GT(point["sparse"]["measured_ns_per_token"].get<double>(), 0.0);
  // Mixtral routes 2 of 8 experts: a quarter of the dense layer's FLOPs, plus the router's.
  EXPECT_NEAR(point["flop_ratio"].get<double>(), 0.25, 0.001);
  EXPECT_NE(r.err.find("profile --measure"), std::string::npos) << "progress goes to stderr";
  EXPECT_TRUE(j["build"].contains("git_revision"));
  EXPECT_TRUE(j.contains("created"));
}

TEST(Cli, ProfileMeasureRefusesABadScaleAndAMissingGpu) {
  testing::temp_dir dir;
  EXPECT_EQ(run_yardstick("profile --model-config llama-2-7b --measure --scale 2", dir).exit_code,
            2);
  // Measurement options without --measure would be silently ignored: refused instead.
  EXPECT_EQ(run_yardstick("profile --model-config llama-2-7b --tokens 1,4", dir).exit_code, 2);
  EXPECT_EQ(run_yardstick("profile --model-config llama-2-7b --measure --scale 0", dir).exit_code,
            2);
  const auto missing = run_yardstick("profile --model-config no/such/config.json", dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  const auto cuda = run_yardstick(
      "profile --model-config llama-2-7b --measure --backend cuda --scale 0.03125 --tokens 1", dir);
  if (cuda.exit_code == 0) GTEST_SKIP() << "a GPU is attached: the CUDA path ran";
  EXPECT_EQ(cuda.exit_code, 2);
  EXPECT_NE(cuda.err.find("--backend cuda"), std::string::npos) << cuda.err;
}

}  // namespace
}  // namespace ys
