#include "tasks/citations.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "adapters/gold.h"
#include "cli/run_command.h"
#include "harness/run_files.h"
#include "scorers/judge.h"
#include "tests/support/fake_openai_server.h"
#include "tests/support/temp_dir.h"

namespace ys {
namespace {

const std::string kDemos = std::string(YARDSTICK_DATASETS_DIR) + "/citations/alce-demos/";

std::unique_ptr<task> demo_task(const std::string& file, int docs = 5, int shots = 2) {
  task_options options;
  options.dataset = kDemos + file;
  options.docs = docs;
  options.shots = shots;
  return make_citations_task(options);
}

TEST(CitationsLoader, ReadsTheAlceDemosAndDetectsTheirKindByFileName) {
  for (const char* style : {"asqa", "eli5", "qampari"}) {
    auto t = demo_task(std::string(style) + ".json");
    const auto items = t->load();
    ASSERT_EQ(items.size(), 4u) << style;
    EXPECT_EQ(t->describe()["citation_style"], style);
    EXPECT_EQ(items[0].id, "0");
    EXPECT_EQ(items[0].fields["docs"].size(), 5u);
    EXPECT_FALSE(items[0].gold["answer"].get<std::string>().empty());
  }
  auto three = demo_task("asqa.json", 3);
  EXPECT_EQ(three->load()[1].fields["docs"].size(), 3u);
}

TEST(CitationsLoader, DetectsKindFromGoldFieldsFirst) {
  const auto items =
      nlohmann::json::parse(R"([{"question": "q", "docs": [], "answers": [["a"]]}])");
  EXPECT_EQ(detect_citation_style(items, "asqa_like_name.json"), "qampari");
  EXPECT_EQ(detect_citation_style(nlohmann::json::parse(R"([{"claims": ["c"]}])"), "x.json"),
            "eli5");
  EXPECT_EQ(detect_citation_style(nlohmann::json::parse(R"([{"qa_pairs": []}])"), "x.json"),
            "asqa");
  EXPECT_EQ(detect_citation_style(nlohmann::json::parse("[{}]"), "data.json"), "");
}

TEST(CitationsLoader, UnknownKindAndBadItemsAreClearErrors) {
  testing::temp_dir dir;
  task_options options;
  options.dataset = dir.write("data.json", R"([{"question": "q", "docs": []}])");
  try {
    make_citations_task(options)->load();
    FAIL();
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("--citation-style"), std::string::npos) << e.what();
  }
  options.citation_style = "asqa";
  options.dataset = dir.write("bad.json", R"([{"question": "q", "docs": [{"title": "t"}]}])");
  try {
    make_citations_task(options)->load();
    FAIL();
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: item 0 docs[0]: field 'text'"),
              std::string::npos)
        << e.what();
  }
}

TEST(CitationsPrompt, RendersNumberedPassagesAndExemplarsFromOtherItems) {
  auto t = demo_task("asqa.json", 5, 2);
  const auto items = t->load();
  const auto req = t->build_request(items[0]);
  ASSERT_EQ(req.messages.size(), 5u);
  const std::string& last = req.messages.back().content;
  EXPECT_NE(last.find("Question: " + items[0].fields["question"].get<std::string>()),
            std::string::npos);
  EXPECT_NE(last.find("Document [1](Title: " +
                      items[0].fields["docs"][0]["title"].get<std::string>() + "): "),
            std::string::npos);
  EXPECT_NE(last.find("Document [5](Title: "), std::string::npos);
  EXPECT_EQ(req.messages[1].content, items[1].gold["answer"]);  // item 0 is not its own exemplar
  EXPECT_EQ(req.messages[3].content, items[2].gold["answer"]);
  EXPECT_EQ(req.reference, items[0].gold["answer"]);
}

TEST(CitationsJudge, ReplyParsingAndTemplate) {
  EXPECT_TRUE(citations::reply_says_entailed("Yes."));
  EXPECT_TRUE(citations::reply_says_entailed("  **yes** it does"));
  EXPECT_TRUE(citations::reply_says_entailed("1"));
  EXPECT_FALSE(citations::reply_says_entailed("No"));
  EXPECT_FALSE(citations::reply_says_entailed("Yesterday"));
  EXPECT_FALSE(citations::reply_says_entailed(""));
  const auto& t = citations::default_judge_template();
  EXPECT_NE(t.find("Premise:\n{premise}\nClaim:\n{claim}"), std::string::npos);
}

// A judge on loopback that says yes when every word of the claim occurs in the premise.
std::string strict_judge(const std::string& prompt) {
  const auto premise_at = prompt.find("Premise:\n");
  const auto claim_at = prompt.find("\nClaim:\n");
  if (premise_at == std::string::npos || claim_at == std::string::npos) return "no";
  const std::string premise = prompt.substr(premise_at + 9, claim_at - premise_at - 9);
  const std::string claim =
      prompt.substr(claim_at + 8, prompt.find("\n\n", claim_at + 8) - claim_at - 8);
  std::string word;
  for (char c : claim + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      if (premise.find(word) == std::string::npos) return "No.";
      word.clear();
    }
  }
  return "Yes.";
}

TEST(CitationsIntegration, GoldAnswersJudgedByALoopbackModel) {
  test_support::fake_openai_server judge_server(strict_judge);
  testing::temp_dir dir;
  run_command_options options;
  options.tasks = {"citations"};
  options.models = {"gold"};
  options.judge = "openai:" + judge_server.base_url() + "#judge-model";
  options.task.dataset = kDemos + "eli5.json";
  options.out = dir.path() / "run";
  options.quiet = true;
  EXPECT_EQ(run_command(options), kExitOk);
  const auto run = read_json_file(options.out / "run.json");
  EXPECT_EQ(run["task"]["citation_style"], "eli5");
  EXPECT_EQ(run["task"]["judge_is_model"], true);
  EXPECT_EQ(run["counts"]["scored"], 4);
  const auto& report = run["task_report"];
  EXPECT_GT(report["pairs_judged"].get<int>(), 0);
  EXPECT_EQ(report["pairs_judged"].get<std::size_t>(), judge_server.total_requests());
  EXPECT_TRUE(report.contains("agreement_with_lexical"));
  EXPECT_GT(run["usage"]["completion_tokens"].get<long long>(), 0);
  const double recall = run["metrics"]["citation_recall"]["value"];
  EXPECT_GE(recall, 0.0);
  EXPECT_LE(recall, 1.0);
  // Every sentence is in samples.jsonl with its verdict.
  for (const auto& s : read_samples(options.out / "samples.jsonl")) {
    ASSERT_TRUE(s.details.contains("sentences")) << s.id;
    for (const auto& sentence : s.details["sentences"]) {
      EXPECT_TRUE(sentence.contains("supported"));
      EXPECT_TRUE(sentence.contains("reason"));
    }
  }
}

TEST(CitationsIntegration, OfflineLexicalJudgeIsNamedAsSuch) {
  testing::temp_dir dir;
  run_command_options options;
  options.tasks = {"citations"};
  options.models = {"gold"};
  options.task.dataset = kDemos + "qampari.json";
  options.out = dir.path() / "run";
  options.quiet = true;
  EXPECT_EQ(run_command(options), kExitOk);
  const auto run = read_json_file(options.out / "run.json");
  EXPECT_EQ(run["task"]["judge_is_model"], false);
  EXPECT_NE(run["task"]["judge"].get<std::string>().find("approximate"), std::string::npos);
  EXPECT_TRUE(run["task_report"].contains("note"));
  EXPECT_TRUE(run["metrics"].contains("citation_precision"));
  EXPECT_FALSE(run["metrics"].contains("qampari_f1"));  // the demos carry no gold answer lists
}

}  // namespace
}  // namespace ys

#include "adapters/replay.h"

namespace ys {
namespace {

TEST(CitationsJudge, AReplayJudgeAnswersByTheRequestHash) {
  testing::temp_dir dir;
  const std::string premise = "Title: Paris\nParis is the capital of France.";
  const std::string claim = "Paris is the capital of France.";
  citations::model_judge probe(nullptr, citations::default_judge_template());
  const auto req = probe.make_request(premise, claim);
  EXPECT_EQ(req.source_id.rfind("judge-", 0), 0u);
  const auto file = dir.write(
      "judge.jsonl", nlohmann::json{{"id", req.source_id}, {"completion", "Yes"}}.dump() + "\n");
  std::shared_ptr<model_backend> replay = make_replay_backend(file.string(), {});
  citations::model_judge judge(replay, citations::default_judge_template());
  const auto v = judge.judge(premise, claim);
  ASSERT_FALSE(v.failure);
  EXPECT_TRUE(v.entailed);
  const auto missing = judge.judge(premise, "Lyon is the capital of France.");
  ASSERT_TRUE(missing.failure);
  EXPECT_NE(missing.failure->message.find("entailment judge"), std::string::npos);
  EXPECT_EQ(judge.report()["pairs_judged"], 1);
  judge.judge(premise, claim);
  EXPECT_EQ(judge.report()["memo_hits"], 1);
}

// Hand-made items with every kind of gold field, scored through the task with the gold back end.
TEST(CitationsCorrectness, GoldFieldsOfEachKindAreScored) {
  testing::temp_dir dir;
  const nlohmann::json docs = {
      {{"title", "Nevil Shute"}, {"text", "Nevil Shute wrote Marazan and On the Beach."}},
      {{"title", "Weather"}, {"text", "It rains in Mawsynram, India."}}};
  const nlohmann::json asqa = {
      {{"question", "Where does it rain most?"},
       {"docs", docs},
       {"answer", "It rains most in Mawsynram, India [2]."},
       {"qa_pairs",
        {{{"short_answers", {"Mawsynram"}}}, {{"short_answers", {"Cherrapunji", "Sohra"}}}}}}};
  const nlohmann::json qampari = {{{"question", "Which books did Nevil Shute write?"},
                                   {"docs", docs},
                                   {"answer", "Marazan [1], On the Beach [1], Lonely Road [1]."},
                                   {"answers", {{"Marazan"}, {"On the Beach"}, {"No Highway"}}}}};
  const nlohmann::json eli5 = {{{"question", "Where does it rain?"},
                                {"docs", docs},
                                {"answer", "It rains in Mawsynram, India [2]."},
                                {"claims", {"It rains in Mawsynram.", "Snow falls in Paris."}}}};
  struct expectation {
    const char* name;
    nlohmann::json items;
    std::map<std::string, double> metrics;
  };
  const std::vector<expectation> cases = {
      {"asqa", asqa, {{"str_em", 0.5}, {"str_hit", 0.0}, {"citation_recall", 1.0}}},
      {"qampari",
       qampari,
       {{"qampari_precision", 2.0 / 3.0},
        {"qampari_recall", 2.0 / 3.0},
        {"qampari_f1", 2.0 / 3.0}}},
      {"eli5", eli5, {{"claims_recall", 0.5}, {"citation_recall", 1.0}}}};
  for (const auto& c : cases) {
    run_command_options options;
    options.tasks = {"citations"};
    options.models = {"gold"};
    options.task.dataset = dir.write(std::string(c.name) + "-items.json", c.items.dump());
    options.task.shots = 0;
    options.out = dir.path() / c.name;
    options.quiet = true;
    ASSERT_EQ(run_command(options), kExitOk) << c.name;
    const auto run = read_json_file(options.out / "run.json");
    EXPECT_EQ(run["task"]["citation_style"], c.name);
    for (const auto& [metric, value] : c.metrics) {
      EXPECT_NEAR(run["metrics"][metric]["value"].get<double>(), value, 1e-12)
          << c.name << " " << metric;
    }
  }
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

nlohmann::json same_item_times(int copies) {
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < copies; ++i) {
    items.push_back({{"id", std::to_string(i)},
                     {"question", "Where does it rain?"},
                     {"docs", {{{"title", "Weather"}, {"text", "It rains in Mawsynram, India."}}}},
                     {"answer", "It rains in Mawsynram [1]."},
                     {"claims", {"It rains in Mawsynram."}}});
  }
  return items;
}

TEST(CitationsJudge, ConcurrentSamplesShareOneRequestPerPairAndKeepTheirOwnKey) {
  test_support::fake_openai_server judge_server(
      [](const std::string&) { return "<think>The premise says so.</think>Yes"; });
  testing::temp_dir dir;
  ::setenv("YS_TEST_MODEL_KEY", "sk-model-secret", 1);  // NOLINT(concurrency-mt-unsafe)
  ::setenv("YS_TEST_JUDGE_KEY", "sk-judge-secret", 1);  // NOLINT(concurrency-mt-unsafe)
  run_command_options options;
  options.tasks = {"citations"};
  options.models = {"gold"};
  options.judge = "openai:" + judge_server.base_url() + "#judge";
  options.judge_api_key_env = "YS_TEST_JUDGE_KEY";
  options.backend.api_key_env = "YS_TEST_MODEL_KEY";
  options.concurrency = 8;
  options.task.dataset = dir.write("same.json", same_item_times(8).dump());
  options.task.citation_style = "eli5";
  options.task.shots = 0;
  options.out = dir.path() / "run";
  options.quiet = true;
  EXPECT_EQ(run_command(options), kExitOk);
  // 8 identical items: one citation pair and one claim pair, each sent once.
  EXPECT_EQ(judge_server.total_requests(), 2u);
  EXPECT_EQ(judge_server.last_authorization(), "Bearer sk-judge-secret");
  const auto run = read_json_file(options.out / "run.json");
  EXPECT_EQ(run["task_report"]["pairs_judged"], 2);
  EXPECT_EQ(run["task_report"]["memo_hits"], 14);
  EXPECT_EQ(run["task_report"]["unclear_replies"], 0);
  EXPECT_DOUBLE_EQ(run["metrics"]["citation_recall"]["value"].get<double>(),
                   1.0);  // <think> skipped
  EXPECT_TRUE(run["task"]["judge_details"].contains("template_sha256"));
  ::unsetenv("YS_TEST_MODEL_KEY");  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("YS_TEST_JUDGE_KEY");  // NOLINT(concurrency-mt-unsafe)
}

void expect_citations_load_error(const nlohmann::json& items, const std::string& expected) {
  testing::temp_dir dir;
  task_options options;
  options.dataset = dir.write("items.json", items.dump());
  options.citation_style = "asqa";
  try {
    make_citations_task(options)->load();
    FAIL() << items.dump();
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(CitationsLoader, MalformedGoldFieldsAndRepeatedIdsFailAtLoad) {
  auto item = same_item_times(1)[0];
  item["qa_pairs"] = {{{"short_answers", "alpha"}}};
  expect_citations_load_error(nlohmann::json::array({item}), "field 'qa_pairs[0].short_answers'");
  item = same_item_times(1)[0];
  item["claims"] = {1, 2};
  expect_citations_load_error(nlohmann::json::array({item}),
                              "field 'claims': must be a list of strings");
  item = same_item_times(1)[0];
  item["answers"] = "alpha";
  expect_citations_load_error(nlohmann::json::array({item}), "field 'answers': must be an array");
  auto twice = same_item_times(2);
  twice[1]["id"] = "0";
  expect_citations_load_error(twice, "two items have the id '0'");
  task_options options;
  options.judge_template = "/nonexistent";
  EXPECT_THROW(make_citations_task(options), input_error);  // a template needs --judge
}

}  // namespace
}  // namespace ys
