#include "harness/runner.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace ys {

namespace {

bool stops_the_run(error_code code) {
  switch (code) {
    case error_code::unavailable:
    case error_code::unauthenticated:
    case error_code::deadline_exceeded:
    case error_code::invalid_argument:
    case error_code::rate_limited:
      return true;
    default:
      return false;
  }
}

sample_result evaluate_one(const task& evaluated, model_backend& backend, const sample& item) {
  sample_result result;
  result.id = item.id;
  result.gold = item.gold;
  try {
    const request req = evaluated.build_request(item);
    result.prompt_hash = req.content_hash();
    response reply = backend.generate(req);
    if (reply.failure) {
      result.failure = std::move(reply.failure);
      result.completions = std::move(reply.texts);
      result.attempts = reply.attempts;
      return result;
    }
    const std::string prompt_hash = result.prompt_hash;
    result = evaluated.score(item, reply);
    result.id = item.id;
    result.gold = item.gold;
    result.prompt_hash = prompt_hash;
    result.usage += reply.usage;  // the task may have spent tokens too (a judge model)
    result.latency_s = reply.latency_s;
    result.attempts = reply.attempts;
  } catch (const std::exception& e) {
    // A scorer or prompt bug must not lose the rest of the run; it is recorded as this sample's
    // failure and counted.
    result.metrics.clear();
    result.failure = error{error_code::internal, fmt::format("internal error: {}", e.what()), 0};
  }
  return result;
}

}  // namespace

run_outcome run_samples(const task& evaluated, model_backend& backend,
                        const std::vector<sample>& items, const runner_options& options,
                        progress_meter& progress, const result_callback& on_result) {
  std::vector<sample_result> results(items.size());
  std::vector<char> ran(items.size(), 0);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> halt{false};
  std::mutex state_mutex;  // guards the callback, the failure streak and the stop reason
  std::size_t failure_streak = 0;
  bool any_success = options.already_succeeded;
  std::string stopped_because;

  auto should_stop = [&] {
    return halt.load() || (options.stop_requested != nullptr && options.stop_requested->load());
  };
  auto worker = [&] {
    while (!should_stop()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= items.size()) break;
      results[i] = evaluate_one(evaluated, backend, items[i]);
      ran[i] = 1;
      {
        std::lock_guard lock(state_mutex);
        if (on_result) on_result(results[i]);
        if (results[i].failure && stops_the_run(results[i].failure->code)) {
          ++failure_streak;
        } else {
          any_success = true;
          failure_streak = 0;
        }
        if (!any_success && options.abort_after_failures > 0 &&
            failure_streak >= options.abort_after_failures && !halt.load()) {
          stopped_because = fmt::format(
              "the first {} samples all failed (last: {}: {}); stopped early", failure_streak,
              to_string(results[i].failure->code), results[i].failure->message);
          halt.store(true);
        }
      }
      progress.advance(results[i].failure.has_value());
    }
  };
  const auto workers = static_cast<std::size_t>(std::max(1, options.concurrency));
  std::vector<std::jthread> pool;
  pool.reserve(std::min(workers, items.size()));
  for (std::size_t w = 0; w < std::min(workers, items.size()); ++w)
    pool.emplace_back(worker);
  pool.clear();  // joins

  run_outcome outcome;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (ran[i]) outcome.results.push_back(std::move(results[i]));
  }
  if (stopped_because.empty() && outcome.results.size() < items.size()) {
    stopped_because = "interrupted";
  }
  outcome.stopped_because = std::move(stopped_because);
  return outcome;
}

}  // namespace ys
