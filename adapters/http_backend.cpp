#include "adapters/http_backend.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ys {

namespace {

constexpr std::size_t kErrorDetailLimit = 500;
constexpr std::string_view kRedacted = "[redacted]";

void init_curl_once() {
  // curl_global_init is not safe to race with itself or with handle creation, so every back end
  // funnels through one once_flag before it creates any handle.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl global initialisation failed");
    }
  });
}

struct classification {
  error_code code;
  bool retryable;
};

classification classify_status(long status) {
  switch (status) {
    case 408:
      return {error_code::deadline_exceeded, true};
    case 409:
      return {error_code::unavailable, true};  // a transient conflict (e.g. a lock)
    case 429:
      return {error_code::rate_limited, true};
    case 500:
      return {error_code::server_error, true};
    case 502:
    case 503:
    case 504:
      return {error_code::unavailable, true};
    case 401:
    case 403:
      return {error_code::unauthenticated, false};
    default:
      break;
  }
  if (status >= 500) return {error_code::server_error, false};
  // 400, 404, 422 and every other status: repeating the same request cannot help.
  return {error_code::invalid_argument, false};
}

classification classify_transport(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return {error_code::deadline_exceeded, true};
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return {error_code::invalid_argument, false};
    // A certificate problem does not go away by asking again.
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return {error_code::unavailable, false};
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
      return {error_code::internal, false};
    default:
      return {error_code::unavailable, true};
  }
}

double uniform_unit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  // Exceptions must not cross libcurl's C frames; returning a short count aborts the transfer.
  try {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

}  // namespace

namespace detail {

std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    double seconds = 0.0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds)) {
      return std::nullopt;
    }
    return seconds;
  }
  const std::string date(value);
  const std::time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const double delta = std::difftime(when, std::chrono::system_clock::to_time_t(now));
  return std::max(0.0, delta);
}

double backoff_delay(int retry, double base_s, double max_s, double unit) {
  if (retry < 1 || base_s <= 0.0 || max_s <= 0.0) return 0.0;
  // ldexp cannot overflow into UB, and min() keeps a huge retry count at the cap.
  const double ceiling = std::min(max_s, std::ldexp(base_s, std::min(retry - 1, 1000)));
  return std::clamp(unit, 0.0, 1.0) * ceiling;
}

std::string truncate_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t cut = limit;
  // Step back over continuation bytes so the cut lands on a character boundary.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace detail

struct http_backend::handle {
  CURL* easy = nullptr;
  std::string body;  // the reply; its capacity is kept between requests
  std::string url;   // the URL last given to libcurl, so an unchanged one is not copied again
  char error_buffer[CURL_ERROR_SIZE] = {};

  handle() = default;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

struct http_backend::attempt_result {
  CURLcode curl = CURLE_OK;
  long status = 0;
  double elapsed_s = 0.0;
  std::optional<double> retry_after_s;
};

// Idle handles, most recently used last, so a hot handle (and its open connection) is reused
// first and the pool grows only to the peak number of concurrent calls.
class http_backend::handle_pool {
 public:
  std::unique_ptr<handle> take() {
    const std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto h = std::move(idle_.back());
    idle_.pop_back();
    return h;
  }

  void give_back(std::unique_ptr<handle> h) {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(h));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<handle>> idle_;
};

http_backend::http_backend(const backend_options& options, const std::vector<std::string>& headers,
                           std::vector<std::string> secrets)
    : options_(options), secrets_(std::move(secrets)), pool_(std::make_unique<handle_pool>()) {
  init_curl_once();
  std::erase_if(secrets_, [](const std::string& s) { return s.empty(); });
  std::vector<std::string> lines = {
      "Content-Type: application/json",
      "Accept: application/json",
      // libcurl would otherwise wait for "100 Continue" before sending a large body.
      "Expect:",
  };
  lines.insert(lines.end(), headers.begin(), headers.end());
  for (const auto& line : lines) {
    curl_slist* grown = curl_slist_append(headers_, line.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(headers_);
      throw std::runtime_error("out of memory building HTTP headers");
    }
    headers_ = grown;
  }
}

http_backend::~http_backend() {
  pool_.reset();  // the handles point at headers_, so they go first
  curl_slist_free_all(headers_);
}

http_backend::attempt_result http_backend::attempt(handle& h, const std::string& url,
                                                   const std::string& body) const {
  h.body.clear();
  h.error_buffer[0] = '\0';
  if (h.url != url) {
    curl_easy_setopt(h.easy, CURLOPT_URL, url.c_str());
    h.url = url;
  }
  curl_easy_setopt(h.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h.easy, CURLOPT_POSTFIELDS, body.data());

  attempt_result r;
  const auto start = std::chrono::steady_clock::now();
  r.curl = curl_easy_perform(h.easy);
  r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (r.curl != CURLE_OK) return r;
  curl_easy_getinfo(h.easy, CURLINFO_RESPONSE_CODE, &r.status);
  if (r.status == 429 || r.status == 503) {
    curl_header* retry_after = nullptr;
    if (curl_easy_header(h.easy, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK) {
      r.retry_after_s =
          detail::parse_retry_after(retry_after->value, std::chrono::system_clock::now());
    }
  }
  return r;
}

response http_backend::exchange(const request& req) {
  response out;
  const std::string* url = nullptr;
  std::string body;
  try {
    url = &endpoint(req);
    body = request_body(req);
  } catch (const std::exception& e) {
    out.failure = error{error_code::invalid_argument,
                        redact(fmt::format("cannot build the request: {}", e.what())), 0};
    return out;
  }

  std::unique_ptr<handle> h = pool_->take();
  if (!h) {
    h = std::make_unique<handle>();
    h->easy = curl_easy_init();
    if (h->easy == nullptr) {
      out.failure = error{error_code::internal, "curl_easy_init failed", 0};
      return out;
    }
    // Everything that does not change between requests is set once per handle.
    CURL* e = h->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // timeouts must not use signals in threads
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &h->body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->error_buffer);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick");
    if (options_.timeout_s > 0.0) {
      const long ms = std::max(1L, std::lround(options_.timeout_s * 1000.0));
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    }
  }

  const int max_attempts = 1 + std::max(0, options_.max_retries);
  error last;
  for (int n = 1;; ++n) {
    out.attempts = n;
    const attempt_result r = attempt(*h, *url, body);
    bool retryable = false;
    std::optional<double> wait_s;
    if (r.curl != CURLE_OK) {
      const classification c = classify_transport(r.curl);
      const char* what = h->error_buffer[0] != '\0' ? h->error_buffer : curl_easy_strerror(r.curl);
      last = error{c.code, fmt::format("transport error: {}", what), 0};
      retryable = c.retryable;
    } else if (r.status >= 200 && r.status < 300) {
      try {
        response parsed;
        parse_reply(req, h->body, parsed);
        parsed.latency_s = r.elapsed_s;
        parsed.attempts = n;
        pool_->give_back(std::move(h));
        return parsed;
      } catch (const std::exception& e) {
        last = error{error_code::malformed_response,
                     fmt::format("HTTP {} with an unreadable body: {}", r.status,
                                 detail::truncate_utf8(redact(e.what()), kErrorDetailLimit)),
                     static_cast<int>(r.status)};
        retryable = true;
      }
    } else {
      const classification c = classify_status(r.status);
      // Masked before error_detail cuts it, so a cut cannot leave part of a secret behind.
      last = error{c.code, fmt::format("HTTP {}: {}", r.status, error_detail(redact(h->body))),
                   static_cast<int>(r.status)};
      retryable = c.retryable;
      wait_s = r.retry_after_s;
    }
    if (!retryable || n >= max_attempts) break;
    const double delay_s = wait_s ? std::clamp(*wait_s, 0.0, std::max(0.0, options_.backoff_max_s))
                                  : detail::backoff_delay(n, options_.backoff_base_s,
                                                          options_.backoff_max_s, uniform_unit());
    note_retry(last, delay_s);
    if (delay_s > 0.0) std::this_thread::sleep_for(std::chrono::duration<double>(delay_s));
  }
  pool_->give_back(std::move(h));
  if (out.attempts > 1) last.message += fmt::format(" (after {} attempts)", out.attempts);
  last.message = redact(std::move(last.message));
  out.failure = std::move(last);
  return out;
}

void http_backend::note_retry(const error& cause, double delay_s) {
  // A pause for a 429 or a dead server should be visible, but one line per retry would bury
  // the progress line: at most one note every few seconds.
  constexpr std::int64_t kNoteIntervalMs = 10'000;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  std::int64_t last = last_retry_note_ms_.load();
  if (last != 0 && now_ms - last < kNoteIntervalMs) return;
  if (!last_retry_note_ms_.compare_exchange_strong(last, now_ms)) return;
  fmt::print(stderr, "note: retrying in {:.1f} s after {}: {} (such notes at most every {} s)\n",
             delay_s, to_string(cause.code), detail::truncate_utf8(redact(cause.message), 200),
             kNoteIntervalMs / 1000);
}

std::string http_backend::error_detail(std::string_view body) const {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (const auto it = j.find("error"); it != j.end()) {
      if (it->is_object()) {
        const auto message = it->find("message");
        if (message != it->end() && message->is_string()) {
          return detail::truncate_utf8(message->get_ref<const std::string&>(), kErrorDetailLimit);
        }
      } else if (it->is_string()) {
        return detail::truncate_utf8(it->get_ref<const std::string&>(), kErrorDetailLimit);
      }
    }
    if (const auto it = j.find("message"); it != j.end() && it->is_string()) {
      return detail::truncate_utf8(it->get_ref<const std::string&>(), kErrorDetailLimit);
    }
  }
  const std::string_view trimmed = trim(body);
  if (trimmed.empty()) return "(empty body)";
  return detail::truncate_utf8(trimmed, kErrorDetailLimit);
}

std::string http_backend::redact(std::string text) const {
  for (const auto& secret : secrets_) {
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  return text;
}

}  // namespace ys

namespace ys {

std::string http_client_version() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return info != nullptr ? fmt::format("libcurl {}", info->version) : "libcurl";
}

response http_backend::generate(const request& req) {
  response out = exchange(req);
  // Some servers (llama.cpp's among them) ignore `n` and return one choice. The rest are asked
  // for again, with the seed moved on per draw so a seeded server does not repeat itself.
  const auto wanted = static_cast<std::size_t>(std::max(1, req.params.n));
  for (std::size_t round = 0; !out.failure && out.texts.size() < wanted && round < wanted;
       ++round) {
    request more = req;
    more.params.n = static_cast<int>(wanted - out.texts.size());
    if (more.params.seed) *more.params.seed += out.texts.size();
    response extra = exchange(more);
    out.attempts += extra.attempts;
    out.latency_s += extra.latency_s;
    out.usage += extra.usage;
    if (extra.failure) {
      out.failure = std::move(extra.failure);
      break;
    }
    out.texts.insert(out.texts.end(), extra.texts.begin(), extra.texts.end());
    out.finish_reasons.insert(out.finish_reasons.end(), extra.finish_reasons.begin(),
                              extra.finish_reasons.end());
  }
  if (out.texts.size() > wanted) out.texts.resize(wanted);
  if (out.finish_reasons.size() > wanted) out.finish_reasons.resize(wanted);
  return out;
}

}  // namespace ys
