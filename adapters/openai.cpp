#include "adapters/openai.h"

#include "harness/redact.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adapters/http_backend.h"

namespace ys {

namespace {

// The OpenAI API rejects more than four stop sequences, and servers that copy it (vLLM, ...)
// may too. Only the first four are sent; tasks cut every completion at all of their stop
// strings after the fact, so the extra ones still take effect, merely after generation.
constexpr std::size_t kMaxStopStrings = 4;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Where the authority (host, port and any userinfo) of an absolute URL begins and ends.
std::pair<std::size_t, std::size_t> authority_span(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {0, 0};
  const std::size_t begin = scheme_end + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", begin), url.size());
  return {begin, end};
}

// The "user:password" part of the URL, or "" when it has none.
std::string userinfo(std::string_view url) {
  const auto [begin, end] = authority_span(url);
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < begin) return "";
  return std::string(url.substr(begin, at - begin));
}

// The URL with any userinfo removed, fit to show to people and to write to run.json.
std::string without_userinfo(std::string_view url) {
  const std::string info = userinfo(url);
  if (info.empty()) return std::string(url);
  const std::size_t begin = authority_span(url).first;
  return std::string(url.substr(0, begin)) + std::string(url.substr(begin + info.size() + 1));
}

struct target_parts {
  std::string base_url;  // as given (userinfo included), without trailing slashes or query
  std::string query;     // after '?', without it; appended to every endpoint (Azure's api-version)
  std::string model;
};

target_parts parse_target(const std::string& target) {
  constexpr std::string_view kUsage =
      "expected 'openai:BASE_URL#MODEL', e.g. 'openai:http://127.0.0.1:8000/v1#my-model'";
  const std::size_t hash = target.find('#');
  // Quoted specs lose their credentials: they end up in terminals and logs.
  const std::string shown = redact_spec(target);
  if (hash == std::string::npos) {
    throw input_error(fmt::format("openai model spec '{}' has no '#MODEL'; {}", shown, kUsage));
  }
  target_parts parts{target.substr(0, hash), "", target.substr(hash + 1)};
  if (const std::size_t question = parts.base_url.find('?'); question != std::string::npos) {
    parts.query = parts.base_url.substr(question + 1);
    parts.base_url.resize(question);
  }
  if (parts.model.empty()) {
    throw input_error(fmt::format("openai model spec '{}' names no model; {}", shown, kUsage));
  }
  while (!parts.base_url.empty() && parts.base_url.back() == '/')
    parts.base_url.pop_back();
  const std::size_t scheme_end = parts.base_url.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : lower(parts.base_url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    throw input_error(
        fmt::format("openai model spec '{}': the base URL must start with http:// or https://; {}",
                    shown, kUsage));
  }
  const auto [begin, end] = authority_span(parts.base_url);
  const std::string info = userinfo(parts.base_url);
  if (end <= begin + (info.empty() ? 0 : info.size() + 1)) {
    throw input_error(fmt::format("openai model spec '{}': the base URL has no host", shown));
  }
  for (const unsigned char c : parts.base_url + parts.query) {
    if (std::iscntrl(c) != 0 || c == ' ') {
      throw input_error(fmt::format(
          "openai model spec '{}': the base URL contains spaces or control characters", shown));
    }
  }
  return parts;
}

std::string with_query(const std::string& url, const std::string& query) {
  return query.empty() ? url : url + "?" + query;
}

std::string read_api_key(const std::string& variable) {
  if (variable.empty()) return "";
  // Read once, at construction, before any worker thread exists.
  const char* value = std::getenv(variable.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return "";
  std::string_view key(value);
  // A key pasted from a file often carries a trailing newline.
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) {
    key.remove_suffix(1);
  }
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) {
    key.remove_prefix(1);
  }
  for (const unsigned char c : key) {
    if (std::iscntrl(c) != 0) {
      // The key itself is never quoted, not even in part.
      throw input_error(fmt::format(
          "environment variable {} holds control characters; it cannot be an API key", variable));
    }
  }
  return std::string(key);
}

std::vector<std::string> auth_headers(const std::string& api_key) {
  if (api_key.empty()) return {};
  return {"Authorization: Bearer " + api_key};
}

std::vector<std::string> secrets_of(const std::string& api_key, const target_parts& parts) {
  std::vector<std::string> secrets{api_key};
  // Values that redact_query hides are secrets too, so no error message can echo them.
  const std::string shown_query = redact_query(parts.query);
  for (std::size_t start = 0; start < parts.query.size();) {
    const std::size_t end = std::min(parts.query.find('&', start), parts.query.size());
    const std::string pair = parts.query.substr(start, end - start);
    if (const auto eq = pair.find('=');
        eq != std::string::npos && shown_query.find(pair) == std::string::npos) {
      secrets.push_back(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  const std::string info = userinfo(parts.base_url);
  secrets.push_back(info);
  if (const std::size_t colon = info.find(':'); colon != std::string::npos) {
    secrets.push_back(info.substr(colon + 1));
  }
  return secrets;
}

std::string string_or_empty(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) throw std::runtime_error(fmt::format("'{}' is not a string", key));
  return it->get<std::string>();
}

std::int64_t count_or_zero(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return 0;
  return it->get<std::int64_t>();
}

class openai_backend final : public http_backend {
 public:
  openai_backend(target_parts parts, const backend_options& options, const std::string& api_key)
      : http_backend(options, auth_headers(api_key), secrets_of(api_key, parts)),
        shown_base_url_(redact_spec(without_userinfo(with_query(parts.base_url, parts.query)))),
        model_(std::move(parts.model)),
        chat_url_(with_query(parts.base_url + "/chat/completions", parts.query)),
        completions_url_(with_query(parts.base_url + "/completions", parts.query)),
        api_key_env_(options.api_key_env),
        api_key_set_(!api_key.empty()) {}

  nlohmann::json describe() const override {
    return {{"backend", "openai"},
            {"base_url", shown_base_url_},
            {"model", model_},
            {"api_key_env", api_key_env_},
            {"api_key_set", api_key_set_}};
  }

  std::string default_label() const override { return model_; }

 protected:
  const std::string& endpoint(const request& req) const override {
    return req.chat ? chat_url_ : completions_url_;
  }

  std::string request_body(const request& req) const override {
    nlohmann::json j;
    j["model"] = model_;
    if (req.chat) {
      auto& messages = j["messages"] = nlohmann::json::array();
      for (const auto& m : req.messages) {
        messages.push_back({{"role", m.role}, {"content", m.content}});
      }
    } else {
      j["prompt"] = req.prompt;
    }
    const generation_params& p = req.params;
    j["max_tokens"] = p.max_tokens;
    j["temperature"] = p.temperature;
    j["top_p"] = p.top_p;
    j["n"] = p.n;
    if (!p.stop.empty()) {
      const auto count = static_cast<std::ptrdiff_t>(std::min(p.stop.size(), kMaxStopStrings));
      j["stop"] = std::vector<std::string>(p.stop.begin(), p.stop.begin() + count);
    }
    if (p.seed) j["seed"] = *p.seed;
    // Dataset text is not always valid UTF-8; replacing bad bytes beats failing the sample.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  void parse_reply(const request& req, std::string_view body, response& out) const override {
    const auto j = nlohmann::json::parse(body);
    if (!j.is_object()) throw std::runtime_error("the reply is not a JSON object");
    if (const auto it = j.find("error"); it != j.end() && !it->is_null()) {
      throw std::runtime_error(
          fmt::format("the reply carries an error: {}", detail::truncate_utf8(it->dump(), 300)));
    }
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) {
      throw std::runtime_error("the reply has no 'choices'");
    }
    struct choice {
      std::int64_t index;
      std::string text;
      std::string finish_reason;
    };
    std::vector<choice> parsed;
    parsed.reserve(choices->size());
    for (const auto& c : *choices) {
      if (!c.is_object()) throw std::runtime_error("a choice is not an object");
      choice item{static_cast<std::int64_t>(parsed.size()), "",
                  string_or_empty(c, "finish_reason")};
      if (const auto index = c.find("index"); index != c.end() && index->is_number_integer()) {
        item.index = index->get<std::int64_t>();
      }
      const auto message = c.find("message");
      if (req.chat && message != c.end() && message->is_object()) {
        item.text = string_or_empty(*message, "content");  // null when the model called a tool
      } else if (c.contains("text")) {
        item.text = string_or_empty(c, "text");
      } else {
        throw std::runtime_error(req.chat ? "a choice has no 'message'" : "a choice has no 'text'");
      }
      parsed.push_back(std::move(item));
    }
    std::stable_sort(parsed.begin(), parsed.end(),
                     [](const choice& a, const choice& b) { return a.index < b.index; });
    out.texts.reserve(parsed.size());
    out.finish_reasons.reserve(parsed.size());
    for (auto& c : parsed) {
      out.texts.push_back(std::move(c.text));
      out.finish_reasons.push_back(std::move(c.finish_reason));
    }
    if (const auto usage = j.find("usage"); usage != j.end() && usage->is_object()) {
      out.usage.prompt_tokens = count_or_zero(*usage, "prompt_tokens");
      out.usage.completion_tokens = count_or_zero(*usage, "completion_tokens");
    }
  }

 private:
  std::string shown_base_url_;
  std::string model_;
  std::string chat_url_;
  std::string completions_url_;
  std::string api_key_env_;
  bool api_key_set_;
};

}  // namespace

std::unique_ptr<model_backend> make_openai_backend(const std::string& target,
                                                   const backend_options& options) {
  target_parts parts = parse_target(target);
  const std::string api_key = read_api_key(options.api_key_env);
  return std::make_unique<openai_backend>(std::move(parts), options, api_key);
}

}  // namespace ys
