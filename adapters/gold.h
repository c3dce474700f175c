// The `gold` back end: answers every request with the dataset's own reference answer
// (request::reference), so a dataset's references are scored as if a model had written them.
#pragma once

#include <memory>
#include <string>

#include "harness/backend.h"

namespace ys {

std::unique_ptr<model_backend> make_gold_backend(const std::string& target,
                                                 const backend_options& options);

}  // namespace ys
