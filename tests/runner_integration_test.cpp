// A whole run against a loopback OpenAI-compatible server that misbehaves on request: every
// sample must be accounted for, retried where retrying helps and failed where it cannot.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>

#include "cli/run_command.h"
#include "harness/run_files.h"
#include "tests/support/fake_openai_server.h"
#include "tests/support/temp_dir.h"

namespace ys {
namespace {

struct problem {
  std::string question;
  int answer;
};

const std::vector<problem> kProblems = {
    {"How many legs do 3 cats have?", 12},
    {"What is 7 times 6?", 42},
    {"[[fail:429]] [[retry-after:1]] What is 10 plus 5?", 15},
    {"[[fail:500]] What is 9 minus 4?", 5},
    {"[[fail:503]] [[retry-after:none]] What is 2 to the power 5?", 32},
    {"[[slow:2.5]] What is 100 divided by 4?", 25},
    {"[[malformed]] What is 8 plus 8?", 16},
    {"[[fail:400]] What is 1 plus 1?", 2},
    {"What is 1,000 times 3?", 3000},
    {"What is 5 minus 12?", -7},
};

std::string dataset_jsonl() {
  std::string text;
  for (const auto& p : kProblems) {
    text += nlohmann::json{{"question", p.question},
                           {"answer", fmt::format("Work.\n#### {}", p.answer)}}
                .dump() +
            "\n";
  }
  return text;
}

// Answers like a model that reasons, then states the answer.
std::string solve(const std::string& prompt) {
  for (const auto& p : kProblems) {
    if (prompt.find(p.question) != std::string::npos) {
      return fmt::format("Let me think. 3 + 4 = 7 is not it. The answer is {}.", p.answer);
    }
  }
  return "I do not know.";
}

TEST(RunnerIntegration, EverySampleIsAccountedForUnderServerFaults) {
  test_support::fake_openai_server server(solve);
  testing::temp_dir dir;
  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {"openai:" + server.base_url() + "#fake-model"};
  options.concurrency = 4;
  options.out = dir.path() / "run";
  options.quiet = true;
  options.task.dataset = dir.write("problems.jsonl", dataset_jsonl());
  options.task.shots = 0;
  options.backend.timeout_s = 1.0;
  options.backend.max_retries = 2;
  options.backend.backoff_base_s = 0.05;
  options.backend.backoff_max_s = 2.0;

  const int exit_code = run_command(options);
  EXPECT_EQ(exit_code, kExitSomeFailed);

  const auto run = read_json_file(options.out / "run.json");
  EXPECT_EQ(run["counts"]["samples"], 10);
  EXPECT_EQ(run["counts"]["scored"], 8);
  EXPECT_EQ(run["counts"]["failed"], 2);
  EXPECT_EQ(run["failures"]["malformed_response"], 1);
  EXPECT_EQ(run["failures"]["invalid_argument"], 1);
  EXPECT_DOUBLE_EQ(run["metrics"]["exact_match"]["value"].get<double>(), 1.0);
  EXPECT_EQ(run["metrics"]["exact_match"]["n"], 8);
  EXPECT_EQ(run["model"]["model"], "fake-model");
  EXPECT_GT(run["usage"]["completion_tokens"].get<long long>(), 0);
  EXPECT_EQ(run["label"], "fake-model");

  const auto samples = read_samples(options.out / "samples.jsonl");
  ASSERT_EQ(samples.size(), 10u);
  std::map<std::string, sample_result> by_id;
  for (const auto& s : samples)
    by_id[s.id] = s;
  ASSERT_EQ(by_id.size(), 10u);
  EXPECT_EQ(by_id["2"].attempts, 2);  // 429, then success after Retry-After
  EXPECT_EQ(by_id["3"].attempts, 2);  // 500, then success
  EXPECT_EQ(by_id["4"].attempts, 2);  // 503 without Retry-After: backoff, then success
  EXPECT_EQ(by_id["5"].attempts, 2);  // timed out once, then answered
  ASSERT_TRUE(by_id["6"].failure);
  EXPECT_EQ(by_id["6"].failure->code, error_code::malformed_response);
  EXPECT_EQ(by_id["6"].attempts, 3);  // first try and two retries
  ASSERT_TRUE(by_id["7"].failure);
  EXPECT_EQ(by_id["7"].failure->code, error_code::invalid_argument);
  EXPECT_EQ(by_id["7"].failure->http_status, 400);
  EXPECT_EQ(by_id["7"].attempts, 1);  // a 400 is never retried
  EXPECT_EQ(by_id["8"].extracted, std::vector<std::string>{"3000"});
  EXPECT_EQ(by_id["9"].extracted, std::vector<std::string>{"-7"});
  for (const auto& s : samples) {
    if (!s.failure) {
      EXPECT_DOUBLE_EQ(s.metrics.at("exact_match"), 1.0) << s.id;
    }
  }
}

TEST(RunnerIntegration, CompletionPromptsUseTheCompletionsEndpoint) {
  test_support::fake_openai_server server(solve);
  testing::temp_dir dir;
  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {"openai:" + server.base_url() + "#fake-model"};
  options.labels = {"plain"};
  options.out = dir.path() / "run";
  options.quiet = true;
  options.task.dataset = dir.write("problems.jsonl", dataset_jsonl());
  options.task.shots = 2;
  options.task.style = prompt_style::completion;
  options.limit = 2;
  EXPECT_EQ(run_command(options), kExitOk);
  EXPECT_EQ(server.requests("/v1/completions"), 2u);
  EXPECT_EQ(server.requests("/v1/chat/completions"), 0u);
  const auto body = server.last_request_body();
  EXPECT_TRUE(body["prompt"].get<std::string>().ends_with("Answer:"));
  EXPECT_EQ(body["model"], "fake-model");
}

TEST(RedactSpec, RemovesCredentials) {
  EXPECT_EQ(redact_spec("openai:https://u:p@api.example.com/v1#gpt"),
            "openai:https://api.example.com/v1#gpt");
  EXPECT_EQ(redact_spec("openai:http://h/v1?api_key=sk-1&version=2#m"),
            "openai:http://h/v1?api_key=REDACTED&version=2#m");
  EXPECT_EQ(redact_spec("replay:out/a.jsonl"), "replay:out/a.jsonl");
}

}  // namespace
}  // namespace ys

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace ys {
namespace {

// Ctrl-C stops dispatching, lets the requests in flight finish, writes run.json and exits 130;
// --resume then finishes the rest.
std::string echo_number(const std::string& prompt) {
  const auto at = prompt.find("What is ");
  if (at == std::string::npos) return "no idea";
  return "The answer is " + prompt.substr(at + 8, prompt.find(' ', at + 8) - at - 8) + ".";
}

TEST(RunnerIntegration, InterruptWritesFilesAndResumeFinishes) {
  test_support::fake_openai_server server(echo_number);
  testing::temp_dir dir;
  std::string data;
  for (int i = 0; i < 30; ++i) {
    data += nlohmann::json{{"question", fmt::format("[[slow-always:0.1]] What is {} plus 0?", i)},
                           {"answer", fmt::format("#### {}", i)}}
                .dump() +
            "\n";
  }
  const auto dataset = dir.write("slow.jsonl", data);
  const auto out = dir.path() / "run";
  const std::string spec = "openai:" + server.base_url() + "#m";
  const std::vector<std::string> arguments = {
      YARDSTICK_BINARY, "run", "-t", "gsm8k", "--shots",   "0", "-c", "1", "-q", "--dataset",
      dataset.string(), "-m",  spec, "--out", out.string()};
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::vector<char*> argv;
    for (const auto& a : arguments)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(YARDSTICK_BINARY, argv.data());
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  kill(child, SIGINT);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kExitInterrupted);
  auto run = read_json_file(out / "run.json");
  EXPECT_EQ(run["status"], "interrupted");
  const auto done = run["counts"]["scored"].get<std::size_t>();
  EXPECT_GT(done, 0u);
  EXPECT_LT(done, 30u);
  EXPECT_EQ(run["counts"]["not_run"].get<std::size_t>(), 30u - done);

  run_command_options options;
  options.tasks = {"gsm8k"};
  options.models = {spec};
  options.concurrency = 8;
  options.out = out;
  options.quiet = true;
  options.resume = true;
  options.task.dataset = dataset;
  options.task.shots = 0;
  EXPECT_EQ(run_command(options), kExitOk);
  run = read_json_file(out / "run.json");
  EXPECT_EQ(run["status"], "complete");
  EXPECT_EQ(run["counts"]["scored"], 30);
  EXPECT_EQ(run["counts"]["resumed"], done);
  EXPECT_DOUBLE_EQ(run["metrics"]["exact_match"]["value"].get<double>(), 1.0);
}

}  // namespace
}  // namespace ys
