#include "tasks/gsm8k.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/temp_dir.h"

namespace ys {
namespace {

const std::string kDatasets = YARDSTICK_DATASETS_DIR;

std::unique_ptr<task> fixture_task(int shots, int samples = 1,
                                   prompt_style style = prompt_style::chat) {
  task_options options;
  options.dataset = std::string(YARDSTICK_TEST_DATA_DIR) + "/gsm8k-3.jsonl";
  options.shots = shots;
  options.samples = samples;
  options.style = style;
  return make_gsm8k_task(options);
}

response reply_with(std::vector<std::string> texts) {
  response r;
  r.texts = std::move(texts);
  return r;
}

TEST(Gsm8kLoader, ReadsTheOfficialTestSet) {
  const auto problems = read_gsm8k(kDatasets + "/gsm8k/test.jsonl");
  ASSERT_EQ(problems.size(), 1319u);
  EXPECT_EQ(problems[0].final_answer, "18");
  EXPECT_EQ(problems[0].question.rfind("Janet\u2019s ducks lay 16 eggs per day.", 0), 0u);
  EXPECT_NE(problems[0].solution.find("<<16-3-4=9>>"), std::string::npos);
  EXPECT_EQ(problems[1].final_answer, "3");
  EXPECT_EQ(read_gsm8k(kDatasets + "/gsm8k/train.jsonl").size(), 7473u);
}

TEST(Gsm8kLoader, SampleIdsAreZeroBasedLineNumbers) {
  auto t = make_gsm8k_task(task_options{});
  const auto items = t->load();
  ASSERT_EQ(items.size(), 1319u);
  EXPECT_EQ(items[0].id, "0");
  EXPECT_EQ(items[0].gold, "18");
  EXPECT_EQ(items[1318].id, "1318");
}

void expect_load_error(const std::string& content, const std::string& expected) {
  testing::temp_dir dir;
  const auto file = dir.write("bad.jsonl", content);
  try {
    read_gsm8k(file);
    FAIL() << "expected input_error for: " << content;
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(Gsm8kLoader, BadLinesNameFileLineAndField) {
  const std::string good = R"({"question": "q", "answer": "a\n#### 4"})";
  expect_load_error(good + "\n{\"answer\": \"#### 1\"}\n",
                    "bad.jsonl:2: field 'question': missing");
  expect_load_error(good + "\n" + good + "\n{\"question\": \"q\", \"answer\": \"no marker\"}\n",
                    "bad.jsonl:3: field 'answer': no final '#### N' line");
  expect_load_error(R"({"question": "q", "answer": "#### four"})", "'four' is not a number");
  expect_load_error(R"({"question": 7, "answer": "#### 4"})", "field 'question': must be a string");
  expect_load_error("[1, 2]\n", "bad.jsonl:1: not a JSON object");
  EXPECT_THROW(read_gsm8k("/nonexistent/test.jsonl"), input_error);
}

TEST(Gsm8kPrompt, ExemplarAnswersDropCalculatorAnnotations) {
  gsm8k_problem p{"q",
                  "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes "
                  "9 * 2 = $<<9*2=18>>18.\n#### 18",
                  "18"};
  EXPECT_EQ(
      gsm8k_exemplar_answer(p),
      "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18.\nThe answer is 18.");
}

TEST(Gsm8kPrompt, SeededSampleIsDeterministicAndDistinct) {
  const auto a = seeded_sample(7473, 8, 1234);
  EXPECT_EQ(a, seeded_sample(7473, 8, 1234));
  EXPECT_NE(a, seeded_sample(7473, 8, 1235));
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()).size(), 8u);
  for (auto i : a)
    EXPECT_LT(i, 7473u);
}

TEST(Gsm8kPrompt, ChatPromptIsMultiTurnWithTrainExemplars) {
  auto t = fixture_task(2);
  const auto items = t->load();
  ASSERT_EQ(items.size(), 3u);
  const auto req = t->build_request(items[0]);
  EXPECT_TRUE(req.chat);
  ASSERT_EQ(req.messages.size(), 5u);
  EXPECT_EQ(req.messages[0].role, "user");
  EXPECT_EQ(req.messages[1].role, "assistant");
  EXPECT_NE(req.messages[1].content.find("The answer is "), std::string::npos);
  EXPECT_EQ(req.messages[4].content.find("Question: Janet"), 0u);
  EXPECT_EQ(req.source_id, "0");
  EXPECT_EQ(req.params.stop, gsm8k_stop_sequences());
  EXPECT_DOUBLE_EQ(req.params.temperature, 0.0);
  // The exemplars come from train, never from the test set being evaluated.
  const auto test = read_gsm8k(kDatasets + "/gsm8k/test.jsonl");
  for (const auto& problem : test) {
    EXPECT_EQ(req.messages[0].content.find(problem.question), std::string::npos);
  }
  const auto train = read_gsm8k(kDatasets + "/gsm8k/train.jsonl");
  const auto chosen = seeded_sample(train.size(), 2, task_options{}.seed);
  EXPECT_NE(req.messages[0].content.find(train[chosen[0]].question), std::string::npos);
  EXPECT_NE(req.messages[2].content.find(train[chosen[1]].question), std::string::npos);
}

TEST(Gsm8kPrompt, CompletionPromptEndsAtTheAnswerCue) {
  auto t = fixture_task(3, 1, prompt_style::completion);
  const auto req = t->build_request(t->load()[1]);
  EXPECT_FALSE(req.chat);
  EXPECT_TRUE(req.prompt.ends_with("Answer:"));
  std::size_t questions = 0;
  for (auto at = req.prompt.find("Question: "); at != std::string::npos;
       at = req.prompt.find("Question: ", at + 1)) {
    ++questions;
  }
  EXPECT_EQ(questions, 4u);
  EXPECT_EQ(t->describe()["prompt_format"], "completion");
}

TEST(Gsm8kScore, StopSequencesCutAnInventedNextQuestion) {
  auto t = fixture_task(0);
  const auto items = t->load();
  const auto result =
      t->score(items[0], reply_with({"She makes $18. The answer is 18.\n\nQuestion: A new one? "
                                     "The answer is 7."}));
  EXPECT_EQ(result.extracted, std::vector<std::string>{"18"});
  EXPECT_DOUBLE_EQ(result.metrics.at("exact_match"), 1.0);
  EXPECT_DOUBLE_EQ(result.metrics.at("invalid"), 0.0);
}

TEST(Gsm8kScore, ThinkingIsIgnoredButKept) {
  auto t = fixture_task(0);
  const auto items = t->load();
  const std::string text = "<think>maybe 99? or 100</think>So the total is $18.";
  const auto result = t->score(items[0], reply_with({text}));
  EXPECT_EQ(result.completions, std::vector<std::string>{text});
  EXPECT_EQ(result.extracted, std::vector<std::string>{"18"});
  EXPECT_DOUBLE_EQ(result.metrics.at("exact_match"), 1.0);
}

TEST(Gsm8kScore, NoNumberIsInvalidAndWrong) {
  auto t = fixture_task(0);
  const auto result = t->score(t->load()[0], reply_with({"I cannot tell."}));
  EXPECT_EQ(result.extracted, std::vector<std::string>{"[invalid]"});
  EXPECT_DOUBLE_EQ(result.metrics.at("exact_match"), 0.0);
  EXPECT_DOUBLE_EQ(result.metrics.at("invalid"), 1.0);
}

TEST(Gsm8kScore, MajorityVoteAndPassAtK) {
  auto t = fixture_task(0, 4);
  const auto items = t->load();  // gold of item 1 is 3
  auto result = t->score(items[1], reply_with({"The answer is 4.", "The answer is 3.",
                                               "The answer is 3.0", "no idea"}));
  EXPECT_DOUBLE_EQ(result.metrics.at("exact_match"), 0.0);
  EXPECT_DOUBLE_EQ(result.metrics.at("maj@4"), 1.0);
  EXPECT_DOUBLE_EQ(result.metrics.at("pass@4"), 1.0);
  EXPECT_EQ(result.details["majority_answer"], "3");

  // Invalid answers never win a vote while a valid answer exists.
  result = t->score(items[1], reply_with({"none", "none either", "nothing", "The answer is 3."}));
  EXPECT_DOUBLE_EQ(result.metrics.at("maj@4"), 1.0);

  // Ties go to the answer seen first.
  result = t->score(items[1], reply_with({"The answer is 5.", "The answer is 3.",
                                          "The answer is 3.", "The answer is 5."}));
  EXPECT_DOUBLE_EQ(result.metrics.at("maj@4"), 0.0);
  EXPECT_DOUBLE_EQ(result.metrics.at("pass@4"), 1.0);

  result = t->score(items[1], reply_with({"1", "2", "4", "5"}));
  EXPECT_DOUBLE_EQ(result.metrics.at("pass@4"), 0.0);
  EXPECT_DOUBLE_EQ(t->build_request(items[1]).params.temperature, 0.7);
  EXPECT_EQ(t->build_request(items[1]).params.n, 4);
}

TEST(Gsm8kOptions, RejectsImpossibleSettings) {
  task_options options;
  options.shots = -1;
  EXPECT_THROW(make_gsm8k_task(options), input_error);
  options.shots = 0;
  options.samples = 0;
  EXPECT_THROW(make_gsm8k_task(options), input_error);
}

}  // namespace
}  // namespace ys
