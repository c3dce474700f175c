#include "harness/types.h"

#include <openssl/sha.h>

#include <array>

#include <fmt/format.h>

namespace ys {

namespace {

nlohmann::json request_identity(const request& req) {
  nlohmann::json j;
  j["chat"] = req.chat;
  if (req.chat) {
    j["messages"] = nlohmann::json::array();
    for (const auto& m : req.messages)
      j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  } else {
    j["prompt"] = req.prompt;
  }
  j["max_tokens"] = req.params.max_tokens;
  j["temperature"] = req.params.temperature;
  j["top_p"] = req.params.top_p;
  j["n"] = req.params.n;
  j["stop"] = req.params.stop;
  if (req.params.seed) j["seed"] = *req.params.seed;
  return j;
}

nlohmann::json error_json(const error& e) {
  nlohmann::json j{{"code", to_string(e.code)}, {"message", e.message}};
  if (e.http_status != 0) j["http_status"] = e.http_status;
  return j;
}

error_code error_code_from_string(const std::string& s) {
  for (auto code :
       {error_code::invalid_argument, error_code::unauthenticated, error_code::rate_limited,
        error_code::deadline_exceeded, error_code::unavailable, error_code::server_error,
        error_code::malformed_response, error_code::not_found}) {
    if (to_string(code) == s) return code;
  }
  return error_code::internal;
}

}  // namespace

std::string request::content_hash() const {
  // The key order of nlohmann::json objects is sorted, so dump() is canonical.
  const std::string canonical = request_identity(*this).dump();
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest.data());
  std::string hex;
  hex.reserve(32);
  for (std::size_t i = 0; i < 16; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

nlohmann::json to_json(const sample_result& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["prompt_hash"] = r.prompt_hash;
  j["completions"] = r.completions;
  j["extracted"] = r.extracted;
  j["gold"] = r.gold;
  j["metrics"] = r.metrics;
  j["error"] = r.failure ? error_json(*r.failure) : nlohmann::json(nullptr);
  j["usage"] = {{"prompt_tokens", r.usage.prompt_tokens},
                {"completion_tokens", r.usage.completion_tokens}};
  j["latency_s"] = r.latency_s;
  j["attempts"] = r.attempts;
  if (!r.details.empty()) j["details"] = r.details;
  return j;
}

sample_result sample_result_from_json(const nlohmann::json& j) {
  sample_result r;
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.contains(name)) throw input_error(fmt::format("missing field '{}'", name));
    return j.at(name);
  };
  try {
    r.id = field("id").get<std::string>();
    r.prompt_hash = field("prompt_hash").get<std::string>();
    r.completions = field("completions").get<std::vector<std::string>>();
    r.extracted = field("extracted").get<std::vector<std::string>>();
    r.gold = field("gold");
    r.metrics = field("metrics").get<std::map<std::string, double>>();
    if (const auto& e = field("error"); !e.is_null()) {
      r.failure = error{error_code_from_string(e.value("code", "internal")), e.value("message", ""),
                        e.value("http_status", 0)};
    }
    if (j.contains("usage")) {
      r.usage.prompt_tokens = j["usage"].value("prompt_tokens", std::int64_t{0});
      r.usage.completion_tokens = j["usage"].value("completion_tokens", std::int64_t{0});
    }
    r.latency_s = j.value("latency_s", 0.0);
    r.attempts = j.value("attempts", 0);
    r.details = j.value("details", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw input_error(fmt::format("bad sample record: {}", e.what()));
  }
  return r;
}

}  // namespace ys
