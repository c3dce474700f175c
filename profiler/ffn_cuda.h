// The FFN layers of ffn.h on an NVIDIA GPU: cuBLAS GEMMs for the dense layer and the router,
// and for the MoE layer routing (top-k + softmax), permutation (tokens grouped per expert),
// grouped expert GEMMs and the weighted un-permutation as CUDA kernels. Built only when nvcc is
// found (YARDSTICK_HAVE_CUDA); every entry point works without a GPU attached in the sense that
// unavailable_reason() says why none can run, and the classes throw std::runtime_error with
// that reason instead of crashing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "profiler/ffn.h"

namespace ys::profiler::cuda {

// Empty when a CUDA device can run kernels; otherwise the CUDA runtime's reason, e.g. "no CUDA
// device: CUDA driver version is insufficient for CUDA runtime version".
std::string unavailable_reason();
// "NVIDIA H200 (sm_90, 132 SMs)"; empty when no device.
std::string device_name();

// Weights live on the device from construction on; forward() copies x in and y out, the timed
// entry points work on device-resident random activations and copy nothing.
class dense_ffn {
 public:
  explicit dense_ffn(const dense_ffn_weights& weights);
  ~dense_ffn();
  dense_ffn(const dense_ffn&) = delete;
  dense_ffn& operator=(const dense_ffn&) = delete;

  // x: tokens x d_model on the host; returns tokens x d_model.
  std::vector<float> forward(const std::vector<float>& x, std::int64_t tokens);
  // Mean device time (CUDA events) of one forward pass over `tokens` tokens, after one warm-up.
  double seconds_per_forward(std::int64_t tokens, int iterations);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

class moe_ffn {
 public:
  explicit moe_ffn(const moe_ffn_weights& weights);
  ~moe_ffn();
  moe_ffn(const moe_ffn&) = delete;
  moe_ffn& operator=(const moe_ffn&) = delete;

  std::vector<float> forward(const std::vector<float>& x, std::int64_t tokens);
  double seconds_per_forward(std::int64_t tokens, int iterations);
  // The grouped expert GEMMs' own time, for the ">= 60% of the dense GEMM rate" target: routes
  // `tokens` device-resident random tokens once (the input of seconds_per_forward), then returns
  // the mean device time (CUDA events, after one warm-up) of the expert stage alone: the grouped
  // gate and up GEMMs, SwiGLU over the grouped rows and the grouped down GEMMs. No router GEMM,
  // routing, permutation, host wait or un-permutation. Its FLOPs are
  // 2 x 3 x tokens x top_k x d_model x d_expert, those of the iso-active dense layer. Throws
  // std::invalid_argument when tokens < 1 or iterations < 1. last_routing() then returns the
  // routing of these tokens; forward() is unaffected.
  double seconds_per_expert_gemms(std::int64_t tokens, int iterations);
  // The routing of the last forward or timed pass, copied back from the device (expert, gate,
  // expert_offsets, grouped_slot as in ffn.h).
  routing_plan last_routing() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// Mean device time of one n x n x n single-precision cuBLAS GEMM: the peak the benchmarks
// compare against. Strict FP32 (no TF32 tensor cores), like the layers, so that they match the
// CPU reference to 1e-5.
double square_gemm_seconds(std::int64_t n, int iterations);

}  // namespace ys::profiler::cuda
