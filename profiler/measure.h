// `yardstick profile --measure`: times the FFN layer of a model config on this machine (Eigen on
// the CPU or CUDA on a GPU), dense and sparse, over a sweep of token counts, and sets the times
// beside the analytic cost of the same passes.
//
// Which layers: for a mixture-of-experts config, "sparse" is one MoE layer of its routed experts
// (experts, top-k, expert width, hidden size; shared experts are left out) and "dense" is the
// dense SwiGLU layer holding the same weights (width = experts x expert width): the model the
// same parameters would make without routing. For a dense config only "dense" is measured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/analytic.h"
#include "profiler/ffn.h"

namespace ys::profiler {

struct ffn_layer_shapes {
  double scale = 1;
  dense_ffn_shape dense;
  std::optional<moe_ffn_shape> sparse;  // absent for a dense config
};

// The config's FFN shapes with hidden size and widths multiplied by `scale` (rounded to a
// multiple of 16, at least 16); expert count and top-k are kept. Throws ys::input_error for a
// scale outside (0, 1].
ffn_layer_shapes ffn_shapes(const model_config& config, double scale);

// The largest scale 1, 1/2, 1/4, ... at which the dense layer's weights fit `max_weight_bytes`
// and one dense pass over `reference_tokens` tokens costs at most `max_pass_flops`.
double fitting_scale(const model_config& config, std::int64_t reference_tokens,
                     double max_weight_bytes, double max_pass_flops);

// The automatic scale is sized for passes of this many tokens whatever --tokens asks for, so
// that two profiles of one model measure the same shapes.
inline constexpr std::int64_t kScaleReferenceTokens = 1024;
inline constexpr std::int64_t kMaxMeasuredTokens = 65536;

struct measure_options {
  std::string backend = "cpu";  // cpu | cuda
  double scale = 0;             // 0: the largest that fits this backend's budget
  std::vector<std::int64_t> tokens = {1, 4, 16, 64, 256, 1024};  // measured sorted, once each
  int threads = 0;  // CPU threads; 0: OpenMP's default (OMP_NUM_THREADS, else one per core)
  double min_seconds_per_point = 0.2;  // keep timing one point until this much time has passed
  bool show_progress = true;           // a progress line on stderr
  const gpu_spec* gpu = nullptr;       // cuda: the bandwidth side of the roofline
};

// Times of one pass over `passes` timings: median, fastest, slowest, and the 10th and 90th
// percentiles, which the spread uses so that one interrupted pass does not flag a quiet machine
// (CPU: wall clock of each
// pass; GPU: three repeats of the CUDA-event mean over a batch of passes).
struct pass_times {
  double median = 0;
  double fastest = 0;
  double slowest = 0;
  double p10 = 0;
  double p90 = 0;
  int passes = 0;
  // (p90 - p10) / median: above kNoisySpread the machine was probably busy.
  [[nodiscard]] double spread() const { return median > 0 ? (p90 - p10) / median : 0; }
};
inline constexpr double kNoisySpread = 0.25;

struct measured_layer {
  layer_cost cost;              // the analytic cost of one pass
  double seconds = 0;           // measured: times.median
  pass_times times;             // wall clock (CPU) or CUDA events (GPU)
  double roofline_seconds = 0;  // max(FLOPs / measured peak, bytes / bandwidth)
  double experts_touched = 0;   // sparse only: experts that at least one token picked
};

struct measured_point {
  std::int64_t tokens = 0;
  measured_layer dense;
  std::optional<measured_layer> sparse;
};

struct measurement {
  std::string backend;
  std::string device;          // "CPU, 2 threads, Eigen AVX512 ..." or the GPU's name
  int threads = 0;             // CPU threads used; 0 on a GPU
  double peak_flops = 0;       // measured with a square GEMM in the same run
  double bandwidth_bytes = 0;  // CPU: measured copy; GPU: the data sheet's figure
  ffn_layer_shapes shapes;
  std::vector<measured_point> points;
};

// Throws ys::input_error for an unknown backend, and for `cuda` when this build has no CUDA
// back end or no GPU is attached (with the CUDA runtime's reason).
measurement measure_ffn(const model_config& config, const measure_options& options);

nlohmann::json to_json(const measurement& measured);

}  // namespace ys::profiler
