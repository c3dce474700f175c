#include "tasks/gsm8k.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "harness/build_info.h"
#include "harness/prompts.h"
#include "harness/run_files.h"
#include "harness/sampling.h"
#include "scorers/numeric_answer.h"

namespace ys {

namespace {

constexpr int kDefaultShots = 8;  // the chain-of-thought setting of Wei et al. (2022)
constexpr int kDefaultMaxTokens = 512;
constexpr double kSamplingTemperature = 0.7;  // self-consistency's setting, used for --samples > 1
constexpr const char* kInstruction =
    "Solve the following grade-school math problem step by step. End your reply with "
    "\"The answer is N.\" where N is the final number.";

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string required_string(const nlohmann::json& record, const char* field,
                            const std::string& file, std::size_t line) {
  const auto it = record.find(field);
  if (it == record.end()) throw input_error(file, line, field, "missing");
  if (!it->is_string()) throw input_error(file, line, field, "must be a string");
  return it->get<std::string>();
}

class gsm8k_task final : public task {
 public:
  explicit gsm8k_task(task_options options) : options_(std::move(options)) {
    shots_ = options_.shots.value_or(kDefaultShots);
    if (shots_ < 0) throw input_error("--shots must be >= 0");
    if (options_.samples < 1) throw input_error("--samples must be >= 1");
    dataset_ = options_.dataset.value_or(data_dir() / "gsm8k" / "test.jsonl");
    train_ = data_dir() / "gsm8k" / "train.jsonl";
    if (shots_ > 0) choose_exemplars();
  }

  std::string name() const override { return "gsm8k"; }

  nlohmann::json describe() const override {
    nlohmann::json exemplar_ids = nlohmann::json::array();
    for (auto index : exemplar_indexes_)
      exemplar_ids.push_back(index);
    return {{"task_version", "1"},
            {"prompt_version", "1"},
            {"scorer_version", "1"},
            {"dataset", dataset_.string()},
            {"fewshot_source", train_.string()},
            {"shots", shots_},
            {"fewshot_train_lines", exemplar_ids},
            {"prompt_format", options_.style == prompt_style::chat ? "chat" : "completion"},
            {"samples", options_.samples},
            {"stop", gsm8k_stop_sequences()},
            {"max_tokens", max_tokens()},
            {"temperature", temperature()}};
  }

  std::vector<sample> load() override {
    const auto problems = read_gsm8k(dataset_);
    std::vector<sample> items;
    items.reserve(problems.size());
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (problems[i].question.empty()) continue;  // a blank line keeps its line number as id
      const std::string id = std::to_string(i);
      items.push_back(
          sample{id, {{"question", problems[i].question}}, problems[i].final_answer, id});
    }
    return items;
  }

  request build_request(const sample& item) const override {
    request req;
    req.source_id = item.source_id;
    req.reference = "The answer is " + item.gold.get<std::string>() + ".";
    req.chat = options_.style == prompt_style::chat;
    std::vector<shot> shots;
    for (const auto& [q, a] : exemplars_)
      shots.push_back({"Question: " + q, a});
    fill_few_shot(req, kInstruction, shots,
                  "Question: " + item.fields.at("question").get<std::string>());
    req.params.max_tokens = max_tokens();
    req.params.temperature = temperature();
    req.params.n = options_.samples;
    req.params.stop = gsm8k_stop_sequences();
    req.params.seed = options_.seed;
    return req;
  }

  sample_result score(const sample& item, const response& reply) const override {
    sample_result result;
    result.completions = reply.texts;
    const auto gold = numeric::parse_number(item.gold.get<std::string>());
    std::vector<numeric::extraction> answers;
    for (const auto& text : reply.texts) {
      answers.push_back(numeric::extract_final_answer(text, gsm8k_stop_sequences()));
      result.extracted.push_back(answers.back().text);
    }
    auto correct = [&](const numeric::extraction& e) {
      return gold && e.value && numeric::same_number(*e.value, *gold);
    };
    const bool first_correct = !answers.empty() && correct(answers.front());
    result.metrics["exact_match"] = first_correct ? 1.0 : 0.0;
    result.metrics["invalid"] = !answers.empty() && !answers.front().value ? 1.0 : 0.0;
    if (options_.samples > 1) {
      const auto vote = majority_vote(answers);
      result.metrics[fmt::format("maj@{}", options_.samples)] =
          vote && gold && numeric::same_number(*vote, *gold) ? 1.0 : 0.0;
      result.metrics[fmt::format("pass@{}", options_.samples)] =
          std::any_of(answers.begin(), answers.end(), correct) ? 1.0 : 0.0;
      result.details["majority_answer"] = vote ? numeric::canonical_text(*vote) : "[invalid]";
    }
    if (!answers.empty()) {
      result.details["answer_source"] =
          answers.front().source == numeric::answer_source::marker ? "marker"
          : answers.front().source == numeric::answer_source::none ? "none"
                                                                   : "last_number";
    }
    return result;
  }

  std::vector<metric_info> metrics() const override {
    std::vector<metric_info> infos{
        {"exact_match", true, "the first completion's final answer equals the gold number"}};
    if (options_.samples > 1) {
      infos.push_back({fmt::format("maj@{}", options_.samples), true,
                       "the majority answer of the samples equals the gold number"});
      infos.push_back({fmt::format("pass@{}", options_.samples), true,
                       "at least one sample's answer equals the gold number"});
    }
    infos.push_back({"invalid", true, "the first completion has no extractable number"});
    return infos;
  }

 private:
  int max_tokens() const { return options_.max_tokens.value_or(kDefaultMaxTokens); }

  double temperature() const {
    return options_.temperature.value_or(options_.samples > 1 ? kSamplingTemperature : 0.0);
  }

  void choose_exemplars() {
    const auto train = read_gsm8k(train_);
    if (static_cast<std::size_t>(shots_) > train.size()) {
      throw input_error(fmt::format("--shots {} exceeds the {} problems in {}", shots_,
                                    train.size(), train_.string()));
    }
    exemplar_indexes_ =
        seeded_sample(train.size(), static_cast<std::size_t>(shots_), options_.seed);
    for (auto index : exemplar_indexes_) {
      exemplars_.emplace_back(train[index].question, gsm8k_exemplar_answer(train[index]));
    }
  }

  // The most frequent valid answer; ties go to the answer seen first. Invalid answers never vote.
  static std::optional<double> majority_vote(const std::vector<numeric::extraction>& answers) {
    std::vector<std::pair<double, int>> tally;
    for (const auto& a : answers) {
      if (!a.value) continue;
      auto it = std::find_if(tally.begin(), tally.end(), [&](const auto& t) {
        return numeric::same_number(t.first, *a.value);
      });
      if (it == tally.end()) {
        tally.emplace_back(*a.value, 1);
      } else {
        ++it->second;
      }
    }
    if (tally.empty()) return std::nullopt;
    auto best = tally.begin();
    for (auto it = tally.begin(); it != tally.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    return best->first;
  }

  task_options options_;
  int shots_ = kDefaultShots;
  std::filesystem::path dataset_;
  std::filesystem::path train_;
  std::vector<std::size_t> exemplar_indexes_;
  std::vector<std::pair<std::string, std::string>> exemplars_;
};

}  // namespace

const std::vector<std::string>& gsm8k_stop_sequences() {
  static const std::vector<std::string> stops{"Question:",  "Q:",         "</s>",
                                              "<|im_end|>", "<|eot_id|>", "<|endoftext|>"};
  return stops;
}

std::vector<gsm8k_problem> read_gsm8k(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    read_text_file(path, "GSM8K file");  // throws, saying why
  }
  const std::string file = path.string();
  std::vector<gsm8k_problem> problems;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      problems.emplace_back();  // keeps ids equal to line numbers
      continue;
    }
    const auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      throw input_error(file, line_number, "", "not a JSON object");
    }
    gsm8k_problem problem;
    problem.question = required_string(record, "question", file, line_number);
    problem.solution = required_string(record, "answer", file, line_number);
    const auto marker = problem.solution.rfind("####");
    if (marker == std::string::npos) {
      throw input_error(file, line_number, "answer", "no final '#### N' line");
    }
    problem.final_answer = trim(std::string_view(problem.solution).substr(marker + 4));
    if (!numeric::parse_number(problem.final_answer)) {
      throw input_error(file, line_number, "answer",
                        fmt::format("final answer '{}' is not a number", problem.final_answer));
    }
    problems.push_back(std::move(problem));
  }
  return problems;
}

std::string gsm8k_exemplar_answer(const gsm8k_problem& problem) {
  std::string_view solution = problem.solution;
  solution = solution.substr(0, solution.rfind("####"));
  std::string text;
  for (std::size_t i = 0; i < solution.size();) {
    if (solution.compare(i, 2, "<<") == 0) {
      const auto close = solution.find(">>", i + 2);
      if (close != std::string_view::npos) {
        i = close + 2;
        continue;
      }
    }
    text += solution[i++];
  }
  // Newlines stay: they are part of how the solutions are written, step per line.
  return fmt::format("{}\nThe answer is {}.", trim(text), problem.final_answer);
}

std::unique_ptr<task> make_gsm8k_task(const task_options& options) {
  return std::make_unique<gsm8k_task>(options);
}

}  // namespace ys
