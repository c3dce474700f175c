// Paired bootstrap at the size a report uses: 10,000 resamples of GSM8K's 1,319 test items, on one
// core. A comparison table bootstraps every pair of runs, so this must stay well under 100 ms.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdint>
#include <random>
#include <vector>

#include "bench/bench_report.h"
#include "scorers/paired_stats.h"

namespace {

constexpr int kItems = 1319;
constexpr int kResamples = 10000;
constexpr double kTargetMilliseconds = 100.0;
constexpr const char* kBootstrapBenchmark = "BM_paired_bootstrap";

struct paired_scores {
  std::vector<double> a;
  std::vector<double> b;
};

// Two 0/1 runs near GSM8K accuracies (~0.60 and ~0.68) that agree on most items, as two checkpoints
// of one model do. Fixed seed: every run times the same data.
const paired_scores& scores() {
  static const paired_scores data = [] {
    paired_scores s;
    std::mt19937_64 engine(20240601);
    for (int i = 0; i < kItems; ++i) {
      const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
      s.a.push_back(u < 0.60 ? 1.0 : 0.0);
      s.b.push_back(u < 0.55 || (u >= 0.60 && u < 0.73) ? 1.0 : 0.0);
    }
    return s;
  }();
  return data;
}

void BM_paired_bootstrap(benchmark::State& state) {
  const paired_scores& s = scores();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    auto result = ys::stats::paired_bootstrap(s.a, s.b, kResamples, 1234);
    benchmark::DoNotOptimize(result);
  }
  // One "item" is one resample, so the reporter's rate converts straight to time per bootstrap.
  state.SetItemsProcessed(state.iterations() * kResamples);
}
BENCHMARK(BM_paired_bootstrap)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ys::bench::rate_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  // The target is a time, not a rate, so bench_report.h's "(target >= rate)" line does not fit;
  // the reporter's rate (which honours --benchmark_repetitions medians) still gives the figure.
  if (const auto rate = reporter.per_second(kBootstrapBenchmark)) {
    const double milliseconds = 1000.0 * kResamples / *rate;
    fmt::print(reporter.text_stream(),
               "paired bootstrap: {:.1f} ms for {} resamples of {} items (target < {:.0f} ms){}\n",
               milliseconds, ys::bench::with_thousands_separators(kResamples),
               ys::bench::with_thousands_separators(kItems), kTargetMilliseconds,
               milliseconds < kTargetMilliseconds ? "" : " ABOVE TARGET");
  }
  return 0;
}
