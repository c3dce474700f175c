// The core data types that flow through a run:
//   dataset --loader--> sample --task--> request --back end--> response --task--> sample_result
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/errors.h"

namespace ys {

// One evaluation item. `fields` holds the task's inputs (question, passage, documents) and
// `gold` its reference answers; both are task-defined JSON so the core stays task-agnostic.
struct sample {
  std::string id;  // unique and stable across runs: what compare and resume match on
  nlohmann::json fields;
  nlohmann::json gold;
  // The id in the source data, which recorded generations (replay) are matched on. Equal to
  // `id` unless the source repeats an id (DROP's dev set does): then each occurrence gets its own
  // `id` and all share this one.
  std::string source_id;
};

struct chat_message {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct generation_params {
  int max_tokens = 512;
  double temperature = 0.0;
  double top_p = 1.0;
  int n = 1;  // completions per request (maj@k, pass@k)
  std::vector<std::string> stop;
  std::optional<std::uint64_t> seed;
};

// What a back end is asked. Exactly one of `messages` (chat) and `prompt` (completion) is used,
// chosen by `chat`.
struct request {
  std::string source_id;  // the sample's source id (see sample::source_id)
  bool chat = true;
  std::vector<chat_message> messages;
  std::string prompt;
  generation_params params;
  // The dataset's own reference answer, when it has one: the `gold` back end answers with it, so
  // references can be scored as if a model wrote them.
  std::string reference;

  // A stable content hash (hex) of everything that determines the model's output.
  std::string content_hash() const;
};

struct token_usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  token_usage& operator+=(const token_usage& other) {
    prompt_tokens += other.prompt_tokens;
    completion_tokens += other.completion_tokens;
    return *this;
  }
};

struct response {
  std::vector<std::string> texts;  // one per requested completion
  std::vector<std::string> finish_reasons;
  token_usage usage;
  double latency_s = 0.0;  // wall time of the successful attempt
  int attempts = 0;        // HTTP attempts made, retries included (0 for replay)
  std::optional<error> failure;
  // An answer the back end gives in structured form rather than as text (a replay record's
  // `spans`), scored as given by the tasks that accept it; null otherwise.
  nlohmann::json structured;
};

// The scored outcome of one sample. A sample whose request failed has `failure` set, no metrics,
// and is excluded from the aggregates (it is counted as failed instead).
struct sample_result {
  std::string id;
  std::string prompt_hash;
  std::vector<std::string> completions;  // raw text as the back end returned it
  std::vector<std::string> extracted;    // the task's extracted answer per completion
  nlohmann::json gold;
  std::map<std::string, double> metrics;
  std::optional<error> failure;
  token_usage usage;
  double latency_s = 0.0;
  int attempts = 0;
  nlohmann::json details = nlohmann::json::object();  // task-specific extras for people to read
};

nlohmann::json to_json(const sample_result& result);
// Reads a line written by to_json; throws input_error naming `field` on a bad record.
sample_result sample_result_from_json(const nlohmann::json& j);

}  // namespace ys
