#include "adapters/register.h"

#include <fmt/format.h>

#include "adapters/gold.h"
#include "adapters/openai.h"
#include "adapters/replay.h"

namespace ys {

void register_backends(backend_registry& backends) {
  backends.add("gold", "the dataset's reference answers as outputs: gold", make_gold_backend);
  backends.add("openai", "OpenAI-compatible server: openai:BASE_URL#MODEL", make_openai_backend);
  backends.add("replay", "recorded generations: replay:FILE.jsonl", make_replay_backend);
}

std::unique_ptr<model_backend> create_backend(const backend_registry& backends,
                                              const std::string& spec,
                                              const backend_options& options) {
  if (spec == "gold") return backends.create("gold", "", options);
  const auto colon = spec.find(':');
  if (colon == std::string::npos) {
    throw input_error(
        fmt::format("model spec '{}' has no back end; expected SCHEME:TARGET such as "
                    "openai:http://127.0.0.1:8000/v1#MODEL or replay:FILE.jsonl",
                    spec));
  }
  return backends.create(spec.substr(0, colon), spec.substr(colon + 1), options);
}

}  // namespace ys
