#pragma once

#include "harness/backend.h"

namespace ys {

// Adds every built-in back end ("openai", "replay") to `backends`.
void register_backends(backend_registry& backends);

// Splits "SCHEME:REST" and creates the back end; throws input_error for an unknown scheme.
std::unique_ptr<model_backend> create_backend(const backend_registry& backends,
                                              const std::string& spec,
                                              const backend_options& options);

}  // namespace ys
