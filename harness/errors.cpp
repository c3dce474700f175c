#include "harness/errors.h"

#include <fmt/format.h>

namespace ys {

std::string_view to_string(error_code code) {
  switch (code) {
    case error_code::invalid_argument:
      return "invalid_argument";
    case error_code::unauthenticated:
      return "unauthenticated";
    case error_code::rate_limited:
      return "rate_limited";
    case error_code::deadline_exceeded:
      return "deadline_exceeded";
    case error_code::unavailable:
      return "unavailable";
    case error_code::server_error:
      return "server_error";
    case error_code::malformed_response:
      return "malformed_response";
    case error_code::not_found:
      return "not_found";
    case error_code::internal:
      return "internal";
  }
  return "internal";
}

static std::string locate(std::string_view file, std::size_t line, std::string_view field,
                          std::string_view problem) {
  std::string where(file);
  if (line > 0) where += fmt::format(":{}", line);
  if (!field.empty()) where += fmt::format(": field '{}'", field);
  return fmt::format("{}: {}", where, problem);
}

input_error::input_error(std::string_view file, std::size_t line, std::string_view field,
                         std::string_view problem)
    : std::runtime_error(locate(file, line, field, problem)) {}

}  // namespace ys
