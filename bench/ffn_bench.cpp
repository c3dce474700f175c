// Dense vs mixture-of-experts FFN layers on this CPU (Eigen, OpenMP), from 1 to 4096 tokens.
//
// The MoE layer is Mixtral's design scaled down to fit two cores: 8 experts of width 1024, top-2,
// d_model 1024. Beside it, two dense SwiGLU layers: the one with the same weights (width 8192,
// "dense") and the one with the same active FLOPs per token (width 2048, "iso-active"). A square
// GEMM in the same run measures this machine's single-precision peak.
//
// Times are wall-clock (UseRealTime): the kernels are threaded, so CPU time would overcount.
// Counters: FLOPs and bytes of one pass (ffn.h's conventions), FLOP/s (shown with an SI prefix:
// "200.7G/s") and time/token (wall-clock time per token: "393.8us").
// Targets, printed after the table:
//   - from 512 tokens, the dense layer reaches >= 70% of the square GEMM's rate;
//   - from 1024 tokens, time(MoE) / time(dense) <= 1.25 x FLOPs(MoE) / FLOPs(dense).
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "profiler/ffn.h"
#include "profiler/ffn_cpu.h"

namespace {

using ys::profiler::dense_ffn_shape;
using ys::profiler::moe_ffn_shape;
namespace cpu = ys::profiler::cpu;

constexpr moe_ffn_shape kMoe{1024, 1024, 8, 2};
constexpr std::int64_t kSquareGemm = 3072;
// Each timed iteration reports the best of this many GEMMs: the peak is what the machine can
// do, so a pass slowed by a timer interrupt or a neighbour should not lower it.
constexpr int kPeakTries = 3;
constexpr std::int64_t kMaxTokens = 4096;
constexpr double kPeakFractionTarget = 0.70;
constexpr std::int64_t kPeakTargetFromTokens = 512;
constexpr double kRatioTarget = 1.25;
constexpr std::int64_t kRatioTargetFromTokens = 1024;
const std::vector<std::int64_t> kTokenCounts = {1, 4, 16, 64, 256, 512, 1024, 2048, 4096};

const std::vector<float>& activations() {
  static const std::vector<float> x = ys::profiler::random_activations(kMaxTokens, kMoe.d_model, 7);
  return x;
}

// Every benchmark here sets the same counters (Google Benchmark's CSV output aborts otherwise):
// dense layers report 0 experts touched, the square GEMM its rows as tokens.
void set_counters(benchmark::State& state, const ys::profiler::layer_cost& cost,
                  std::int64_t tokens, double experts_touched = 0) {
  state.counters["experts_touched"] = experts_touched;
  state.counters["FLOPs"] = cost.flops;
  state.counters["bytes"] = cost.bytes;
  state.counters["FLOP/s"] =
      benchmark::Counter(cost.flops, benchmark::Counter::kIsIterationInvariantRate);
  // Tokens per second, inverted: seconds per token.
  state.counters["time/token"] = benchmark::Counter(
      static_cast<double>(tokens),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(state.iterations() * tokens);
}

void run_dense(benchmark::State& state, const dense_ffn_shape& shape) {
  const std::int64_t tokens = state.range(0);
  // Weights are built once per shape: the benchmark times forward passes, not set-up.
  cpu::dense_ffn layer(ys::profiler::random_dense_weights(shape, 1));
  std::vector<float> y(static_cast<std::size_t>(tokens * shape.d_model));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    layer.forward(activations().data(), tokens, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, ys::profiler::dense_cost(shape, tokens), tokens);
}

void run_moe(benchmark::State& state, cpu::expert_parallelism parallelism) {
  const std::int64_t tokens = state.range(0);
  cpu::moe_ffn layer(ys::profiler::random_moe_weights(kMoe, 2), parallelism);
  std::vector<float> y(static_cast<std::size_t>(tokens * kMoe.d_model));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    layer.forward(activations().data(), tokens, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const auto touched = static_cast<double>(ys::profiler::experts_touched(layer.last_routing()));
  set_counters(state, ys::profiler::moe_cost(kMoe, tokens, touched), tokens, touched);
}

void BM_square_gemm(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    state.SetIterationTime(cpu::square_gemm_seconds(n, kPeakTries));
  }
  const double size = static_cast<double>(n);
  set_counters(state, {2.0 * size * size * size, 3.0 * 4.0 * size * size}, n);
}

void BM_dense_ffn(benchmark::State& state) {
  run_dense(state, ys::profiler::iso_total_dense(kMoe));
}
void BM_iso_active_dense_ffn(benchmark::State& state) {
  run_dense(state, ys::profiler::iso_active_dense(kMoe));
}
void BM_moe_ffn(benchmark::State& state) {
  run_moe(state, cpu::expert_parallelism::automatic);
}
// The two threading strategies apart, to show where parallelism over experts pays.
void BM_moe_ffn_over_experts(benchmark::State& state) {
  run_moe(state, cpu::expert_parallelism::over_experts);
}
void BM_moe_ffn_within_gemm(benchmark::State& state) {
  run_moe(state, cpu::expert_parallelism::within_gemm);
}

void token_sweep(benchmark::internal::Benchmark* b) {
  for (const std::int64_t tokens : kTokenCounts)
    b->Arg(tokens);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void strategy_sweep(benchmark::internal::Benchmark* b) {
  for (const std::int64_t tokens : {16, 64, 256, 1024, 4096})
    b->Arg(tokens);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// The square GEMM times itself inside square_gemm_seconds (it allocates its operands), so it
// reports that time manually; it runs first so the peak is measured on a cool, idle machine.
BENCHMARK(BM_square_gemm)->Arg(kSquareGemm)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_dense_ffn)->Apply(token_sweep);
BENCHMARK(BM_iso_active_dense_ffn)->Apply(token_sweep);
BENCHMARK(BM_moe_ffn)->Apply(token_sweep);
BENCHMARK(BM_moe_ffn_over_experts)->Apply(strategy_sweep);
BENCHMARK(BM_moe_ffn_within_gemm)->Apply(strategy_sweep);

std::string verdict(bool met) {
  return met ? "meets target" : "BELOW target";
}

// `peak` in FLOP/s, like the counters.
void print_peak_targets(const ys::bench::rate_reporter& reporter, double peak) {
  for (const std::int64_t tokens : kTokenCounts) {
    if (tokens < kPeakTargetFromTokens) continue;
    const double rate = reporter.counter("BM_dense_ffn", std::to_string(tokens), "FLOP/s");
    if (rate == 0) continue;
    const double fraction = rate / peak;
    fmt::print(reporter.text_stream(),
               "dense FFN at {:>4} tokens: {:.1f} GFLOP/s = {:.0f}% of peak (target >= {:.0f}%): "
               "{}\n",
               tokens, rate * 1e-9, 100 * fraction, 100 * kPeakFractionTarget,
               verdict(fraction >= kPeakFractionTarget));
  }
}

// time ratio / FLOP ratio: 1 means the MoE layer runs at the dense layer's FLOP rate.
void print_ratio_targets(const ys::bench::rate_reporter& reporter, const std::string& dense,
                         const char* label, bool is_target) {
  for (const std::int64_t tokens : kTokenCounts) {
    const std::string args = std::to_string(tokens);
    const double moe_time = reporter.counter("BM_moe_ffn", args, "time/token");
    const double dense_time = reporter.counter(dense, args, "time/token");
    const double moe_flops = reporter.counter("BM_moe_ffn", args, "FLOPs");
    const double dense_flops = reporter.counter(dense, args, "FLOPs");
    if (moe_time == 0 || dense_time == 0 || dense_flops == 0) continue;
    const double time_ratio = moe_time / dense_time;
    const double ideal = moe_flops / dense_flops;
    const double over_ideal = time_ratio / ideal;
    std::string tail;
    if (is_target && tokens >= kRatioTargetFromTokens) {
      tail = fmt::format(" (target <= {:.2f}x): {}", kRatioTarget,
                         verdict(over_ideal <= kRatioTarget));
    }
    fmt::print(reporter.text_stream(),
               "MoE / {} at {:>4} tokens: time {:.3f}, FLOPs {:.3f}, {:.2f}x ideal{}\n", label,
               tokens, time_ratio, ideal, over_ideal, tail);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  fmt::print(stderr, "bench_ffn: {} threads, Eigen with {}\n", cpu::threads(),
             cpu::simd_instruction_sets());
  ys::bench::rate_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const double peak = reporter.counter("BM_square_gemm", std::to_string(kSquareGemm), "FLOP/s");
  if (peak > 0) {
    fmt::print(reporter.text_stream(),
               "measured single-precision peak: {:.1f} GFLOP/s ({}x{} GEMM, {} threads)\n",
               peak * 1e-9, kSquareGemm, kSquareGemm, cpu::threads());
    print_peak_targets(reporter, peak);
  }
  print_ratio_targets(reporter, "BM_dense_ffn", "dense (same weights)", true);
  print_ratio_targets(reporter, "BM_iso_active_dense_ffn", "iso-active dense", false);
  return 0;
}
