// The OpenAI-compatible back end against the loopback fake server: round trips, request fields,
// retries and fault mapping, and the handling of the API key.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/http_backend.h"
#include "adapters/openai.h"
#include "tests/support/fake_openai_server.h"

namespace ys {
namespace {

constexpr const char* kKeyVariable = "YS_OPENAI_BACKEND_TEST_KEY";
constexpr const char* kUnsetVariable = "YS_OPENAI_BACKEND_TEST_KEY_NEVER_SET";
constexpr const char* kChatPath = "/v1/chat/completions";
constexpr const char* kCompletionsPath = "/v1/completions";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (fd >= 0) ::close(fd);
  return ok ? ntohs(addr.sin_port) : -1;
}

request chat_request(const std::string& user_text) {
  request req;
  req.source_id = "s1";
  req.chat = true;
  req.messages = {{"system", "be brief"}, {"user", user_text}};
  req.params.max_tokens = 64;
  return req;
}

request completion_request(const std::string& prompt) {
  request req;
  req.source_id = "s1";
  req.chat = false;
  req.prompt = prompt;
  req.params.max_tokens = 64;
  return req;
}

class openai_backend_test : public ::testing::Test {
 protected:
  // The environment is only touched while no other thread runs.
  void SetUp() override { ::unsetenv(kKeyVariable); }     // NOLINT(concurrency-mt-unsafe)
  void TearDown() override { ::unsetenv(kKeyVariable); }  // NOLINT(concurrency-mt-unsafe)

  // Small delays keep the suite fast; the cap still lets a Retry-After of 1 s through.
  static backend_options fast_options() {
    backend_options options;
    options.timeout_s = 5.0;
    options.max_retries = 3;
    options.backoff_base_s = 0.01;
    options.backoff_max_s = 2.0;
    options.api_key_env = kUnsetVariable;
    return options;
  }

  std::unique_ptr<model_backend> backend(const backend_options& options = fast_options()) {
    return make_openai_backend(server_.base_url() + "#test-model", options);
  }

  test_support::fake_openai_server server_;
};

TEST_F(openai_backend_test, chat_round_trip) {
  const response r = backend()->generate(chat_request("hello world"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.texts, std::vector<std::string>{"echo: hello world"});
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"stop"});
  EXPECT_EQ(r.attempts, 1);
  EXPECT_GT(r.latency_s, 0.0);
  EXPECT_EQ(server_.requests(kChatPath), 1U);
  EXPECT_EQ(server_.requests(kCompletionsPath), 0U);

  const nlohmann::json body = server_.last_request_body();
  EXPECT_EQ(body.at("model"), "test-model");
  ASSERT_EQ(body.at("messages").size(), 2U);
  EXPECT_EQ(body.at("messages")[0].at("role"), "system");
  EXPECT_EQ(body.at("messages")[1].at("content"), "hello world");
  EXPECT_EQ(body.at("max_tokens"), 64);
  EXPECT_EQ(body.at("temperature"), 0.0);
  EXPECT_EQ(body.at("top_p"), 1.0);
  EXPECT_EQ(body.at("n"), 1);
  EXPECT_FALSE(body.contains("stop"));
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_FALSE(body.contains("prompt"));
}

TEST_F(openai_backend_test, completion_round_trip) {
  const response r = backend()->generate(completion_request("Q: 2+2?\nA:"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.texts, std::vector<std::string>{"echo: Q: 2+2?\nA:"});
  EXPECT_EQ(server_.requests(kCompletionsPath), 1U);
  EXPECT_EQ(server_.requests(kChatPath), 0U);
  const nlohmann::json body = server_.last_request_body();
  EXPECT_EQ(body.at("prompt"), "Q: 2+2?\nA:");
  EXPECT_FALSE(body.contains("messages"));
}

TEST_F(openai_backend_test, sends_at_most_four_stops_and_the_seed) {
  request req = completion_request("stops");
  req.params.stop = {"a", "b", "c", "d", "e", "f"};
  req.params.seed = 1234;
  req.params.temperature = 0.7;
  req.params.top_p = 0.9;
  const response r = backend()->generate(req);
  ASSERT_FALSE(r.failure) << r.failure->message;
  const nlohmann::json body = server_.last_request_body();
  EXPECT_EQ(body.at("stop"), nlohmann::json({"a", "b", "c", "d"}));
  EXPECT_EQ(body.at("seed"), 1234);
  EXPECT_EQ(body.at("temperature"), 0.7);
  EXPECT_EQ(body.at("top_p"), 0.9);
}

TEST_F(openai_backend_test, choices_are_ordered_by_index) {
  for (const bool chat : {true, false}) {
    request req = chat ? chat_request("many") : completion_request("many");
    req.params.n = 3;
    const response r = backend()->generate(req);
    ASSERT_FALSE(r.failure) << r.failure->message;
    EXPECT_EQ(r.texts,
              (std::vector<std::string>{"echo: many #0", "echo: many #1", "echo: many #2"}));
    EXPECT_EQ(r.finish_reasons.size(), 3U);
  }
}

TEST_F(openai_backend_test, usage_is_parsed) {
  const response r = backend()->generate(chat_request("one two three"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.usage.prompt_tokens, 5);      // "be brief" + "one two three"
  EXPECT_EQ(r.usage.completion_tokens, 4);  // "echo: one two three"
}

TEST(openai_backend, custom_reply_and_length_finish) {
  test_support::fake_openai_server server(
      [](const std::string&) { return std::string("alpha beta gamma delta"); });
  backend_options options;
  options.api_key_env = kUnsetVariable;
  auto b = make_openai_backend(server.base_url() + "#m", options);
  request req = completion_request("anything");
  req.params.max_tokens = 2;
  response r = b->generate(req);
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.texts, std::vector<std::string>{"alpha beta"});
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"length"});

  req.params.max_tokens = 64;
  req.params.stop = {" gamma"};
  r = b->generate(req);
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.texts, std::vector<std::string>{"alpha beta"});
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"stop"});
}

TEST_F(openai_backend_test, rate_limit_honours_retry_after) {
  const auto start = std::chrono::steady_clock::now();
  const response r = backend()->generate(chat_request("[[fail:429]] busy"));
  const double elapsed = seconds_since(start);
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(server_.requests(kChatPath), 2U);
  // Retry-After: 1 replaces the 10 ms computed backoff.
  EXPECT_GE(elapsed, 0.95);
  EXPECT_LT(r.latency_s, 0.9);  // only the successful attempt is timed
}

TEST_F(openai_backend_test, rate_limit_exhausts_retries) {
  backend_options options = fast_options();
  options.max_retries = 2;
  const response r =
      backend(options)->generate(chat_request("[[fail-always:429]][[retry-after:0]] busy"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::rate_limited);
  EXPECT_EQ(r.failure->http_status, 429);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_NE(r.failure->message.find("Rate limit reached"), std::string::npos);
  EXPECT_TRUE(r.texts.empty());
}

TEST_F(openai_backend_test, server_error_is_retried) {
  const response r = backend()->generate(completion_request("[[fail:500]] flaky"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.texts, std::vector<std::string>{"echo: [[fail:500]] flaky"});
}

TEST_F(openai_backend_test, five_hundreds_map_to_codes) {
  auto b = backend();
  response r = b->generate(chat_request("[[fail-always:500]] down"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::server_error);
  EXPECT_EQ(r.attempts, 4);

  r = b->generate(chat_request("[[fail-always:503]][[retry-after:0]] down"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::unavailable);
  EXPECT_EQ(r.attempts, 4);

  r = b->generate(chat_request("[[fail:502]] blip"));
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.attempts, 2);

  r = b->generate(chat_request("[[fail-always:501]] never"));  // not worth repeating
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::server_error);
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(openai_backend_test, slow_reply_times_out_then_succeeds) {
  backend_options options = fast_options();
  options.timeout_s = 0.5;
  const response r = backend(options)->generate(chat_request("[[slow:2.0]] take your time"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_LT(r.latency_s, 0.5);
}

TEST_F(openai_backend_test, always_slow_is_deadline_exceeded) {
  backend_options options = fast_options();
  options.timeout_s = 0.2;
  options.max_retries = 1;
  const response r = backend(options)->generate(chat_request("[[slow-always:1.0]] stuck"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::deadline_exceeded);
  EXPECT_EQ(r.failure->http_status, 0);
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(openai_backend_test, malformed_body_after_retries) {
  backend_options options = fast_options();
  options.max_retries = 2;
  const response r = backend(options)->generate(chat_request("[[malformed]] garbage"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::malformed_response);
  EXPECT_EQ(r.failure->http_status, 200);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(server_.requests(kChatPath), 3U);
}

TEST_F(openai_backend_test, bad_request_fails_at_once_with_the_server_message) {
  const response r = backend()->generate(chat_request("[[fail:400]] wrong"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::invalid_argument);
  EXPECT_EQ(r.failure->http_status, 400);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server_.requests(kChatPath), 1U);
  EXPECT_NE(r.failure->message.find("fake server: injected HTTP 400"), std::string::npos)
      << r.failure->message;
  EXPECT_EQ(r.failure->message.find("{\"error\""), std::string::npos) << "JSON not unwrapped";
}

TEST_F(openai_backend_test, client_errors_are_not_retried) {
  auto b = backend();
  response r = b->generate(chat_request("[[fail:422]] x"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::invalid_argument);
  EXPECT_EQ(r.attempts, 1);

  r = b->generate(chat_request("[[fail:403]] x"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::unauthenticated);
  EXPECT_EQ(r.attempts, 1);

  auto wrong_path =
      make_openai_backend(fmt::format("http://127.0.0.1:{}/v2#m", server_.port()), fast_options());
  r = wrong_path->generate(chat_request("hello"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::invalid_argument);
  EXPECT_EQ(r.failure->http_status, 404);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.failure->message.find("no route"), std::string::npos) << r.failure->message;
  EXPECT_EQ(server_.requests("/v2/chat/completions"), 1U);
}

TEST_F(openai_backend_test, unauthenticated_never_leaks_the_key) {
  const std::string key = "sk-test-0123456789abcdef";
  ::setenv(kKeyVariable, key.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  backend_options options = fast_options();
  options.api_key_env = kKeyVariable;
  const response r = backend(options)->generate(chat_request("[[fail:401]] who"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::unauthenticated);
  EXPECT_EQ(r.failure->http_status, 401);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.failure->message.find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(r.failure->message.find(key), std::string::npos) << r.failure->message;
  EXPECT_EQ(r.failure->message.find("0123456789"), std::string::npos) << r.failure->message;
}

TEST_F(openai_backend_test, connection_refused_is_unavailable) {
  backend_options options = fast_options();
  options.max_retries = 2;
  const int port = closed_port();
  ASSERT_GT(port, 0);
  auto b = make_openai_backend(fmt::format("http://127.0.0.1:{}/v1#m", port), options);
  const response r = b->generate(chat_request("anyone?"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::unavailable);
  EXPECT_EQ(r.failure->http_status, 0);
  EXPECT_EQ(r.attempts, 3);
}

TEST_F(openai_backend_test, api_key_is_sent_as_bearer_and_never_described) {
  const std::string key = "sk-test-secret-key-42";
  ::setenv(kKeyVariable, key.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  backend_options options = fast_options();
  options.api_key_env = kKeyVariable;
  auto b = backend(options);
  ::unsetenv(kKeyVariable);  // NOLINT(concurrency-mt-unsafe): the key is read at construction
  const response r = b->generate(chat_request("hi"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(server_.last_authorization(), "Bearer " + key);

  const nlohmann::json d = b->describe();
  EXPECT_EQ(d.dump().find(key), std::string::npos);
  EXPECT_EQ(d.at("api_key_env"), kKeyVariable);
  EXPECT_EQ(d.at("api_key_set"), true);
  EXPECT_EQ(d.at("backend"), "openai");
  EXPECT_EQ(d.at("model"), "test-model");
  EXPECT_EQ(d.at("base_url"), server_.base_url());
  EXPECT_EQ(b->default_label(), "test-model");
}

TEST_F(openai_backend_test, no_key_no_authorization_header) {
  auto b = backend();
  const response r = b->generate(chat_request("hi"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(server_.last_authorization(), "");
  EXPECT_EQ(b->describe().at("api_key_set"), false);
}

TEST_F(openai_backend_test, base_url_userinfo_and_trailing_slash) {
  const std::string spec =
      fmt::format("http://alice:hunter2pw@127.0.0.1:{}/v1/#org/model-x", server_.port());
  auto b = make_openai_backend(spec, fast_options());
  const nlohmann::json d = b->describe();
  EXPECT_EQ(d.at("base_url"), server_.base_url());
  EXPECT_EQ(d.at("model"), "org/model-x");
  EXPECT_EQ(d.dump().find("hunter2pw"), std::string::npos);
  EXPECT_EQ(b->default_label(), "org/model-x");
  const response r = b->generate(chat_request("hi"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(server_.requests(kChatPath), 1U);
}

TEST(openai_backend, bad_specs_throw_input_error) {
  const backend_options options;
  for (const std::string spec :
       {"http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1#", "ftp://127.0.0.1/v1#m",
        "127.0.0.1:8000/v1#m", "http://#m", "http:///v1#m", "http://u:p@/v1#m", "#m", "",
        "http://127.0.0.1:8000/v 1#m"}) {
    EXPECT_THROW(make_openai_backend(spec, options), input_error) << spec;
  }
  try {
    make_openai_backend("http://bob:s3cr3tpw@127.0.0.1:8000/v1", options);
    FAIL() << "no exception";
  } catch (const input_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("#MODEL"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cr3tpw"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(make_openai_backend("HTTPS://api.example.com/v1#gpt", options));
  try {
    make_openai_backend("ftp://h/v1?api_key=QSECRET77&v=1#m", options);
    FAIL() << "no exception";
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()).find("QSECRET77"), std::string::npos) << e.what();
  }
}

TEST_F(openai_backend_test, query_in_base_url_is_kept_on_every_endpoint_and_redacted) {
  auto b = make_openai_backend(server_.base_url() + "?api-version=2024-06-01&api_key=QSECRET77#m",
                               fast_options());
  const response r = b->generate(chat_request("hi"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(server_.requests(kChatPath), 1U);
  const std::string shown = b->describe().dump();
  EXPECT_NE(shown.find("api-version=2024-06-01"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("QSECRET77"), std::string::npos) << shown;
}

TEST_F(openai_backend_test, concurrent_callers_share_the_back_end) {
  auto b = backend();
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string text = fmt::format("t{} i{}", t, i);
        const response r = b->generate(t % 2 == 0 ? chat_request(text) : completion_request(text));
        if (r.failure || r.texts != std::vector<std::string>{"echo: " + text}) ++failures[t];
      }
    });
  }
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(server_.total_requests(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(http_backend_detail, parse_retry_after) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(detail::parse_retry_after("3", now), 3.0);
  EXPECT_EQ(detail::parse_retry_after(" 2 ", now), 2.0);
  EXPECT_EQ(detail::parse_retry_after("1.5", now), 1.5);
  EXPECT_FALSE(detail::parse_retry_after("soon", now));
  EXPECT_FALSE(detail::parse_retry_after("-1", now));
  EXPECT_FALSE(detail::parse_retry_after("", now));
  EXPECT_EQ(detail::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), 0.0);

  const std::time_t later = std::chrono::system_clock::to_time_t(now) + 120;
  std::tm utc{};
  ::gmtime_r(&later, &utc);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  const auto wait = detail::parse_retry_after(date, now);
  ASSERT_TRUE(wait) << date;
  EXPECT_NEAR(*wait, 120.0, 1.0);
}

TEST(http_backend_detail, backoff_delay_doubles_with_full_jitter_and_a_cap) {
  EXPECT_DOUBLE_EQ(detail::backoff_delay(1, 1.0, 60.0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(2, 1.0, 60.0, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(3, 1.0, 60.0, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(3, 1.0, 60.0, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(10, 1.0, 60.0, 1.0), 60.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(5000, 1.0, 60.0, 1.0), 60.0);
  EXPECT_DOUBLE_EQ(detail::backoff_delay(4, 1.0, 60.0, 0.0), 0.0);
}

TEST(http_backend_detail, truncate_utf8_keeps_characters_whole) {
  EXPECT_EQ(detail::truncate_utf8("short", 10), "short");
  EXPECT_EQ(detail::truncate_utf8("abcdef", 3), "abc...");
  // "é" is two bytes; a cut through it drops the whole character.
  EXPECT_EQ(detail::truncate_utf8("a\xC3\xA9z", 2), "a...");
}

}  // namespace
}  // namespace ys

namespace ys {
namespace {

TEST(openai_backend_topup, server_that_ignores_n_is_asked_again_with_new_seeds) {
  test_support::fake_openai_server server;
  backend_options options;
  options.api_key_env = "YS_OPENAI_BACKEND_TEST_KEY_NEVER_SET";
  auto backend = make_openai_backend(server.base_url() + "#m", options);
  request req;
  req.source_id = "s";
  req.messages = {{"user", "[[one-choice]] pick"}};
  req.params.n = 3;
  req.params.seed = 10;
  const response r = backend->generate(req);
  ASSERT_FALSE(r.failure) << r.failure->message;
  ASSERT_EQ(r.texts.size(), 3U);
  EXPECT_EQ(r.texts[0], "echo: [[one-choice]] pick seed=10");
  EXPECT_EQ(r.texts[1], "echo: [[one-choice]] pick seed=11");
  EXPECT_EQ(r.texts[2], "echo: [[one-choice]] pick seed=12");
  EXPECT_EQ(r.finish_reasons.size(), 3U);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(server.total_requests(), 3U);
}

}  // namespace
}  // namespace ys
