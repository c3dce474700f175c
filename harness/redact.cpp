#include "harness/redact.h"

#include <algorithm>
#include <cctype>

namespace ys {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string redact_query(const std::string& query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    const std::string key = lower(pair.substr(0, pair.find('=')));
    for (const char* secret : {"key", "token", "secret", "password", "auth", "sig"}) {
      if (key.find(secret) != std::string::npos) {
        pair = pair.substr(0, pair.find('=')) + "=REDACTED";
        break;
      }
    }
    out += (out.empty() ? "" : "&") + pair;
    start = end + 1;
  }
  return out;
}

std::string redact_spec(const std::string& spec) {
  std::string out = spec;
  // userinfo: scheme://user:pass@host -> scheme://host
  if (const auto scheme_end = out.find("://"); scheme_end != std::string::npos) {
    const auto host_start = scheme_end + 3;
    const auto host_end = out.find_first_of("/#?", host_start);
    const auto at = out.rfind('@', host_end == std::string::npos ? out.size() : host_end);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  }
  if (const auto query = out.find('?'); query != std::string::npos) {
    const auto fragment = out.find('#', query);
    const auto end = fragment == std::string::npos ? out.size() : fragment;
    out = out.substr(0, query + 1) + redact_query(out.substr(query + 1, end - query - 1)) +
          out.substr(end);
  }
  return out;
}

}  // namespace ys
