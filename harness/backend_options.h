#pragma once

#include <string>

namespace ys {

// Command-line settings that every back end factory receives; each uses what applies to it.
struct backend_options {
  double timeout_s = 300.0;     // per HTTP attempt
  int max_retries = 6;          // retries after the first attempt, for retryable failures only
  double backoff_base_s = 1.0;  // first retry delay; doubles each retry, with full jitter
  double backoff_max_s = 60.0;
  std::string api_key_env = "OPENAI_API_KEY";  // the *name* of the variable, never the key
};

}  // namespace ys
