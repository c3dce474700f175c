// Removing credentials from model specs and URLs before they reach a terminal or a file.
#pragma once

#include <string>

namespace ys {

// A URL query ("a=1&api_key=x") with the values of secret-looking keys (key, token, secret,
// password, auth, sig) replaced by REDACTED.
std::string redact_query(const std::string& query);

// The model spec with credentials removed: URL userinfo (user:pass@) and secret-looking query
// parameters. Safe to print and to write to run.json.
std::string redact_spec(const std::string& spec);

}  // namespace ys
