#include "harness/run_files.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace ys {
namespace {

sample_result make_result(const std::string& id, double em) {
  sample_result r;
  r.id = id;
  r.prompt_hash = "abc123";
  r.completions = {"The answer is 18."};
  r.extracted = {"18"};
  r.gold = "18";
  r.metrics["exact_match"] = em;
  r.usage = {12, 7};
  r.latency_s = 0.25;
  r.attempts = 2;
  return r;
}

TEST(RunFiles, SamplesRoundTrip) {
  testing::temp_dir dir;
  const auto path = dir.path() / "samples.jsonl";
  {
    samples_writer writer(path);
    writer.append(make_result("0", 1.0));
    auto failed = make_result("1", 0.0);
    failed.metrics.clear();
    failed.failure = error{error_code::rate_limited, "HTTP 429: slow down", 429};
    writer.append(failed);
  }
  const auto back = read_samples(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, "0");
  EXPECT_EQ(back[0].completions, std::vector<std::string>{"The answer is 18."});
  EXPECT_DOUBLE_EQ(back[0].metrics.at("exact_match"), 1.0);
  EXPECT_EQ(back[0].usage.prompt_tokens, 12);
  EXPECT_EQ(back[0].usage.completion_tokens, 7);
  EXPECT_EQ(back[0].attempts, 2);
  EXPECT_FALSE(back[0].failure.has_value());
  ASSERT_TRUE(back[1].failure.has_value());
  EXPECT_EQ(back[1].failure->code, error_code::rate_limited);
  EXPECT_EQ(back[1].failure->http_status, 429);
  EXPECT_EQ(back[1].failure->message, "HTTP 429: slow down");
}

TEST(RunFiles, TruncatedLastLineFromAKilledRunIsIgnored) {
  testing::temp_dir dir;
  const std::string good = to_json(make_result("0", 1.0)).dump();
  const auto path = dir.write("samples.jsonl", good + "\n" + good.substr(0, 20));
  const auto back = read_samples(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, "0");
}

TEST(RunFiles, BadLineInTheMiddleNamesFileAndLine) {
  testing::temp_dir dir;
  const std::string good = to_json(make_result("0", 1.0)).dump();
  const auto path = dir.write("samples.jsonl", good + "\n{oops\n" + good + "\n");
  try {
    read_samples(path);
    FAIL() << "expected input_error";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("samples.jsonl:2"), std::string::npos) << e.what();
  }
}

TEST(RunFiles, JsonFileIsWrittenWhole) {
  testing::temp_dir dir;
  const auto path = dir.path() / "run.json";
  write_json_file(path, {{"schema_version", 1}, {"label", "base"}});
  const auto back = read_json_file(path);
  EXPECT_EQ(back["label"], "base");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run.json.tmp"));
}

TEST(RequestHash, DependsOnEverythingThatShapesTheOutput) {
  request a;
  a.source_id = "7";
  a.messages = {{"user", "What is 2+2?"}};
  request b = a;
  b.source_id = "8";  // the id is not content: identical prompts share a hash
  EXPECT_EQ(a.content_hash(), b.content_hash());
  EXPECT_EQ(a.content_hash().size(), 32u);
  b.params.temperature = 0.7;
  EXPECT_NE(a.content_hash(), b.content_hash());
  request c = a;
  c.messages[0].content = "What is 2+3?";
  EXPECT_NE(a.content_hash(), c.content_hash());
}

}  // namespace
}  // namespace ys
