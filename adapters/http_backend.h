// The HTTP half of every network back end: one POST per attempt over libcurl, per-attempt
// timeouts, retries with capped exponential backoff and full jitter, Retry-After, and the mapping
// of HTTP and transport outcomes to ys::error_code. Subclasses only say where to POST, what to
// send, and how to read a successful reply.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/backend.h"
#include "harness/backend_options.h"

struct curl_slist;  // libcurl's header list; kept out of this header

namespace ys {

// Thread safety: generate() may be called from any number of threads at once; each call borrows
// its own libcurl easy handle from a pool, so keep-alive connections are reused across calls.
// The hooks below are called concurrently and must not mutate shared state. The object must
// outlive every generate() call in flight.
class http_backend : public model_backend {
 public:
  ~http_backend() override;
  http_backend(const http_backend&) = delete;
  http_backend& operator=(const http_backend&) = delete;

  // One exchange with retries; when the server returns fewer than `n` choices, further
  // exchanges fill the rest (latency and attempts add up over them).
  response generate(const request& req) final;

 protected:
  // `headers` are extra request header lines ("Name: value"), for example authorisation.
  // `secrets` are strings that must never reach an error message (an API key, a URL password);
  // they are masked in anything the server or libcurl says.
  http_backend(const backend_options& options, const std::vector<std::string>& headers,
               std::vector<std::string> secrets);

  // The absolute URL to POST `req` to.
  virtual const std::string& endpoint(const request& req) const = 0;

  // The JSON body to POST for `req`.
  virtual std::string request_body(const request& req) const = 0;

  // Fills texts, finish_reasons and usage of `out` from a 2xx body. Throws (any std::exception,
  // with a message saying what is wrong) when the body cannot be read; that counts as a
  // retryable malformed_response.
  virtual void parse_reply(const request& req, std::string_view body, response& out) const = 0;

  // The human-readable reason in a non-2xx body. The default reads OpenAI-style
  // {"error":{"message":...}} (or {"error":"..."}, {"message":...}) and otherwise returns the
  // body cut to about 500 characters.
  virtual std::string error_detail(std::string_view body) const;

  const backend_options& options() const { return options_; }

 private:
  struct handle;
  struct attempt_result;
  class handle_pool;

  response exchange(const request& req);
  attempt_result attempt(handle& h, const std::string& url, const std::string& body) const;
  std::string redact(std::string text) const;
  void note_retry(const error& cause, double delay_s);

  backend_options options_;
  std::vector<std::string> secrets_;
  curl_slist* headers_ = nullptr;  // shared read-only by every transfer
  std::unique_ptr<handle_pool> pool_;
  std::atomic<std::int64_t> last_retry_note_ms_{0};  // steady clock; 0 before the first note
};

// The HTTP library's name and version, for run.json ("libcurl 7.88.1").
std::string http_client_version();

namespace detail {

// Seconds to wait according to a Retry-After value (delay-seconds or an HTTP-date), or nullopt
// when the value is unreadable. Dates in the past give 0.
std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now);

// The full-jitter delay before retry number `retry` (1-based): uniform in
// [0, min(max_s, base_s * 2^(retry-1))]. `unit` is a uniform draw from [0, 1).
double backoff_delay(int retry, double base_s, double max_s, double unit);

// The message cut to `limit` bytes without splitting a UTF-8 sequence, with "..." appended when
// cut.
std::string truncate_utf8(std::string_view text, std::size_t limit);

}  // namespace detail

}  // namespace ys
