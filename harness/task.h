// The interface every evaluation task implements. A task knows its data format, how to prompt,
// how to extract and score an answer; it never knows which back end answers.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/types.h"

namespace ys {

class model_backend;

enum class prompt_style { chat, completion };

// Options common to every task, from the command line.
struct task_options {
  std::optional<std::filesystem::path> dataset;  // default: the task's shipped file
  std::optional<int> shots;                      // default: the task's own
  int samples = 1;                               // completions per item (--samples)
  std::uint64_t seed = 1234;
  prompt_style style = prompt_style::chat;
  std::optional<int> max_tokens;
  std::optional<double> temperature;  // default: 0, or the task's sampling default when samples > 1

  // Citation accuracy (ignored by other tasks).
  std::optional<std::string> citation_style;  // asqa | qampari | eli5; default: detected
  int docs = 5;                               // passages shown per question
  int max_citations = 3;                      // citations judged per sentence
  std::shared_ptr<model_backend> judge;       // entailment judge model; null: offline lexical
  std::optional<std::filesystem::path> judge_template;  // replaces the judge's prompt
};

struct metric_info {
  std::string name;
  bool binary = false;  // 0/1 per sample: Wilson interval, McNemar in compare
  std::string description;
};

class task {
 public:
  virtual ~task() = default;

  virtual std::string name() const = 0;
  // task_version, prompt_version and scorer_version, plus the task's prompt settings.
  virtual nlohmann::json describe() const = 0;

  // Reads the dataset. Throws input_error naming the file, line and field on bad input.
  virtual std::vector<sample> load() = 0;

  // Things about the data a user should know (a repeated id, say), found by load().
  virtual std::vector<std::string> load_warnings() const { return {}; }

  virtual request build_request(const sample& item) const = 0;

  // Scores a successful response (the runner handles failed ones).
  virtual sample_result score(const sample& item, const response& reply) const = 0;

  // The metrics `score` fills in, in display order; the first is the headline.
  virtual std::vector<metric_info> metrics() const = 0;

  // Figures the task gathered while scoring (a judge's calls and agreement, say), for run.json.
  virtual nlohmann::json report() const { return nullptr; }
};

}  // namespace ys
