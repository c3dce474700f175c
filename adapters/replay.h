// Replay of recorded generations: `replay:FILE.jsonl`, one JSON object per line with `id` (or
// `query_id`; integer or string) and `completion` (string) or `completions` (array of strings)
// or `spans` (array of strings, a structured answer that tasks such as DROP score as given).
// Other fields are ignored, so published prediction files are read exactly as released.
#pragma once

#include <memory>
#include <string>

#include "harness/backend.h"

namespace ys {

// Loads the whole file at construction; throws input_error naming the file, line and field for a
// malformed record or a repeated id.
std::unique_ptr<model_backend> make_replay_backend(const std::string& path,
                                                   const backend_options& options);

}  // namespace ys
