// The FFN layers of ffn.h on the CPU with Eigen's own GEMM, threaded with OpenMP. Eigen stays
// inside ffn_cpu.cpp (built with this machine's vector extensions); callers pass plain arrays.
#pragma once

#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "profiler/ffn.h"

namespace ys::profiler::cpu {

// Threads the kernels use: OpenMP's count (OMP_NUM_THREADS, else one per core).
int threads();
// Sets that count for the rest of the process (n >= 1).
void set_threads(int n);
// "AVX512" / "AVX2 FMA" / "SSE2": the instruction set Eigen was built for, for reports.
const char* simd_instruction_sets();
// {"eigen": "3.4.0", "openmp": "201511"}: what the CPU kernels were built with, for reports.
nlohmann::json library_versions();

class dense_ffn {
 public:
  explicit dense_ffn(dense_ffn_weights weights);
  ~dense_ffn();
  dense_ffn(const dense_ffn&) = delete;
  dense_ffn& operator=(const dense_ffn&) = delete;

  // x, y: tokens x d_model, row-major. Scratch is kept between calls, so repeated calls at one
  // token count allocate nothing.
  void forward(const float* x, std::int64_t tokens, float* y);
  [[nodiscard]] const dense_ffn_shape& shape() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// How the expert GEMMs share the threads. `over_experts` gives each thread whole experts (each
// GEMM single-threaded, no synchronisation inside it). `within_gemm` runs the experts one after
// another, each GEMM on every thread: the only choice when fewer experts have tokens than there
// are threads. `automatic` takes over_experts when at least twice as many experts as threads
// have tokens, which bench_ffn shows faster at every token count it measures.
enum class expert_parallelism { automatic, over_experts, within_gemm };

class moe_ffn {
 public:
  explicit moe_ffn(moe_ffn_weights weights,
                   expert_parallelism parallelism = expert_parallelism::automatic);
  ~moe_ffn();
  moe_ffn(const moe_ffn&) = delete;
  moe_ffn& operator=(const moe_ffn&) = delete;

  // Router GEMM, top-k softmax routing, gather of each expert's rows, one GEMM pair (gate and
  // up, then down) per expert, and the gate-weighted scatter back to token order.
  void forward(const float* x, std::int64_t tokens, float* y);
  [[nodiscard]] const moe_ffn_shape& shape() const;
  [[nodiscard]] const routing_plan& last_routing() const;
  // What the last forward() used (never `automatic`).
  [[nodiscard]] expert_parallelism last_parallelism() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// Wall time of one n x n x n float32 GEMM with Eigen on all threads, the best of `iterations`
// after a warm-up: the machine's measured single-precision peak is 2 n^3 over it.
double square_gemm_seconds(std::int64_t n, int iterations);

// Bytes per second of a large memory copy (read + write counted), the best of `iterations`:
// the bandwidth side of the CPU roofline.
double copy_bandwidth(std::int64_t bytes, int iterations);

}  // namespace ys::profiler::cpu
