// The CUDA FFN layers (profiler/ffn_cuda.h) at a Mixtral-8x7B-like shape: d_model 4096, eight
// experts of width 14336, top-2. Benchmarks, all timed on the device with CUDA events
// (UseManualTime; each iteration is the mean of kPassesPerIteration passes after a warm-up):
//   BM_cuda_square_gemm        n x n x n SGEMM, the FP32 peak the layers are compared with;
//   BM_cuda_dense_ffn          the dense FFN with the MoE layer's weights (d_ff 8 x 14336);
//   BM_cuda_moe_ffn            the MoE layer: routing, grouping, grouped expert GEMMs,
//                              un-permutation;
//   BM_cuda_moe_expert_gemms   the MoE layer's expert stage alone (tokens routed once): the
//                              grouped gate/up GEMMs, SwiGLU and the grouped down GEMMs;
//   BM_cuda_iso_active_dense   the dense FFN with the MoE layer's FLOPs (d_ff 2 x 14336).
// Counters: FLOPs and bytes of one pass (ffn.h's cost model; for the expert stage the same
// without the router), and the rates FLOP/s, bytes/s and time/token, shown with SI prefixes
// ("52.1T/s", "3.2T/s", "45.6us"). Then the target lines. Without a usable device it prints one
// skip line and exits with 0 (1 when YARDSTICK_REQUIRE_CUDA=1 is in the environment). Its own
// lines go to stderr when --benchmark_format is json or csv, so stdout stays parseable.
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "bench/bench_report.h"
#include "profiler/ffn.h"
#include "profiler/ffn_cuda.h"

namespace {

namespace profiler = ys::profiler;
namespace cuda = ys::profiler::cuda;

const profiler::moe_ffn_shape kMixtral{4096, 14336, 8, 2};
constexpr std::int64_t kSquareGemm = 8192;
constexpr int kPassesPerIteration = 2;
constexpr double kMoeTargetPercent = 60.0;

// The layers, built on first use (their weights take seconds to draw on the host) and freed
// before main returns, while the CUDA runtime is still up.
struct layers {
  std::unique_ptr<cuda::moe_ffn> moe;
  std::unique_ptr<cuda::dense_ffn> total_dense;
  std::unique_ptr<cuda::dense_ffn> active_dense;
};

layers& the_layers() {
  static layers all;
  return all;
}

cuda::moe_ffn& moe_layer() {
  auto& layer = the_layers().moe;
  if (!layer) layer = std::make_unique<cuda::moe_ffn>(profiler::random_moe_weights(kMixtral, 1));
  return *layer;
}

cuda::dense_ffn& total_dense_layer() {
  auto& layer = the_layers().total_dense;
  if (!layer) {
    layer = std::make_unique<cuda::dense_ffn>(
        profiler::random_dense_weights(profiler::iso_total_dense(kMixtral), 2));
  }
  return *layer;
}

cuda::dense_ffn& active_dense_layer() {
  auto& layer = the_layers().active_dense;
  if (!layer) {
    layer = std::make_unique<cuda::dense_ffn>(
        profiler::random_dense_weights(profiler::iso_active_dense(kMixtral), 3));
  }
  return *layer;
}

// The last run of each benchmark, by name and argument (tokens, or n for the square GEMM): the
// mean seconds of one pass and its FLOPs, for the target lines.
struct measurement {
  double seconds = 0;
  double flops = 0;
  [[nodiscard]] double rate() const { return flops / seconds; }
};

std::map<std::string, std::map<std::int64_t, measurement>>& measurements() {
  static std::map<std::string, std::map<std::int64_t, measurement>> all;
  return all;
}

// Runs the timing loop: each iteration's time is the device time of one pass, `time_pass`
// returning it. Returns the mean over the iterations.
template <typename TimePass>
double run_timed(benchmark::State& state, const TimePass& time_pass) {
  double total = 0;
  std::int64_t iterations = 0;
  for (auto _ : state) {
    const double seconds = time_pass();
    state.SetIterationTime(seconds);
    total += seconds;
    ++iterations;
  }
  return iterations > 0 ? total / static_cast<double>(iterations) : 0.0;
}

void report(benchmark::State& state, const std::string& name, std::int64_t tokens,
            const profiler::layer_cost& cost, double seconds) {
  if (seconds <= 0) return;
  // Rates over the manual (device) time, which Google Benchmark divides by: the same as per
  // pass over `seconds`, the mean pass.
  constexpr auto kRate = benchmark::Counter::kIsIterationInvariantRate;
  state.counters["FLOPs"] = cost.flops;
  state.counters["bytes"] = cost.bytes;
  state.counters["FLOP/s"] = benchmark::Counter(cost.flops, kRate);
  state.counters["bytes/s"] = benchmark::Counter(cost.bytes, kRate);
  // Every benchmark sets the same counters: Google Benchmark's CSV output aborts otherwise. The
  // square GEMM (tokens 0) reports its time per row, and MoE benchmarks overwrite experts_touched.
  const double rows =
      tokens > 0 ? static_cast<double>(tokens) : static_cast<double>(state.range(0));
  state.counters["time/token"] = benchmark::Counter(rows, kRate | benchmark::Counter::kInvert);
  if (state.counters.find("experts_touched") == state.counters.end()) {
    state.counters["experts_touched"] = 0;
  }
  measurements()[name][state.range(0)] = {seconds, cost.flops};
}

// Runs one benchmark body; a CUDA or cuBLAS failure marks that benchmark as errored instead of
// ending the program, so the others still run and report.
template <typename Body>
void reporting_errors(benchmark::State& state, const Body& body) {
  try {
    body();
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

void BM_cuda_square_gemm(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  reporting_errors(state, [&] {
    const double seconds =
        run_timed(state, [n] { return cuda::square_gemm_seconds(n, kPassesPerIteration); });
    const double size = static_cast<double>(n);
    report(state, "square_gemm", 0, {2.0 * size * size * size, 3.0 * 4.0 * size * size}, seconds);
  });
}

void BM_cuda_dense_ffn(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  reporting_errors(state, [&] {
    cuda::dense_ffn& layer = total_dense_layer();
    const double seconds = run_timed(
        state, [&layer, tokens] { return layer.seconds_per_forward(tokens, kPassesPerIteration); });
    report(state, "dense", tokens,
           profiler::dense_cost(profiler::iso_total_dense(kMixtral), tokens), seconds);
  });
}

void BM_cuda_moe_ffn(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  reporting_errors(state, [&] {
    cuda::moe_ffn& layer = moe_layer();
    const double seconds = run_timed(
        state, [&layer, tokens] { return layer.seconds_per_forward(tokens, kPassesPerIteration); });
    const auto touched = static_cast<double>(profiler::experts_touched(layer.last_routing()));
    state.counters["experts_touched"] = touched;
    report(state, "moe", tokens, profiler::moe_cost(kMixtral, tokens, touched), seconds);
  });
}

// The expert stage of one MoE pass over `tokens` tokens: 3 GEMMs of top_k x d_model x d_expert
// per token, the same FLOPs as the iso-active dense layer (no router); bytes are the experts'
// weights that at least one token picked, plus the grouped rows in and the expert outputs out.
profiler::layer_cost expert_gemms_cost(const profiler::moe_ffn_shape& shape, std::int64_t tokens,
                                       double touched) {
  const double slots = static_cast<double>(tokens) * static_cast<double>(shape.top_k);
  const double d = static_cast<double>(shape.d_model);
  const double expert_weights = 3.0 * d * static_cast<double>(shape.d_expert);
  return {2.0 * slots * expert_weights, 4.0 * (touched * expert_weights + 2.0 * slots * d)};
}

void BM_cuda_moe_expert_gemms(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  reporting_errors(state, [&] {
    cuda::moe_ffn& layer = moe_layer();
    const double seconds = run_timed(state, [&layer, tokens] {
      return layer.seconds_per_expert_gemms(tokens, kPassesPerIteration);
    });
    const auto touched = static_cast<double>(profiler::experts_touched(layer.last_routing()));
    state.counters["experts_touched"] = touched;
    report(state, "moe_expert_gemms", tokens, expert_gemms_cost(kMixtral, tokens, touched),
           seconds);
  });
}

void BM_cuda_iso_active_dense(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  reporting_errors(state, [&] {
    cuda::dense_ffn& layer = active_dense_layer();
    const double seconds = run_timed(
        state, [&layer, tokens] { return layer.seconds_per_forward(tokens, kPassesPerIteration); });
    report(state, "iso_active_dense", tokens,
           profiler::dense_cost(profiler::iso_active_dense(kMixtral), tokens), seconds);
  });
}

void token_counts(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("tokens");
  for (const std::int64_t tokens : {1, 16, 64, 256, 1024, 4096})
    benchmark->Arg(tokens);
  benchmark->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_cuda_square_gemm)
    ->ArgName("n")
    ->Arg(kSquareGemm)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cuda_dense_ffn)->Apply(token_counts);
BENCHMARK(BM_cuda_moe_ffn)->Apply(token_counts);
BENCHMARK(BM_cuda_moe_expert_gemms)->Apply(token_counts);
BENCHMARK(BM_cuda_iso_active_dense)->Apply(token_counts);

// `name`'s FLOP rate as a share of the iso-active dense layer's (the dense FFN with the same
// FLOPs per token: three GEMMs of the same total size, plus SwiGLU), token count by token count.
// Calls `line(tokens, percent)` for every token count both were measured at.
template <typename Line>
void against_iso_active_dense(const std::string& name, const Line& line) {
  const auto measured = measurements().find(name);
  const auto dense = measurements().find("iso_active_dense");
  if (measured == measurements().end() || dense == measurements().end()) return;
  for (const auto& [tokens, sample] : measured->second) {
    const auto same = dense->second.find(tokens);
    if (same == dense->second.end()) continue;
    line(tokens, 100.0 * sample.rate() / same->second.rate());
  }
}

// The target: the grouped expert GEMMs at >= kMoeTargetPercent of the dense GEMM rate. The
// expert stage (BM_cuda_moe_expert_gemms: grouped gate/up GEMMs, SwiGLU, grouped down GEMMs)
// does exactly the iso-active dense layer's work (same FLOPs, SwiGLU over as many elements), so
// the ratio of their FLOP rates is how well the grouped GEMMs use the GPU compared with dense
// GEMMs of the same total size. At few tokens both are bound by weight traffic, and the expert
// stage reads up to experts / top_k times the weights, so the target is about many tokens.
// Then, for information, the whole MoE layer (router, routing, permutation, the host wait for
// the offsets and the un-permutation included) against the same dense layer.
void print_moe_target(std::FILE* out) {
  against_iso_active_dense("moe_expert_gemms", [out](std::int64_t tokens, double percent) {
    fmt::print(
        out,
        "target: MoE grouped expert GEMMs >= {:.0f}% of the iso-active dense rate: {:.1f}% at {} "
        "tokens: {}\n",
        kMoeTargetPercent, percent, tokens,
        percent >= kMoeTargetPercent ? "meets target" : "BELOW target");
  });
  against_iso_active_dense("moe", [out](std::int64_t tokens, double percent) {
    fmt::print(out, "info: whole MoE layer at {:.1f}% of the iso-active dense rate at {} tokens\n",
               percent, tokens);
  });
}

// Each dense layer's best rate over the token counts, as a share of the square GEMM's.
void print_peak_shares(std::FILE* out) {
  const auto square = measurements().find("square_gemm");
  if (square == measurements().end() || square->second.empty()) return;
  const auto& [n, peak] = *square->second.begin();
  const std::map<std::string, std::string> labels = {
      {"dense", fmt::format("dense FFN (d_ff {})", profiler::iso_total_dense(kMixtral).d_ff)},
      {"iso_active_dense",
       fmt::format("iso-active dense FFN (d_ff {})", profiler::iso_active_dense(kMixtral).d_ff)}};
  for (const auto& [name, label] : labels) {
    const auto layer = measurements().find(name);
    if (layer == measurements().end()) continue;
    std::int64_t best_tokens = 0;
    double best_rate = 0;
    for (const auto& [tokens, measured] : layer->second) {
      if (measured.rate() > best_rate) {
        best_rate = measured.rate();
        best_tokens = tokens;
      }
    }
    fmt::print(out,
               "{}: {:.0f} GFLOP/s at {} tokens = {:.1f}% of the square-GEMM peak ({:.0f} "
               "GFLOP/s, n = {})\n",
               label, best_rate * 1e-9, best_tokens, 100.0 * best_rate / peak.rate(),
               peak.rate() * 1e-9, n);
  }
}

bool cuda_required() {
  const char* value = std::getenv("YARDSTICK_REQUIRE_CUDA");
  return value != nullptr && std::string(value) == "1";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ys::bench::rate_reporter reporter;
  std::FILE* const out = reporter.text_stream();
  if (const std::string why = cuda::unavailable_reason(); !why.empty()) {
    fmt::print(out, "bench_ffn_cuda: skipped: {}\n", why);
    // A machine-readable run still gets a document to parse: no benchmarks, and why.
    if (out != stdout) {
      fmt::print("{}\n",
                 nlohmann::json{{"benchmarks", nlohmann::json::array()}, {"skipped", why}}.dump(2));
    }
    return cuda_required() ? 1 : 0;
  }
  fmt::print(out, "device: {}\n", cuda::device_name());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  the_layers() = layers{};
  print_moe_target(out);
  print_peak_shares(out);
  return 0;
}
