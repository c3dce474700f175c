#include "adapters/replay.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace ys {
namespace {

request ask(const std::string& id, int n = 1) {
  request req;
  req.source_id = id;
  req.params.n = n;
  return req;
}

TEST(Replay, ReadsIntegerAndStringIdsAndBothCompletionFields) {
  testing::temp_dir dir;
  const auto file = dir.write("m.jsonl",
                              "{\"id\": 0, \"completion\": \"A\", \"answer\": \"ignored\"}\n"
                              "\n"
                              "{\"id\": \"q-1\", \"completions\": [\"B1\", \"B2\"]}\n");
  auto backend = make_replay_backend(file.string(), {});
  auto zero = backend->generate(ask("0"));
  ASSERT_FALSE(zero.failure) << zero.failure->message;
  EXPECT_EQ(zero.texts, std::vector<std::string>{"A"});
  auto two = backend->generate(ask("q-1", 2));
  EXPECT_EQ(two.texts, (std::vector<std::string>{"B1", "B2"}));
  EXPECT_EQ(backend->default_label(), "m");
  EXPECT_EQ(backend->describe()["records"], 2);
}

TEST(Replay, MissingRecordIsAFailedSampleNotACrash) {
  testing::temp_dir dir;
  auto backend =
      make_replay_backend(dir.write("m.jsonl", "{\"id\": 0, \"completion\": \"A\"}\n"), {});
  auto reply = backend->generate(ask("5"));
  ASSERT_TRUE(reply.failure);
  EXPECT_EQ(reply.failure->code, error_code::not_found);
  EXPECT_NE(reply.failure->message.find("'5'"), std::string::npos);
}

TEST(Replay, TooFewCompletionsForRequestedSamplesFails) {
  testing::temp_dir dir;
  auto backend =
      make_replay_backend(dir.write("m.jsonl", "{\"id\": 0, \"completion\": \"A\"}\n"), {});
  auto reply = backend->generate(ask("0", 4));
  ASSERT_TRUE(reply.failure);
  EXPECT_NE(reply.failure->message.find("1 completion(s), 4 requested"), std::string::npos);
}

TEST(Replay, ReportsRecordsThatMatchNoSample) {
  testing::temp_dir dir;
  auto backend = make_replay_backend(
      dir.write("m.jsonl",
                "{\"id\": 0, \"completion\": \"A\"}\n{\"id\": 9, \"completion\": \"B\"}\n"),
      {});
  const auto warnings = backend->coverage_warnings({"0", "1"});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1 record(s) match no sample"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("ids: 9"), std::string::npos) << warnings[0];
  EXPECT_TRUE(backend->coverage_warnings({"0", "9"}).empty());
}

void expect_load_error(const std::string& content, const std::string& expected) {
  testing::temp_dir dir;
  const auto file = dir.write("bad.jsonl", content);
  try {
    make_replay_backend(file.string(), {});
    FAIL() << "expected input_error for: " << content;
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(Replay, BadRecordsNameFileLineAndField) {
  expect_load_error("{\"id\": 0, \"completion\": \"A\"}\n{\"completion\": \"B\"}\n",
                    "bad.jsonl:2: field 'id': missing");
  expect_load_error("{\"id\": 0}\n", "bad.jsonl:1: field 'completion'");
  expect_load_error("{\"id\": 0, \"completion\": 5}\n", "field 'completion': must be a string");
  expect_load_error("{\"id\": 1.5, \"completion\": \"A\"}\n", "field 'id': must be an integer");
  expect_load_error("not json\n", "bad.jsonl:1: not a JSON object");
  expect_load_error("{\"id\": 0, \"completion\": \"A\"}\n{\"id\": \"0\", \"completion\": \"B\"}\n",
                    "bad.jsonl:2: field 'id': '0' repeats the record on line 1 with a different");
}

TEST(Replay, ReadsThePublishedOutputFilesExactly) {
  for (const char* name : {"code-davinci-002.cot.jsonl", "text-davinci-002.cot.jsonl"}) {
    const auto path = std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/outputs/" + name;
    auto backend = make_replay_backend(path, {});
    EXPECT_EQ(backend->describe()["records"], 1319) << name;
    std::vector<std::string> ids;
    for (int i = 0; i < 1319; ++i)
      ids.push_back(std::to_string(i));
    EXPECT_TRUE(backend->coverage_warnings(ids).empty()) << name;
  }
  auto code = make_replay_backend(
      std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/outputs/code-davinci-002.cot.jsonl", {});
  auto first = code->generate(ask("0"));
  ASSERT_EQ(first.texts.size(), 1u);
  EXPECT_EQ(first.texts[0].rfind(" She has 16 eggs per day.", 0), 0u);
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(Replay, QueryIdAndStructuredSpans) {
  testing::temp_dir dir;
  const auto file =
      dir.write("drop.jsonl",
                "{\"query_id\": \"q1\", \"spans\": [\"Alice\", \"Bob\"]}\n"
                "{\"query_id\": \"q2\", \"completion\": \"Answer: 7\", \"spans\": [\"7\"]}\n"
                "{\"query_id\": \"q3\", \"completion\": \"Answer: 8\"}\n");
  auto backend = make_replay_backend(file.string(), {});
  auto one = backend->generate(ask("q1"));
  ASSERT_FALSE(one.failure);
  EXPECT_EQ(one.texts, std::vector<std::string>{"Alice | Bob"});
  EXPECT_EQ(one.structured["spans"], nlohmann::json({"Alice", "Bob"}));
  auto two = backend->generate(ask("q2"));
  EXPECT_EQ(two.texts, std::vector<std::string>{"Answer: 7"});
  EXPECT_EQ(two.structured["spans"], nlohmann::json({"7"}));
  EXPECT_TRUE(backend->generate(ask("q3")).structured.is_null());
  expect_load_error("{\"query_id\": \"q\", \"spans\": \"Alice\"}\n",
                    "bad.jsonl:1: field 'spans': must be an array");
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(Replay, IdenticalRepeatedRecordsAreOneRecord) {
  testing::temp_dir dir;
  const auto file = dir.write("m.jsonl",
                              "{\"query_id\": \"q\", \"spans\": [\"A\"]}\n"
                              "{\"query_id\": \"q\", \"spans\": [\"A\"]}\n");
  auto backend = make_replay_backend(file.string(), {});
  EXPECT_EQ(backend->describe()["records"], 1);
  EXPECT_EQ(backend->generate(ask("q")).structured["spans"], nlohmann::json({"A"}));
}

}  // namespace
}  // namespace ys
