#include "tasks/citations.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "harness/build_info.h"
#include "harness/prompts.h"
#include "harness/run_files.h"
#include "scorers/citations.h"
#include "scorers/judge.h"

namespace ys {

namespace {

constexpr int kDefaultShots = 2;  // ALCE's setting
constexpr int kDefaultMaxTokens = 300;

std::string instruction_for(const std::string& style) {
  if (style == "qampari") {
    return "Answer the question with a list of answers, using only the numbered search results "
           "below (some may be irrelevant). Separate the answers with commas and cite exactly one "
           "search result for each answer, as in \"Answer one [1], Answer two [3]\".";
  }
  return "Answer the question accurately and concisely, using only the numbered search results "
         "below (some may be irrelevant). Cite a search result for every factual claim, writing "
         "its number in brackets at the end of the sentence, as in [1]; cite several as [1][2]. "
         "Write one paragraph.";
}

std::string required_string(const nlohmann::json& item, const char* field,
                            const std::string& where) {
  if (!item.contains(field) || !item[field].is_string()) {
    throw input_error(fmt::format("{}: field '{}': missing or not a string", where, field));
  }
  return item[field].get<std::string>();
}

class citations_task final : public task {
 public:
  explicit citations_task(task_options options) : options_(std::move(options)) {
    shots_ = options_.shots.value_or(kDefaultShots);
    if (shots_ < 0) throw input_error("--shots must be >= 0");
    if (options_.samples != 1) throw input_error("citations scores one completion: --samples 1");
    if (options_.docs < 1) throw input_error("--docs must be >= 1");
    if (options_.max_citations < 1) throw input_error("--max-citations must be >= 1");
    dataset_ = options_.dataset.value_or(data_dir() / "citations" / "alce-demos" / "asqa.json");
    const std::string prompt_template =
        options_.judge_template ? citations::read_judge_template(*options_.judge_template)
                                : citations::default_judge_template();
    if (options_.judge_template && !options_.judge) {
      throw input_error("--judge-template needs --judge: the offline lexical judge has no prompt");
    }
    if (options_.judge) {
      model_judge_ = std::make_shared<citations::model_judge>(options_.judge, prompt_template);
      judge_ = model_judge_;
    } else {
      judge_ = std::make_shared<citations::lexical_judge>();
    }
  }

  std::string name() const override { return "citations"; }

  nlohmann::json describe() const override {
    return {{"task_version", "1"},
            {"prompt_version", "1"},
            {"scorer_version", "1"},
            {"scorer", "ALCE citation recall/precision; str-em, QAMPARI F1, claim recall"},
            {"dataset", dataset_.string()},
            {"citation_style", style_},
            {"shots", shots_},
            {"docs", options_.docs},
            {"max_citations", options_.max_citations},
            {"judge", judge_->name()},
            {"judge_details", model_judge_ ? model_judge_->describe() : nlohmann::json()},
            {"judge_is_model", model_judge_ != nullptr},
            {"prompt_format", options_.style == prompt_style::chat ? "chat" : "completion"},
            {"max_tokens", options_.max_tokens.value_or(kDefaultMaxTokens)},
            {"temperature", options_.temperature.value_or(0.0)}};
  }

  std::vector<sample> load() override {
    const nlohmann::json items = read_items();
    style_ = options_.citation_style.value_or(detect_citation_style(items, dataset_));
    if (style_.empty()) {
      throw input_error(fmt::format(
          "{}: cannot tell the dataset's kind from its gold fields (qa_pairs, answers, claims) "
          "or its file name; pass --citation-style asqa|qampari|eli5",
          dataset_.string()));
    }
    if (style_ != "asqa" && style_ != "qampari" && style_ != "eli5") {
      throw input_error(
          fmt::format("--citation-style '{}': expected asqa, qampari or eli5", style_));
    }
    std::vector<sample> samples;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const std::string where = fmt::format("{}: item {}", dataset_.string(), i);
      if (!item.is_object()) throw input_error(where + ": must be an object");
      const std::string question = required_string(item, "question", where);
      if (!item.contains("docs") || !item["docs"].is_array()) {
        throw input_error(fmt::format("{}: field 'docs': missing or not an array", where));
      }
      nlohmann::json docs = nlohmann::json::array();
      for (const auto& doc : item["docs"]) {
        if (docs.size() >= static_cast<std::size_t>(options_.docs)) break;
        const std::string doc_where = fmt::format("{} docs[{}]", where, docs.size());
        docs.push_back({{"title", required_string(doc, "title", doc_where)},
                        {"text", required_string(doc, "text", doc_where)}});
      }
      std::string id = std::to_string(i);
      if (item.contains("id")) {
        id = item["id"].is_string() ? item["id"].get<std::string>() : item["id"].dump();
      }
      if (item.contains("answer") && !item["answer"].is_string()) {
        throw input_error(fmt::format("{}: field 'answer': must be a string", where));
      }
      nlohmann::json gold = {{"answer", item.value("answer", "")}};
      check_gold_fields(item, where);
      for (const char* field : {"qa_pairs", "answers", "claims"}) {
        if (item.contains(field)) gold[field] = item[field];
      }
      samples.push_back(
          sample{id, {{"question", question}, {"docs", docs}, {"index", i}}, gold, id});
    }
    std::set<std::string> ids;
    for (const auto& s : samples) {
      if (!ids.insert(s.id).second) {
        throw input_error(fmt::format("{}: two items have the id '{}'", dataset_.string(), s.id));
      }
    }
    items_ = samples;
    return samples;
  }

  request build_request(const sample& item) const override {
    request req;
    req.source_id = item.source_id;
    req.chat = options_.style == prompt_style::chat;
    req.reference = item.gold.value("answer", "");
    const auto index = item.fields.at("index").get<std::size_t>();
    std::vector<std::size_t> exemplars;
    for (std::size_t i = 0;
         i < items_.size() && exemplars.size() < static_cast<std::size_t>(shots_); ++i) {
      if (i != index && !items_[i].gold.value("answer", "").empty()) exemplars.push_back(i);
    }
    std::vector<shot> shots;
    for (auto e : exemplars) {
      shots.push_back({question_block(items_[e]), items_[e].gold.value("answer", "")});
    }
    // A blank line more between exemplars than the other tasks: ALCE's demo separator.
    fill_few_shot(req, instruction_for(style_), shots, question_block(item),
                  {.chat_answer_prefix = "", .separator = "\n\n\n"});
    req.params.max_tokens = options_.max_tokens.value_or(kDefaultMaxTokens);
    req.params.temperature = options_.temperature.value_or(0.0);
    req.params.stop = {"Question:", "</s>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>"};
    req.params.seed = options_.seed;
    return req;
  }

  sample_result score(const sample& item, const response& reply) const override {
    sample_result result;
    result.completions = reply.texts;
    const std::string output =
        citations::preprocess_output(reply.texts.empty() ? "" : reply.texts.front());
    const std::string question = item.fields.at("question").get<std::string>();
    const auto sentences = style_ == "qampari" ? citations::qampari_claims(output, question)
                                               : citations::split_sentences(output);
    std::vector<citations::passage> docs;
    for (const auto& doc : item.fields.at("docs"))
      docs.push_back({doc["title"], doc["text"]});
    const auto scored =
        citations::score_citations(sentences, docs, *judge_, options_.max_citations);
    result.usage += scored.usage;
    result.extracted = {output};
    if (scored.failure) {
      result.failure = scored.failure;
      return result;
    }
    result.metrics["citation_recall"] = scored.recall;
    result.metrics["citation_precision"] = scored.precision;
    result.metrics["nonstandard_markers"] = scored.nonstandard_markers > 0 ? 1.0 : 0.0;
    nlohmann::json sentence_details = nlohmann::json::array();
    for (const auto& s : scored.details) {
      sentence_details.push_back({{"sentence", s.sentence},
                                  {"claim", s.claim},
                                  {"citations", s.citations},
                                  {"supported", s.supported},
                                  {"precise", s.precise},
                                  {"reason", s.reason}});
    }
    result.details = {{"sentences", sentence_details},
                      {"citations_counted", scored.citations_counted},
                      {"nonstandard_markers", scored.nonstandard_markers},
                      {"judge", judge_->name()}};
    const std::string plain = citations::remove_citation_markers(output);
    if (!score_correctness(item, plain, result)) return result;
    return result;
  }

  std::vector<metric_info> metrics() const override {
    std::vector<metric_info> infos{
        {"citation_recall", false, "share of sentences fully supported by what they cite"},
        {"citation_precision", false, "share of citations that are needed and relevant"}};
    if (style_ == "asqa") {
      infos.push_back(
          {"str_em", false, "share of the question's short answers found in the output"});
      infos.push_back({"str_hit", true, "all short answers found"});
    } else if (style_ == "qampari") {
      for (const char* m : {"qampari_precision", "qampari_recall", "qampari_f1",
                            "qampari_recall_top5", "qampari_f1_top5"}) {
        infos.push_back({m, false, "QAMPARI list metric (ALCE)"});
      }
    } else if (style_ == "eli5") {
      infos.push_back({"claims_recall", false, "share of gold claims the output entails (judge)"});
    }
    infos.push_back({"nonstandard_markers", true, "the output used [1, 2] or [1-3] markers"});
    return infos;
  }

  nlohmann::json report() const override {
    if (model_judge_) return model_judge_->report();
    return {{"judge", judge_->name()},
            {"note", "offline lexical judge: approximate; pass --judge SPEC for a model judge"}};
  }

 private:
  nlohmann::json read_items() const {
    auto data = parse_json_text(read_text_file(dataset_, "citation dataset"), dataset_.string());
    if (data.is_object() && data.contains("demos")) data = data["demos"];
    if (!data.is_array()) {
      throw input_error(dataset_.string(), 1, "",
                        "expected a list of items or an object with 'demos'");
    }
    return data;
  }

  // Gold fields must have the shapes the metrics read, so a bad file fails at load with its
  // field named, not at scoring time for every sample.
  static void check_gold_fields(const nlohmann::json& item, const std::string& where) {
    auto strings = [](const nlohmann::json& v) {
      return v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_string(); });
    };
    if (item.contains("qa_pairs")) {
      const auto& pairs = item["qa_pairs"];
      if (!pairs.is_array()) throw input_error(where + ": field 'qa_pairs': must be an array");
      for (std::size_t k = 0; k < pairs.size(); ++k) {
        if (!pairs[k].is_object() || !pairs[k].contains("short_answers") ||
            !strings(pairs[k]["short_answers"])) {
          throw input_error(fmt::format(
              "{}: field 'qa_pairs[{}].short_answers': missing or not a list of strings", where,
              k));
        }
      }
    }
    if (item.contains("answers")) {
      const auto& groups = item["answers"];
      if (!groups.is_array()) throw input_error(where + ": field 'answers': must be an array");
      for (std::size_t k = 0; k < groups.size(); ++k) {
        if (!groups[k].is_string() && !strings(groups[k])) {
          throw input_error(fmt::format(
              "{}: field 'answers[{}]': must be a string or a list of strings", where, k));
        }
      }
    }
    if (item.contains("claims") && !strings(item["claims"])) {
      throw input_error(where + ": field 'claims': must be a list of strings");
    }
  }

  std::string question_block(const sample& item) const {
    std::string block = "Question: " + item.fields.at("question").get<std::string>() + "\n\n";
    std::size_t i = 1;
    for (const auto& doc : item.fields.at("docs")) {
      block += fmt::format("Document [{}](Title: {}): {}\n", i++, doc["title"].get<std::string>(),
                           doc["text"].get<std::string>());
    }
    return block;
  }

  // Adds the correctness metrics the dataset's gold fields allow. Returns false on a judge
  // failure (then recorded in `result`).
  bool score_correctness(const sample& item, const std::string& plain,
                         sample_result& result) const {
    const auto& gold = item.gold;
    if (style_ == "asqa" && gold.contains("qa_pairs") && gold["qa_pairs"].is_array() &&
        !gold["qa_pairs"].empty()) {
      std::vector<std::vector<std::string>> short_answers;
      for (const auto& pair : gold["qa_pairs"]) {
        short_answers.push_back(pair.value("short_answers", std::vector<std::string>{}));
      }
      const double em = citations::str_em(plain, short_answers);
      result.metrics["str_em"] = em;
      result.metrics["str_hit"] = em == 1.0 ? 1.0 : 0.0;
    } else if (style_ == "qampari" && gold.contains("answers") && gold["answers"].is_array() &&
               !gold["answers"].empty()) {
      std::vector<std::vector<std::string>> answers;
      for (const auto& group : gold["answers"]) {
        answers.push_back(group.is_array() ? group.get<std::vector<std::string>>()
                                           : std::vector<std::string>{group.get<std::string>()});
      }
      const auto s = citations::qampari_scores(plain, answers);
      result.metrics["qampari_precision"] = s.precision;
      result.metrics["qampari_recall"] = s.recall;
      result.metrics["qampari_f1"] = s.f1;
      result.metrics["qampari_recall_top5"] = s.recall_top5;
      result.metrics["qampari_f1_top5"] = s.f1_top5;
    } else if (style_ == "eli5" && gold.contains("claims") && gold["claims"].is_array() &&
               !gold["claims"].empty()) {
      double entailed = 0;
      for (const auto& claim : gold["claims"]) {
        const auto v = judge_->judge(plain, claim.get<std::string>());
        result.usage += v.usage;
        if (v.failure) {
          result.failure = v.failure;
          result.metrics.clear();
          return false;
        }
        entailed += v.entailed ? 1.0 : 0.0;
      }
      result.metrics["claims_recall"] = entailed / static_cast<double>(gold["claims"].size());
    }
    return true;
  }

  task_options options_;
  int shots_ = kDefaultShots;
  std::filesystem::path dataset_;
  std::string style_;
  std::vector<sample> items_;
  std::shared_ptr<citations::entailment_judge> judge_;
  std::shared_ptr<citations::model_judge> model_judge_;
};

}  // namespace

std::string detect_citation_style(const nlohmann::json& items, const std::filesystem::path& file) {
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    if (item.contains("qa_pairs")) return "asqa";
    if (item.contains("answers")) return "qampari";
    if (item.contains("claims")) return "eli5";
  }
  const std::string name = file.filename().string();
  for (const char* style : {"asqa", "qampari", "eli5"}) {
    if (name.find(style) != std::string::npos) return style;
  }
  return "";
}

std::unique_ptr<task> make_citations_task(const task_options& options) {
  return std::make_unique<citations_task>(options);
}

}  // namespace ys
