// Runs one task against one back end: a bounded pool of workers sends requests, scores replies
// and streams each result to a callback as it completes.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "harness/backend.h"
#include "harness/progress.h"
#include "harness/task.h"

namespace ys {

struct runner_options {
  int concurrency = 8;  // requests in flight at once
};

// Called from worker threads, serialised by the runner (never two calls at once).
using result_callback = std::function<void(const sample_result&)>;

// Evaluates `items` in any order and returns their results in the order of `items`. A failed
// request or a scorer exception becomes a failed sample_result; nothing here throws for one bad
// sample. `task` and `backend` must be safe to call from several threads at once.
std::vector<sample_result> run_samples(const task& evaluated, model_backend& backend,
                                       const std::vector<sample>& items,
                                       const runner_options& options, progress_meter& progress,
                                       const result_callback& on_result);

}  // namespace ys
