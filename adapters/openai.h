// OpenAI-compatible back end: vLLM, llama.cpp's server, Ollama, TGI, SGLang and remote
// OpenAI-style APIs. Spec: `openai:BASE_URL#MODEL`, e.g. `openai:http://127.0.0.1:8000/v1#llama`.
#pragma once

#include <memory>
#include <string>

#include "harness/backend.h"

namespace ys {

// `target` is the spec without its "openai:" scheme. Throws input_error on a malformed spec.
// request::chat selects POST {BASE_URL}/chat/completions, else {BASE_URL}/completions.
std::unique_ptr<model_backend> make_openai_backend(const std::string& target,
                                                   const backend_options& options);

}  // namespace ys
