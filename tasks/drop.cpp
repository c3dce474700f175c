#include "tasks/drop.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "harness/build_info.h"
#include "harness/prompts.h"
#include "harness/run_files.h"
#include "harness/sampling.h"
#include "scorers/drop_metrics.h"
#include "scorers/numeric_answer.h"

namespace ys {

namespace {

constexpr int kDefaultShots = 3;  // lm-evaluation-harness's DROP setting
constexpr int kDefaultMaxTokens = 512;
constexpr const char* kInstruction =
    "Read the passage and answer the question. You may reason step by step first. End with a "
    "line \"Answer: ...\" giving only the answer: a number in digits, a date, or words from the "
    "passage. If the answer has several parts, separate them with \" | \".";
constexpr const char* kAnswerMarker = "answer:";

// One question as read from the file, before it becomes a sample.
struct drop_question {
  std::string passage_id;
  std::string query_id;
  std::string question;
  nlohmann::json candidates;  // the answer, then the validated answers, as answer objects
};

std::string_view trim_whitespace(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Strips what models put around an answer: whitespace, trailing sentence punctuation, quotes and
// markdown bold, repeatedly, since they nest ("**\"Bob\".**").
std::string clean_span(std::string_view span) {
  for (;;) {
    const std::string_view before = span;
    span = trim_whitespace(span);
    while (!span.empty() && std::string_view(".,;:").find(span.back()) != std::string_view::npos) {
      span.remove_suffix(1);
    }
    if (span.starts_with("**")) span.remove_prefix(2);
    if (span.ends_with("**")) span.remove_suffix(2);
    if (span.size() >= 2 && (span.front() == '"' || span.front() == '\'') &&
        span.back() == span.front()) {
      span = span.substr(1, span.size() - 2);
    }
    if (span.size() >= 6 && span.starts_with("\u201c") && span.ends_with("\u201d")) {
      span = span.substr(3, span.size() - 6);
    }
    if (span == before) return std::string(span);
  }
}

std::size_t find_last_marker(std::string_view text) {
  std::size_t found = std::string_view::npos;
  for (std::size_t at = 0; at + 7 <= text.size(); ++at) {
    bool match = true;
    for (std::size_t k = 0; k < 7 && match; ++k) {
      match = std::tolower(static_cast<unsigned char>(text[at + k])) == kAnswerMarker[k];
    }
    if (match) found = at;
  }
  return found;
}

// 1-based line of the first occurrence of `needle` in `text`, or 0 when absent. JSON parsers do
// not report where a well-formed but wrong value sits, so errors locate it by its key.
std::size_t line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return 0;
  return line_at(text, at);
}

class drop_task final : public task {
 public:
  explicit drop_task(task_options options) : options_(std::move(options)) {
    shots_ = options_.shots.value_or(kDefaultShots);
    if (shots_ < 0) throw input_error("--shots must be >= 0");
    if (options_.samples != 1) throw input_error("DROP scores one completion: --samples must be 1");
    dataset_ = options_.dataset.value_or(data_dir() / "drop" / "dev-subset.json");
  }

  std::string name() const override { return "drop"; }

  nlohmann::json describe() const override {
    return {{"task_version", "1"},
            {"prompt_version", "1"},
            {"scorer_version", "1"},
            {"scorer", "DROP official EM/F1 (allennlp drop_eval), reimplemented"},
            {"dataset", dataset_.string()},
            {"shots", shots_},
            {"fewshot_source", "other passages of the same dataset"},
            {"prompt_format", options_.style == prompt_style::chat ? "chat" : "completion"},
            {"stop", stops()},
            {"max_tokens", options_.max_tokens.value_or(kDefaultMaxTokens)},
            {"temperature", options_.temperature.value_or(0.0)}};
  }

  std::vector<sample> load() override {
    questions_ = read_questions();
    exemplar_order_ = seeded_sample(questions_.size(), questions_.size(), options_.seed);
    std::map<std::string, int> seen;
    std::vector<sample> items;
    items.reserve(questions_.size());
    for (std::size_t i = 0; i < questions_.size(); ++i) {
      const auto& q = questions_[i];
      const int occurrence = ++seen[q.query_id];
      std::string id = occurrence == 1 ? q.query_id : fmt::format("{}#{}", q.query_id, occurrence);
      if (occurrence == 2) {
        warnings_.push_back(fmt::format(
            "{}: query_id {} occurs more than once (passage {}); each occurrence is scored as its "
            "own question (ids '{}', '{}#2', ...), and a replay record with that id answers all",
            dataset_.string(), q.query_id, q.passage_id, q.query_id, q.query_id));
      }
      items.push_back(sample{std::move(id),
                             {{"passage_id", q.passage_id}, {"question", q.question}, {"index", i}},
                             q.candidates,
                             q.query_id});
    }
    std::set<std::string> unique;
    for (const auto& item : items) {
      if (!unique.insert(item.id).second) {
        throw input_error(fmt::format(
            "{}: sample id '{}' is both a query_id and the name given to a repeat of another; "
            "rename one of them",
            dataset_.string(), item.id));
      }
    }
    return items;
  }

  std::vector<std::string> load_warnings() const override { return warnings_; }

  // A completion prompt needs the turn markers as stops, or the model writes the next passage;
  // a chat model may quote "Question:" while reasoning, so chat stops only at end-of-turn tokens.
  const std::vector<std::string>& stops() const {
    static const std::vector<std::string> chat_stops{"</s>", "<|im_end|>", "<|eot_id|>",
                                                     "<|endoftext|>"};
    return options_.style == prompt_style::chat ? chat_stops : drop_stop_sequences();
  }

  request build_request(const sample& item) const override {
    request req;
    req.source_id = item.source_id;
    req.chat = options_.style == prompt_style::chat;
    const auto index = item.fields.at("index").get<std::size_t>();
    req.reference = "Answer: " + answer_text(questions_[index]);
    const auto exemplars = exemplars_for(index);
    std::vector<shot> shots;
    for (auto e : exemplars)
      shots.push_back({question_block(questions_[e]), answer_text(questions_[e])});
    fill_few_shot(req, kInstruction, shots, question_block(questions_[index]),
                  {.chat_answer_prefix = "Answer: ", .separator = "\n\n"});
    req.params.max_tokens = options_.max_tokens.value_or(kDefaultMaxTokens);
    req.params.temperature = options_.temperature.value_or(0.0);
    req.params.stop = stops();
    req.params.seed = options_.seed;
    return req;
  }

  sample_result score(const sample& item, const response& reply) const override {
    sample_result result;
    result.completions = reply.texts;
    drop_extraction extracted;
    if (reply.structured.contains("spans")) {
      extracted.spans = reply.structured["spans"].get<std::vector<std::string>>();
      extracted.source = "structured";
    } else if (!reply.texts.empty()) {
      extracted = extract_drop_answer(numeric::truncate_at_stop(reply.texts.front(), stops()));
    }
    std::vector<drop::gold_answer> candidates;
    for (const auto& answer : item.gold)
      candidates.push_back(drop::gold_from_json(answer));
    const auto scored = drop::score_question(extracted.spans, candidates);
    std::string joined;
    for (const auto& span : extracted.spans)
      joined += (joined.empty() ? "" : " | ") + span;
    result.extracted = {joined};
    result.metrics["em"] = scored.em;
    result.metrics["f1"] = scored.f1;
    if (!scored.type.empty()) {
      result.metrics["em_" + scored.type] = scored.em;
      result.metrics["f1_" + scored.type] = scored.f1;
    }
    result.details = {{"spans", extracted.spans},
                      {"answer_source", extracted.source},
                      {"answer_type", scored.type}};
    return result;
  }

  std::vector<metric_info> metrics() const override {
    std::vector<metric_info> infos{
        {"f1", false, "official DROP F1 (bag-of-tokens, numbers must match, aligned spans)"},
        {"em", true, "official DROP exact match (normalized span sets equal)"}};
    for (const char* type : {"number", "span", "spans", "date"}) {
      infos.push_back({fmt::format("em_{}", type), true,
                       fmt::format("exact match on questions whose gold type is {}", type)});
      infos.push_back({fmt::format("f1_{}", type), false,
                       fmt::format("F1 on questions whose gold type is {}", type)});
    }
    return infos;
  }

 private:
  std::vector<drop_question> read_questions() {
    const std::string text = read_text_file(dataset_, "DROP file");
    const std::string file = dataset_.string();
    const auto data = parse_json_text<nlohmann::ordered_json>(text, file);
    if (!data.is_object()) {
      throw input_error(file, 1, "", "expected an object mapping passage ids to passages");
    }
    std::vector<drop_question> questions;
    for (const auto& element : data.items()) {
      // Named copies, not structured bindings: lambdas below capture them, which C++20 allows
      // for bindings but clang 14 (clang-tidy here) does not.
      // NOLINTNEXTLINE(performance-unnecessary-copy-initialization)
      const std::string passage_id = element.key();
      const auto& entry = element.value();
      const std::size_t line = line_of(text, "\"" + passage_id + "\"");
      auto fail = [&](const std::string& field, const std::string& problem) {
        return input_error(file, line, field, fmt::format("passage '{}': {}", passage_id, problem));
      };
      if (!entry.is_object()) throw fail("", "must be an object");
      if (!entry.contains("passage") || !entry["passage"].is_string()) {
        throw fail("passage", "missing or not a string");
      }
      if (!entry.contains("qa_pairs") || !entry["qa_pairs"].is_array()) {
        throw fail("qa_pairs", "missing or not an array");
      }
      passages_[passage_id] = entry["passage"].get<std::string>();
      std::size_t index = 0;
      for (const auto& qa : entry["qa_pairs"]) {
        const std::string where = fmt::format("qa_pairs[{}].", index++);
        // Point at the question itself when it has an id to find it by.
        const std::size_t qa_line =
            qa.is_object() && qa.contains("query_id") && qa["query_id"].is_string() &&
                    !qa["query_id"].get<std::string>().empty()
                ? line_of(text, "\"" + qa["query_id"].get<std::string>() + "\"")
                : line;
        auto fail_qa = [&](const std::string& field, const std::string& problem) {
          return input_error(file, qa_line, field,
                             fmt::format("passage '{}': {}", passage_id, problem));
        };
        if (!qa.is_object()) throw fail_qa(where, "must be an object");
        for (const char* field : {"question", "query_id"}) {
          if (!qa.contains(field) || !qa[field].is_string()) {
            throw fail_qa(where + field, "missing or not a string");
          }
        }
        if (!qa.contains("answer") || !qa["answer"].is_object()) {
          throw fail_qa(where + "answer", "missing or not an object");
        }
        drop_question q;
        q.passage_id = passage_id;
        q.query_id = qa["query_id"].get<std::string>();
        if (q.query_id.empty()) throw fail_qa(where + "query_id", "is empty");
        q.question = qa["question"].get<std::string>();
        q.candidates = nlohmann::json::array();
        q.candidates.push_back(nlohmann::json::parse(qa["answer"].dump()));
        if (qa.contains("validated_answers")) {
          if (!qa["validated_answers"].is_array()) {
            throw fail_qa(where + "validated_answers", "must be an array");
          }
          for (const auto& v : qa["validated_answers"]) {
            if (!v.is_object()) throw fail_qa(where + "validated_answers", "must hold objects");
            q.candidates.push_back(nlohmann::json::parse(v.dump()));
          }
        }
        check_answer_types(q.candidates, [&](const std::string& problem) {
          return fail_qa(where + "answer", problem);
        });
        questions.push_back(std::move(q));
      }
    }
    return questions;
  }

  template <class make_error>
  static void check_answer_types(const nlohmann::json& candidates, make_error&& error_for) {
    for (const auto& answer : candidates) {
      if (answer.contains("number") && !answer["number"].is_string() &&
          !answer["number"].is_number()) {
        throw error_for("'number' must be a string");
      }
      if (answer.contains("spans") && !answer["spans"].is_array()) {
        throw error_for("'spans' must be an array of strings");
      }
      if (answer.contains("spans")) {
        for (const auto& s : answer["spans"]) {
          if (!s.is_string()) throw error_for("'spans' must be an array of strings");
        }
      }
      if (answer.contains("date") && !answer["date"].is_object()) {
        throw error_for("'date' must be an object");
      }
    }
  }

  // The first `shots_` questions of the seeded order that come from another passage, so no
  // exemplar gives away the answer's context.
  std::vector<std::size_t> exemplars_for(std::size_t index) const {
    std::vector<std::size_t> chosen;
    for (auto candidate : exemplar_order_) {
      if (chosen.size() >= static_cast<std::size_t>(shots_)) break;
      if (questions_[candidate].passage_id == questions_[index].passage_id) continue;
      if (answer_text(questions_[candidate]).empty()) continue;
      chosen.push_back(candidate);
    }
    return chosen;
  }

  std::string question_block(const drop_question& q) const {
    return fmt::format("Passage: {}\nQuestion: {}", passages_.at(q.passage_id), q.question);
  }

  static std::string answer_text(const drop_question& q) {
    const auto gold = drop::gold_from_json(q.candidates.front());
    std::string text;
    for (const auto& span : gold.spans)
      text += (text.empty() ? "" : " | ") + span;
    return std::string(trim_whitespace(text));
  }

  task_options options_;
  int shots_ = kDefaultShots;
  std::filesystem::path dataset_;
  std::vector<drop_question> questions_;
  std::map<std::string, std::string> passages_;
  std::vector<std::size_t> exemplar_order_;
  std::vector<std::string> warnings_;
};

}  // namespace

const std::vector<std::string>& drop_stop_sequences() {
  static const std::vector<std::string> stops{"Passage:",   "Question:",  "</s>",
                                              "<|im_end|>", "<|eot_id|>", "<|endoftext|>"};
  return stops;
}

drop_extraction extract_drop_answer(std::string_view completion) {
  std::string scratch;
  const std::string_view text = numeric::remove_reasoning(completion, scratch);
  drop_extraction out;
  std::string_view line;
  if (const auto marker = find_last_marker(text); marker != std::string_view::npos) {
    line = text.substr(marker + 7);
    line = line.substr(0, line.find('\n'));
    out.source = "marker";
  } else {
    std::size_t end = text.size();
    while (end > 0) {
      const auto start = text.rfind('\n', end - 1);
      const auto begin = start == std::string_view::npos ? 0 : start + 1;
      const auto candidate = trim_whitespace(text.substr(begin, end - begin));
      if (!candidate.empty()) {
        line = candidate;
        break;
      }
      if (start == std::string_view::npos) break;
      end = start;
    }
    out.source = line.empty() ? "none" : "last_line";
  }
  std::size_t start = 0;
  for (;;) {
    const auto bar = line.find('|', start);
    std::string span =
        clean_span(line.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (!span.empty()) out.spans.push_back(std::move(span));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (out.spans.empty()) out.source = "none";
  return out;
}

std::unique_ptr<task> make_drop_task(const task_options& options) {
  return std::make_unique<drop_task>(options);
}

}  // namespace ys
