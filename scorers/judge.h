// An entailment judge backed by any model back end (openai:..., replay:...), with verdicts
// memoised for the run and, beside each fresh verdict, the offline lexical judge's verdict so
// that their agreement can be reported.
#pragma once

#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "harness/backend.h"
#include "scorers/citations.h"

namespace ys::citations {

// The default prompt: one user message with a line "Premise:", the passages, a line "Claim:",
// the claim, and a request for a one-word yes/no answer.
const std::string& default_judge_template();

// Reads a template file; it must contain both {premise} and {claim}. Throws input_error.
std::string read_judge_template(const std::filesystem::path& path);

// The reply counts as entailed when its first word is "yes" or "1", in any case.
// <think> reasoning is skipped first.
bool reply_says_entailed(std::string_view reply);
// The first word is "no" or "0" (anything else is an unclear reply, counted in the report).
bool reply_says_not_entailed(std::string_view reply);

// Thread-safe.
class model_judge final : public entailment_judge {
 public:
  model_judge(std::shared_ptr<model_backend> backend, std::string prompt_template);

  // The judge's identity for run.json and --resume: its back end and the template's hash.
  nlohmann::json describe() const;

  verdict judge(const std::string& premise, const std::string& claim) override;
  std::string name() const override;

  // Calls made, memo hits, and agreement with the lexical judge on the pairs judged.
  nlohmann::json report() const;

  // The request the judge sends for a pair (its source_id is what a replay judge matches:
  // "judge-" + the request's content hash).
  request make_request(const std::string& premise, const std::string& claim) const;

 private:
  std::shared_ptr<model_backend> backend_;
  std::string template_;
  lexical_judge lexical_;
  mutable std::mutex mutex_;
  // One entry per (premise, claim): a second worker asking while the first is still waiting for
  // the model waits for the same answer instead of sending the request again.
  std::unordered_map<std::string, std::shared_future<verdict>> memo_;
  std::size_t calls_ = 0;
  std::size_t unclear_replies_ = 0;  // neither yes/1 nor no/0: counted as not entailed
  std::size_t memo_hits_ = 0;
  std::size_t agreements_ = 0;
  std::size_t both_entailed_ = 0;
  std::size_t model_entailed_ = 0;
  std::size_t lexical_entailed_ = 0;
};

}  // namespace ys::citations
