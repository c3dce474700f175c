// Client throughput against the loopback fake server, in requests per wall-clock second:
//  - bm_openai_client: 64 threads calling the OpenAI back end's generate() in a loop;
//  - bm_run_pipeline: the whole `yardstick run --concurrency 64` path (GSM8K prompt, request
//    hash, HTTP, parsing, answer extraction, scoring) over the 1,319 GSM8K test questions.
// Both ends share the machine, so the figures are a floor for yardstick's overhead, not a
// model's serving speed.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "adapters/openai.h"
#include "bench/bench_report.h"
#include "harness/runner.h"
#include "tasks/gsm8k.h"
#include "tests/support/fake_openai_server.h"

namespace {

constexpr int kConcurrency = 64;
constexpr double kTargetPerSecond = 5000.0;

// Built in main() before any benchmark thread starts and torn down after they all finished.
ys::model_backend* g_backend = nullptr;

ys::request make_request(int thread) {
  ys::request req;
  req.source_id = fmt::format("bench-{}", thread);
  req.chat = true;
  req.messages = {{"system", "Answer with a number."},
                  {"user", fmt::format("Thread {} asks: what is 17 + 25?", thread)}};
  req.params.max_tokens = 32;
  return req;
}

void bm_openai_client(benchmark::State& state) {
  const ys::request req = make_request(state.thread_index());
  std::int64_t failures = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark's idiom
    ys::response r = g_backend->generate(req);
    if (r.failure) ++failures;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = benchmark::Counter(static_cast<double>(failures));
}
BENCHMARK(bm_openai_client)->Threads(kConcurrency)->UseRealTime()->MinTime(3.0);

void bm_run_pipeline(benchmark::State& state) {
  ys::task_options options;
  options.shots = 0;
  const auto task = ys::make_gsm8k_task(options);
  const auto items = task->load();
  std::size_t failures = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark's idiom
    ys::progress_meter quiet("bench", items.size(), false);
    ys::runner_options runner;
    runner.concurrency = kConcurrency;
    const auto results = ys::run_samples(*task, *g_backend, items, runner, quiet, {}).results;
    for (const auto& r : results)
      failures += r.failure ? 1 : 0;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(items.size()));
  state.counters["failures"] = benchmark::Counter(static_cast<double>(failures));
}
BENCHMARK(bm_run_pipeline)->UseRealTime()->MinTime(3.0)->Unit(benchmark::kMillisecond);

// Opens every thread's keep-alive connection before timing starts, so connection set-up is not
// charged to the first measured batch.
void warm_up(ys::model_backend& backend) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kConcurrency);
  for (int t = 0; t < kConcurrency; ++t) {
    threads.emplace_back([&backend, &failures, t] {
      if (backend.generate(make_request(t)).failure) failures.fetch_add(1);
    });
  }
  for (auto& th : threads)
    th.join();
  if (failures.load() > 0) std::fprintf(stderr, "warm-up: %d requests failed\n", failures.load());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const ys::test_support::fake_openai_server server;
  ys::backend_options options;
  options.timeout_s = 30.0;
  options.max_retries = 0;  // a retry would hide a failure inside the rate
  options.api_key_env = "YS_CLIENT_BENCH_NO_KEY";
  const std::unique_ptr<ys::model_backend> backend =
      ys::make_openai_backend(server.base_url() + "#bench-model", options);
  g_backend = backend.get();
  warm_up(*backend);

  ys::bench::rate_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  g_backend = nullptr;

  std::FILE* const out = reporter.text_stream();
  const std::string unit = fmt::format("requests/s at concurrency {}", kConcurrency);
  for (const auto& [name, rate] : reporter.per_second()) {
    const char* what = name == "bm_run_pipeline" ? "run pipeline" : "client";
    ys::bench::print_target_line(out,
                                 {.what = what,
                                  .unit = unit,
                                  .target = kTargetPerSecond,
                                  .after_target = " on 2 cores",
                                  .style = ys::bench::verdict_style::always},
                                 rate);
    if (const double failures = reporter.counter(name, "failures"); failures > 0) {
      fmt::print(out, "{}: {:.0f} requests failed during the run\n", what, failures);
    }
  }
  fmt::print(out, "(measured on {} hardware threads, server and client on the same machine)\n",
             std::thread::hardware_concurrency());
  return 0;
}
