#include "tests/support/fake_openai_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace ys::test_support {

namespace {

constexpr std::string_view kChatPath = "/v1/chat/completions";
constexpr std::string_view kCompletionsPath = "/v1/completions";
// cpp-httplib listens with a backlog of 5; 64 clients connecting at once would overflow it and
// wait a second for SYN retransmission, so the listening socket is given a deeper queue.
constexpr int kListenBacklog = 1024;
constexpr int kMaxChoices = 128;

struct directives {
  std::optional<int> fail_status;
  bool fail_always = false;
  std::optional<double> slow_s;
  bool slow_always = false;
  bool malformed = false;
  std::optional<std::string> retry_after = "1";
};

bool retryable_status(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

std::optional<double> to_number(std::string_view s) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

directives parse_directives(std::string_view text) {
  directives d;
  for (std::size_t open = text.find("[["); open != std::string_view::npos;
       open = text.find("[[", open + 2)) {
    const std::size_t close = text.find("]]", open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view token = text.substr(open + 2, close - open - 2);
    const std::size_t colon = token.find(':');
    const std::string_view name = token.substr(0, colon);
    const std::string_view arg =
        colon == std::string_view::npos ? std::string_view() : token.substr(colon + 1);
    if (name == "fail" || name == "fail-always") {
      if (const auto status = to_number(arg)) {
        d.fail_status = static_cast<int>(*status);
        d.fail_always = name == "fail-always" || !retryable_status(*d.fail_status);
      }
    } else if (name == "slow" || name == "slow-always") {
      d.slow_s = to_number(arg);
      d.slow_always = name == "slow-always";
    } else if (name == "malformed") {
      d.malformed = true;
    } else if (name == "retry-after") {
      d.retry_after = arg == "none" ? std::nullopt : std::optional<std::string>(arg);
    }
  }
  return d;
}

std::int64_t count_words(std::string_view text) {
  std::int64_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// Cuts `text` after `limit` words; true when it was longer.
bool cut_to_words(std::string& text, std::int64_t limit) {
  std::int64_t words = 0;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word && ++words > limit) {
      text.resize(i);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
        text.pop_back();
      return true;
    }
    in_word = !space;
  }
  return false;
}

void send_error(httplib::Response& res, int status, const std::string& message,
                std::string_view type) {
  res.status = status;
  const nlohmann::json body{{"error", {{"message", message}, {"type", type}, {"code", status}}}};
  res.set_content(body.dump(), "application/json");
}

}  // namespace

struct fake_openai_server::impl {
  reply_function reply;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  std::atomic<std::size_t> chat_requests{0};
  std::atomic<std::size_t> completion_requests{0};
  std::atomic<std::size_t> other_requests{0};

  mutable std::mutex mutex;  // guards everything below
  std::map<std::string, std::size_t, std::less<>> other_paths;
  std::condition_variable stopping_cv;
  bool stopping = false;
  std::string last_authorization;
  std::string last_body;
  std::unordered_set<std::string> failed_once;  // texts that already had their one failure
  std::unordered_set<std::string> slowed_once;

  impl(reply_function fn, int threads) : reply(std::move(fn)) {
    if (!reply) reply = [](const std::string& text) { return "echo: " + text; };
    const auto pool_size = static_cast<std::size_t>(std::max(1, threads));
    server.new_task_queue = [pool_size] { return new httplib::ThreadPool(pool_size); };
    // A connection is closed only when the client goes away, as with a real inference server.
    server.set_keep_alive_max_count(1'000'000'000);
    server.set_keep_alive_timeout(5);
    // Headers and body go out in separate writes; Nagle would hold the second one back.
    server.set_tcp_nodelay(true);
    int listen_socket = -1;
    server.set_socket_options([&listen_socket](socket_t sock) {
      httplib::default_socket_options(sock);
      listen_socket = sock;
    });
    server.Post(std::string(kChatPath),
                [this](const httplib::Request& req, httplib::Response& res) {
                  chat_requests.fetch_add(1, std::memory_order_relaxed);
                  answer(req, res, true);
                });
    server.Post(std::string(kCompletionsPath),
                [this](const httplib::Request& req, httplib::Response& res) {
                  completion_requests.fetch_add(1, std::memory_order_relaxed);
                  answer(req, res, false);
                });
    server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      other_requests.fetch_add(1, std::memory_order_relaxed);
      record(req);
      {
        const std::lock_guard lock(mutex);
        ++other_paths[req.path];
      }
      send_error(res, 404, fmt::format("fake server: no route for POST {}", req.path),
                 "invalid_request_error");
    });

    port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) throw std::runtime_error("fake_openai_server: cannot bind 127.0.0.1");
    if (listen_socket >= 0) ::listen(listen_socket, kListenBacklog);
    thread = std::thread([this] { server.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it before anyone may stop us.
    for (int i = 0; i < 5000 && !server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~impl() {
    {
      const std::lock_guard lock(mutex);
      stopping = true;
    }
    stopping_cv.notify_all();
    for (int i = 0; i < 5000 && !server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server.stop();
    if (thread.joinable()) thread.join();
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  void record(const httplib::Request& req) {
    std::string authorization = req.get_header_value("Authorization");
    const std::lock_guard lock(mutex);
    last_authorization = std::move(authorization);
    last_body = req.body;
  }

  // Returns true when the directives produced the whole answer.
  bool apply(const std::string& text, const httplib::Request& req, httplib::Response& res) {
    const directives d = parse_directives(text);
    if (d.slow_s && *d.slow_s > 0.0) {
      std::unique_lock lock(mutex);
      if (d.slow_always || slowed_once.insert(text).second) {
        stopping_cv.wait_for(lock, std::chrono::duration<double>(*d.slow_s),
                             [this] { return stopping; });
      }
    }
    if (d.malformed) {
      res.status = 200;
      res.set_content("this is not JSON {", "application/json");
      return true;
    }
    if (!d.fail_status) return false;
    {
      const std::lock_guard lock(mutex);
      if (!d.fail_always && !failed_once.insert(text).second) return false;
    }
    const int status = *d.fail_status;
    if ((status == 429 || status == 503) && d.retry_after) {
      res.set_header("Retry-After", *d.retry_after);
    }
    if (status == 401) {
      const std::string authorization = req.get_header_value("Authorization");
      const std::string token =
          authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : authorization;
      send_error(res, status,
                 token.empty() ? std::string("You didn't provide an API key.")
                               : "Incorrect API key provided: " + token,
                 "invalid_request_error");
    } else if (status == 429) {
      send_error(res, status, "Rate limit reached (fake server)", "rate_limit_exceeded");
    } else {
      send_error(res, status, fmt::format("fake server: injected HTTP {}", status),
                 status >= 500 ? "server_error" : "invalid_request_error");
    }
    return true;
  }

  void answer(const httplib::Request& req, httplib::Response& res, bool chat) {
    record(req);
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      send_error(res, 400, "fake server: the body is not a JSON object", "invalid_request_error");
      return;
    }
    std::string text;
    std::int64_t prompt_tokens = 0;
    if (chat) {
      const auto messages = body.find("messages");
      if (messages == body.end() || !messages->is_array()) {
        send_error(res, 400, "fake server: 'messages' is required", "invalid_request_error");
        return;
      }
      for (const auto& m : *messages) {
        const std::string content = m.value("content", "");
        prompt_tokens += count_words(content);
        if (m.value("role", "") == "user") text = content;
      }
    } else {
      const auto prompt = body.find("prompt");
      if (prompt == body.end() || !prompt->is_string()) {
        send_error(res, 400, "fake server: 'prompt' must be a string", "invalid_request_error");
        return;
      }
      text = prompt->get<std::string>();
      prompt_tokens = count_words(text);
    }
    if (text.find("[[") != std::string::npos && apply(text, req, res)) return;

    // [[one-choice]] plays a server that ignores `n` (as llama.cpp's does), naming the seed it got.
    const bool one_choice = text.find("[[one-choice]]") != std::string::npos;
    const int n = one_choice ? 1 : std::clamp(body.value("n", 1), 1, kMaxChoices);
    const std::int64_t max_tokens = body.value("max_tokens", std::int64_t{1} << 30);
    std::vector<std::string> stops;
    if (const auto stop = body.find("stop"); stop != body.end()) {
      if (stop->is_string()) stops.push_back(stop->get<std::string>());
      if (stop->is_array()) {
        for (const auto& s : *stop) {
          if (s.is_string()) stops.push_back(s.get<std::string>());
        }
      }
    }
    std::string base = reply(text);
    if (one_choice) base += fmt::format(" seed={}", body.value("seed", -1));
    nlohmann::json choices = nlohmann::json::array();
    std::int64_t completion_tokens = 0;
    for (int i = n - 1; i >= 0; --i) {
      std::string out = n == 1 ? base : fmt::format("{} #{}", base, i);
      for (const auto& s : stops) {
        if (const std::size_t at = out.find(s); !s.empty() && at != std::string::npos) {
          out.resize(at);
        }
      }
      const bool cut = cut_to_words(out, max_tokens);
      completion_tokens += count_words(out);
      nlohmann::json choice{{"index", i}, {"finish_reason", cut ? "length" : "stop"}};
      if (chat) {
        choice["message"] = {{"role", "assistant"}, {"content", std::move(out)}};
      } else {
        choice["text"] = std::move(out);
      }
      choices.push_back(std::move(choice));
    }
    const nlohmann::json reply_body{{"id", "fake-1"},
                                    {"object", chat ? "chat.completion" : "text_completion"},
                                    {"model", body.value("model", "")},
                                    {"choices", std::move(choices)},
                                    {"usage",
                                     {{"prompt_tokens", prompt_tokens},
                                      {"completion_tokens", completion_tokens},
                                      {"total_tokens", prompt_tokens + completion_tokens}}}};
    res.set_content(reply_body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  }
};

fake_openai_server::fake_openai_server(reply_function reply, int threads)
    : impl_(std::make_unique<impl>(std::move(reply), threads)) {}

fake_openai_server::~fake_openai_server() = default;

int fake_openai_server::port() const {
  return impl_->port;
}

std::string fake_openai_server::base_url() const {
  return fmt::format("http://127.0.0.1:{}/v1", impl_->port);
}

std::size_t fake_openai_server::requests(std::string_view path) const {
  if (path == kChatPath) return impl_->chat_requests.load();
  if (path == kCompletionsPath) return impl_->completion_requests.load();
  const std::lock_guard lock(impl_->mutex);
  const auto it = impl_->other_paths.find(path);
  return it == impl_->other_paths.end() ? 0 : it->second;
}

std::size_t fake_openai_server::total_requests() const {
  return impl_->chat_requests.load() + impl_->completion_requests.load() +
         impl_->other_requests.load();
}

std::string fake_openai_server::last_authorization() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->last_authorization;
}

nlohmann::json fake_openai_server::last_request_body() const {
  std::string body;
  {
    const std::lock_guard lock(impl_->mutex);
    body = impl_->last_body;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace ys::test_support
