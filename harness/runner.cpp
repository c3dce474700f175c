#include "harness/runner.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace ys {

namespace {

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
    result.usage = reply.usage;
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

std::vector<sample_result> run_samples(const task& evaluated, model_backend& backend,
                                       const std::vector<sample>& items,
                                       const runner_options& options, progress_meter& progress,
                                       const result_callback& on_result) {
  std::vector<sample_result> results(items.size());
  std::atomic<std::size_t> next{0};
  std::mutex callback_mutex;
  auto worker = [&] {
    for (std::size_t i = next.fetch_add(1); i < items.size(); i = next.fetch_add(1)) {
      results[i] = evaluate_one(evaluated, backend, items[i]);
      {
        std::lock_guard lock(callback_mutex);
        if (on_result) on_result(results[i]);
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
  return results;
}

}  // namespace ys
