#include "scorers/judge.h"

#include "harness/run_files.h"
#include "scorers/numeric_answer.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace ys::citations {

namespace {

constexpr int kJudgeMaxTokens = 16;

std::string fill(std::string text, const std::string& premise, const std::string& claim) {
  // Filled in one pass so a premise that itself contains "{claim}" is left alone.
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 9, "{premise}") == 0) {
      out += premise;
      i += 9;
    } else if (text.compare(i, 7, "{claim}") == 0) {
      out += claim;
      i += 7;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace

const std::string& default_judge_template() {
  static const std::string text =
      "Premise:\n{premise}\nClaim:\n{claim}\n\n"
      "Does the premise entail the claim, that is, does the premise alone show the claim to be "
      "true? Reply with one word: yes or no.";
  return text;
}

std::string read_judge_template(const std::filesystem::path& path) {
  std::string text = read_text_file(path, "judge template");
  for (const char* field : {"{premise}", "{claim}"}) {
    if (text.find(field) == std::string::npos) {
      throw input_error(
          fmt::format("{}: judge template has no {} placeholder", path.string(), field));
    }
  }
  return text;
}

namespace {

// The first word of a reply, lower-cased, after any <think> reasoning.
std::string first_word(std::string_view reply) {
  std::string scratch;
  const std::string_view text = numeric::remove_reasoning(reply, scratch);
  std::size_t i = 0;
  while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])) == 0)
    ++i;
  std::string word;
  while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])) != 0) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
  }
  return word;
}

}  // namespace

bool reply_says_entailed(std::string_view reply) {
  const std::string word = first_word(reply);
  return word == "yes" || word == "1";
}

bool reply_says_not_entailed(std::string_view reply) {
  const std::string word = first_word(reply);
  return word == "no" || word == "0";
}

model_judge::model_judge(std::shared_ptr<model_backend> backend, std::string prompt_template)
    : backend_(std::move(backend)), template_(std::move(prompt_template)) {}

request model_judge::make_request(const std::string& premise, const std::string& claim) const {
  request req;
  req.chat = true;
  req.messages = {{"user", fill(template_, premise, claim)}};
  req.params.max_tokens = kJudgeMaxTokens;
  req.params.temperature = 0.0;
  req.source_id = "judge-" + req.content_hash();
  return req;
}

verdict model_judge::judge(const std::string& premise, const std::string& claim) {
  const std::string key = premise + '\x1f' + claim;
  std::promise<verdict> promise;
  {
    std::unique_lock lock(mutex_);
    if (auto it = memo_.find(key); it != memo_.end()) {
      ++memo_hits_;
      const auto pending = it->second;
      lock.unlock();
      verdict shared = pending.get();
      shared.usage = {};  // the tokens were counted once, by the call that spent them
      return shared;
    }
    memo_.emplace(key, promise.get_future().share());
  }
  const response reply = backend_->generate(make_request(premise, claim));
  verdict out;
  out.usage = reply.usage;
  if (reply.failure) {
    out.failure = reply.failure;
    out.failure->message = "entailment judge: " + out.failure->message;
    {
      std::lock_guard lock(mutex_);
      memo_.erase(key);  // a later sample may try again (after --resume, say)
    }
    promise.set_value(out);
    return out;
  }
  const std::string text = reply.texts.empty() ? std::string() : reply.texts.front();
  out.entailed = reply_says_entailed(text);
  const bool lexical = lexical_.judge(premise, claim).entailed;
  {
    std::lock_guard lock(mutex_);
    ++calls_;
    unclear_replies_ += !out.entailed && !reply_says_not_entailed(text) ? 1 : 0;
    agreements_ += lexical == out.entailed ? 1 : 0;
    both_entailed_ += lexical && out.entailed ? 1 : 0;
    model_entailed_ += out.entailed ? 1 : 0;
    lexical_entailed_ += lexical ? 1 : 0;
  }
  promise.set_value(out);
  return out;
}

nlohmann::json model_judge::describe() const {
  return {{"backend", backend_->describe()},
          {"template_sha256", text_sha256(template_)},
          {"template_is_default", template_ == default_judge_template()}};
}

std::string model_judge::name() const {
  const auto description = backend_->describe();
  return fmt::format("model judge ({})",
                     description.value("model", description.value("backend", "")));
}

nlohmann::json model_judge::report() const {
  std::lock_guard lock(mutex_);
  nlohmann::json j{{"judge", name()},
                   {"pairs_judged", calls_},
                   {"unclear_replies", unclear_replies_},
                   {"memo_hits", memo_hits_},
                   {"model_entailed", model_entailed_},
                   {"lexical_entailed", lexical_entailed_}};
  if (calls_ > 0) {
    // Cohen's kappa: agreement beyond what two judges with these yes-rates reach by chance.
    const double n = static_cast<double>(calls_);
    const double observed = static_cast<double>(agreements_) / n;
    const double p_model = static_cast<double>(model_entailed_) / n;
    const double p_lexical = static_cast<double>(lexical_entailed_) / n;
    const double chance = p_model * p_lexical + (1 - p_model) * (1 - p_lexical);
    j["agreement_with_lexical"] = observed;
    // Undefined when chance agreement is certain (both judges gave one answer throughout).
    j["kappa_with_lexical"] =
        chance < 1.0 ? nlohmann::json((observed - chance) / (1.0 - chance)) : nlohmann::json();
  }
  return j;
}

}  // namespace ys::citations
