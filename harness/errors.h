// Error values for expected failures (a model call, a malformed record) and the one exception
// type for unusable start-up input. A failing sample carries an `error`; the run goes on.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ys {

// A fixed set of codes so that results from different back ends aggregate and compare.
enum class error_code {
  invalid_argument,    // the request itself is wrong (HTTP 400, 404, 422)
  unauthenticated,     // HTTP 401, 403
  rate_limited,        // HTTP 429 after the retries ran out
  deadline_exceeded,   // the per-request timeout fired on every attempt
  unavailable,         // connection refused, HTTP 502/503/504, transport errors
  server_error,        // HTTP 500 and other 5xx after the retries ran out
  malformed_response,  // the server answered 2xx with a body we cannot read
  not_found,           // a replay file has no record for this sample
  internal,            // a bug in yardstick: never expected
};

std::string_view to_string(error_code code);

struct error {
  error_code code = error_code::internal;
  std::string message;
  int http_status = 0;  // 0 when no HTTP exchange produced the error
};

// Thrown for input that makes a run impossible (bad options, unreadable or malformed dataset).
// The CLI maps it to exit code 2. `what()` names the file, the line and the field when known.
class input_error : public std::runtime_error {
 public:
  explicit input_error(const std::string& message) : std::runtime_error(message) {}
  input_error(std::string_view file, std::size_t line, std::string_view field,
              std::string_view problem);
};

}  // namespace ys
