// A loopback OpenAI-compatible server for the integration tests and the client benchmark.
//
// It answers POST /v1/chat/completions and /v1/completions deterministically, with a reply made
// by a caller-supplied function of the prompt (completions) or of the last user message (chat).
// Faults are injected by directive tokens inside that text, so one server serves every case:
//
//   [[fail:CODE]]          answer HTTP CODE. For retryable codes (408, 409, 429, 5xx) only the
//                          first time this exact text is seen, then succeed; for the others
//                          (400, 401, 403, 404, 422, ...) every time.
//   [[fail-always:CODE]]   answer HTTP CODE every time.
//   [[retry-after:VALUE]]  the Retry-After sent with 429 and 503 (default "1"; "none" omits it);
//                          VALUE may be delay-seconds or an HTTP-date.
//   [[slow:S]]             sleep S seconds before answering the first time this text is seen.
//   [[slow-always:S]]      sleep S seconds before every answer.
//   [[malformed]]          answer 200 with a body that is not JSON, every time.
//   [[one-choice]]         ignore `n` and return one choice, its text ending " seed=SEED".
//
// Error bodies are OpenAI-style {"error":{"message":...,"type":...}}. A 401 echoes the bearer
// token it received ("Incorrect API key provided: TOKEN"), as a careless server might, so tests
// can check that clients mask it. With n > 1, choice i's text is the reply followed by " #i" and
// the choices are sent in reverse index order, so clients must order them by `index`. A stop
// string in the request cuts the reply; a reply longer than max_tokens words is cut to that many
// words with finish_reason "length". Token counts are whitespace-separated words.
//
// Thread safety: every member function may be called from any thread while the server runs.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ys::test_support {

class fake_openai_server {
 public:
  using reply_function = std::function<std::string(const std::string& prompt)>;

  // Enough worker threads that 64 keep-alive clients (each pinning one) never starve.
  static constexpr int kDefaultThreads = 128;

  // Binds 127.0.0.1 on an ephemeral port and is serving when the constructor returns. The
  // default reply is "echo: " followed by the text. `reply` is called concurrently.
  explicit fake_openai_server(reply_function reply = {}, int threads = kDefaultThreads);
  // Stops serving; requests sleeping on [[slow]] directives are cut short.
  ~fake_openai_server();
  fake_openai_server(const fake_openai_server&) = delete;
  fake_openai_server& operator=(const fake_openai_server&) = delete;

  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT/v1"

  // Requests received on `path` (e.g. "/v1/chat/completions"), faults included.
  std::size_t requests(std::string_view path) const;
  std::size_t total_requests() const;

  // The Authorization header of the latest request ("" when it had none).
  std::string last_authorization() const;
  // The JSON body of the latest request (null when it was not JSON).
  nlohmann::json last_request_body() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ys::test_support
