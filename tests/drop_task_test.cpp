#include "tasks/drop.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/temp_dir.h"

namespace ys {
namespace {

const std::string kDrop = std::string(YARDSTICK_DATASETS_DIR) + "/drop/";

std::vector<std::string> spans_of(std::string_view completion) {
  return extract_drop_answer(completion).spans;
}

TEST(DropExtraction, TakesTheLastAnswerMarkerToTheEndOfItsLine) {
  EXPECT_EQ(spans_of("Reasoning... Answer: 12.25\nMore text."), std::vector<std::string>{"12.25"});
  EXPECT_EQ(spans_of("Answer: 3\nWait, recount.\nanswer: 4."), std::vector<std::string>{"4"});
  EXPECT_EQ(extract_drop_answer("ANSWER: Bears").source, "marker");
}

TEST(DropExtraction, SplitsSpansOnBarsAndCleansEach) {
  EXPECT_EQ(spans_of("Answer: Bob | Alice"), (std::vector<std::string>{"Bob", "Alice"}));
  EXPECT_EQ(spans_of("Answer: **\"Chicago Bears\"**."), std::vector<std::string>{"Chicago Bears"});
  EXPECT_EQ(spans_of("Answer: 'Alice';  | \u201cBob\u201d,"),
            (std::vector<std::string>{"Alice", "Bob"}));
  EXPECT_EQ(spans_of("Answer: a || b |"), (std::vector<std::string>{"a", "b"}));
}

TEST(DropExtraction, FallsBackToTheLastNonEmptyLine) {
  const auto e = extract_drop_answer("The passage says so.\nJohn Smith\n\n  \n");
  EXPECT_EQ(e.spans, std::vector<std::string>{"John Smith"});
  EXPECT_EQ(e.source, "last_line");
  EXPECT_EQ(extract_drop_answer("").source, "none");
  EXPECT_TRUE(extract_drop_answer("Answer:   \n").spans.empty());
}

TEST(DropExtraction, RemovesThinkingFirst) {
  EXPECT_EQ(spans_of("<think>Answer: 5? no</think>Answer: 6"), std::vector<std::string>{"6"});
}

TEST(DropLoader, ReadsTheDevSubsetWithRepeatedQueryIdsKeptApart) {
  task_options options;
  options.dataset = kDrop + "dev-subset.json";
  auto t = make_drop_task(options);
  const auto items = t->load();
  ASSERT_EQ(items.size(), 461u);
  std::set<std::string> ids;
  for (const auto& item : items)
    ids.insert(item.id);
  EXPECT_EQ(ids.size(), 461u);  // unique sample ids
  const std::string repeated = "28553293-d719-441b-8f00-ce3dc6df5398";
  EXPECT_TRUE(ids.count(repeated));
  EXPECT_TRUE(ids.count(repeated + "#2"));
  std::size_t sharing = 0;
  for (const auto& item : items)
    sharing += item.source_id == repeated ? 1 : 0;
  EXPECT_EQ(sharing, 2u);
  const auto warnings = t->load_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(repeated), std::string::npos);
  // Gold candidates are the answer followed by the validated answers.
  EXPECT_EQ(items[0].id, "f37e81fa-ef7b-4583-b671-762fc433faa9");
  ASSERT_EQ(items[0].gold.size(), 3u);
  EXPECT_EQ(items[0].gold[0]["spans"][0], "Chaz Schilens");
  EXPECT_EQ(items[0].gold[2]["spans"][0], "JaMarcus Russell");
}

TEST(DropLoader, ReadsTheAllennlpFixture) {
  task_options options;
  options.dataset = kDrop + "fixture.json";
  auto t = make_drop_task(options);
  EXPECT_EQ(t->load().size(), 19u);
  EXPECT_TRUE(t->load_warnings().empty());
}

void expect_load_error(const std::string& content, const std::string& expected) {
  testing::temp_dir dir;
  task_options options;
  options.dataset = dir.write("bad.json", content);
  try {
    make_drop_task(options)->load();
    FAIL() << "expected input_error for: " << content;
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(DropLoader, BadInputNamesFileLineAndField) {
  expect_load_error("{\"p1\": {\"passage\": \"x\",\n \"qa_pairs\": [1]}}", "bad.json:1");
  expect_load_error(
      "{\n\"p1\": {\"passage\": \"x\", \"qa_pairs\": [{\"question\": \"q\", "
      "\"answer\": {}}]}}",
      "bad.json:2: field 'qa_pairs[0].query_id': passage 'p1'");
  expect_load_error("{\"p1\": {\"qa_pairs\": []}}", "field 'passage'");
  expect_load_error(
      "{\"p1\": {\"passage\": \"x\", \"qa_pairs\": [{\"question\": \"q\", "
      "\"query_id\": \"a\", \"answer\": {\"spans\": \"Bob\"}}]}}",
      "'spans' must be an array of strings");
  expect_load_error("{\"p1\": [\n", "bad.json:2: not valid JSON");
  expect_load_error("[]", "expected an object");
}

TEST(DropPrompt, ExemplarsComeFromOtherPassages) {
  task_options options;
  options.dataset = kDrop + "dev-subset.json";
  options.shots = 3;
  auto t = make_drop_task(options);
  const auto items = t->load();
  const auto req = t->build_request(items[0]);
  ASSERT_EQ(req.messages.size(), 7u);
  EXPECT_EQ(req.source_id, items[0].source_id);
  EXPECT_NE(req.messages[0].content.find("Answer: ..."), std::string::npos);
  for (std::size_t i = 1; i < 6; i += 2) {
    EXPECT_EQ(req.messages[i].role, "assistant");
    EXPECT_EQ(req.messages[i].content.rfind("Answer: ", 0), 0u);
  }
  // The passage of the question itself appears only in the last turn.
  const std::string passage_start = "Hoping to rebound from their loss to the Patriots";
  for (std::size_t i = 0; i + 1 < req.messages.size(); ++i) {
    EXPECT_EQ(req.messages[i].content.find(passage_start), std::string::npos) << i;
  }
  EXPECT_NE(req.messages.back().content.find("Who scored the first touchdown"), std::string::npos);

  options.style = prompt_style::completion;
  auto completion = make_drop_task(options);
  const auto creq = completion->build_request(completion->load()[5]);
  EXPECT_TRUE(creq.prompt.ends_with("\nAnswer:"));
  EXPECT_EQ(creq.params.stop, drop_stop_sequences());
}

TEST(DropScore, ScoresExtractedAndStructuredAnswers) {
  task_options options;
  options.dataset = kDrop + "dev-subset.json";
  options.shots = 0;
  auto t = make_drop_task(options);
  const auto items = t->load();
  response reply;
  reply.texts = {"The first score was a pass.\nAnswer: Chaz Schilens.\nQuestion: next"};
  auto r = t->score(items[0], reply);
  EXPECT_DOUBLE_EQ(r.metrics.at("em"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("f1"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("em_span"), 1.0);
  EXPECT_EQ(r.extracted, std::vector<std::string>{"Chaz Schilens"});
  EXPECT_EQ(r.details["answer_source"], "marker");

  reply.texts = {"Answer: Russell"};
  r = t->score(items[0], reply);  // a validated answer, "JaMarcus Russell", gives partial credit
  EXPECT_DOUBLE_EQ(r.metrics.at("em"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("f1"), 0.67);

  reply.structured = {{"spans", {"Chaz Schilens"}}};
  r = t->score(items[0], reply);
  EXPECT_DOUBLE_EQ(r.metrics.at("em"), 1.0);
  EXPECT_EQ(r.details["answer_source"], "structured");
}

TEST(DropOptions, SamplesMustBeOne) {
  task_options options;
  options.samples = 3;
  EXPECT_THROW(make_drop_task(options), input_error);
}

}  // namespace
}  // namespace ys

#include <fstream>
#include <map>

#include "harness/run_files.h"

namespace ys {
namespace {

// Every (question, prediction) pair that the official scorer scored for the fixture file is
// scored again through the task (its loader builds the gold candidates) and must agree.
TEST(DropScore, TaskAgreesWithTheOfficialScorerOnEveryFixturePair) {
  task_options options;
  options.dataset = kDrop + "dev-subset.json";
  options.shots = 0;
  auto t = make_drop_task(options);
  std::map<std::string, sample> by_id;
  for (auto& item : t->load())
    by_id[item.id] = item;

  std::ifstream in(std::string(YARDSTICK_TEST_DATA_DIR) + "/drop/official_expected.jsonl");
  std::size_t checked = 0;
  for (std::string line; std::getline(in, line);) {
    const auto row = nlohmann::json::parse(line);
    if (row["dataset"] != "dev-subset.json") continue;
    const std::string query_id = row["query_id"];
    const int occurrence = row["occurrence"];
    const std::string id =
        occurrence == 0 ? query_id : query_id + "#" + std::to_string(occurrence + 1);
    ASSERT_TRUE(by_id.count(id)) << id;
    response reply;
    reply.texts = {""};
    reply.structured = {{"spans", row["predicted"]}};
    const auto r = t->score(by_id.at(id), reply);
    EXPECT_DOUBLE_EQ(r.metrics.at("em"), row["em"].get<double>()) << line;
    EXPECT_DOUBLE_EQ(r.metrics.at("f1"), row["f1"].get<double>()) << line;
    EXPECT_EQ(r.details["answer_type"], row["type"].is_null() ? "" : row["type"]) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 5538u);
}

TEST(DropScore, TwelvePointTwoFiveSurvivesANextLine) {
  task_options options;
  options.dataset = kDrop + "fixture.json";
  options.shots = 0;
  auto t = make_drop_task(options);
  auto items = t->load();
  sample item = items[0];
  item.gold = nlohmann::json::array({{{"number", "12.25"}, {"spans", nlohmann::json::array()}}});
  response reply;
  reply.texts = {"Adding the two parts.\nAnswer: 12.25\nThat is the total of both fields."};
  const auto r = t->score(item, reply);
  EXPECT_DOUBLE_EQ(r.metrics.at("em"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("f1"), 1.0);
  EXPECT_EQ(r.extracted, std::vector<std::string>{"12.25"});
}

}  // namespace
}  // namespace ys
