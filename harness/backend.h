// The interface every model back end implements. The runner owns concurrency; a back end owns
// how one request is answered (HTTP with retries, a replay file, ...).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/types.h"

namespace ys {

class model_backend {
 public:
  virtual ~model_backend() = default;

  // Answers one request. Must be thread-safe: the runner calls it from `--concurrency` workers
  // at once. Expected failures are returned in `response::failure`, never thrown.
  virtual response generate(const request& req) = 0;

  // The model's identity for run.json. Never contains secrets (API keys, auth headers).
  virtual nlohmann::json describe() const = 0;

  // A default label for result tables when the user gives none (for example the model name).
  virtual std::string default_label() const = 0;

  // Warnings about the back end's coverage of a dataset, given every id in the dataset (not only
  // the selected ones). Replay uses it to report records that match no sample.
  virtual std::vector<std::string> coverage_warnings(const std::vector<std::string>& dataset_ids) {
    (void)dataset_ids;
    return {};
  }
};

}  // namespace ys

#include "harness/backend_options.h"
#include "harness/registry.h"

namespace ys {

// Back ends are registered by scheme ("openai", "replay"); the factory receives the text after
// "SCHEME:" in the model spec.
using backend_registry = registry<model_backend, const std::string&, const backend_options&>;

}  // namespace ys
