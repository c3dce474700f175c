// Runs one task against one back end: a bounded pool of workers sends requests, scores replies
// and streams each result to a callback as it completes.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "harness/backend.h"
#include "harness/progress.h"
#include "harness/task.h"

namespace ys {

struct runner_options {
  int concurrency = 8;  // requests in flight at once
  // Stop dispatching after this many failed samples in a row with no success yet: a wrong port
  // or a bad key should not take hours to report. 0 never stops. Only failures that speak of the
  // set-up count (unreachable, refused, unauthenticated, timed out); a replay file without a
  // record for some samples is not a reason to stop.
  std::size_t abort_after_failures = 0;
  // Successes already in hand (a resumed run): the back end is known to work.
  bool already_succeeded = false;
  // Set from elsewhere (a signal handler) to stop dispatching; samples in flight still finish.
  const std::atomic<bool>* stop_requested = nullptr;
};

// Called from worker threads, serialised by the runner (never two calls at once).
using result_callback = std::function<void(const sample_result&)>;

struct run_outcome {
  std::vector<sample_result> results;  // the samples that ran, in the order of the input
  std::string stopped_because;         // empty when every sample ran
};

// Evaluates `items` and returns their results in the order of `items`. A failed request or a
// scorer exception becomes a failed sample_result; nothing here throws for one bad sample.
// `task` and `backend` must be safe to call from several threads at once.
run_outcome run_samples(const task& evaluated, model_backend& backend,
                        const std::vector<sample>& items, const runner_options& options,
                        progress_meter& progress, const result_callback& on_result);

}  // namespace ys
