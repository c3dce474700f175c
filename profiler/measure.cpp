#include "profiler/measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/progress.h"
#include "profiler/ffn_cpu.h"
#ifdef YARDSTICK_HAVE_CUDA
#include "profiler/ffn_cuda.h"
#endif

namespace ys::profiler {

namespace {

constexpr std::int64_t kDimensionQuantum = 16;
constexpr int kMinPasses = 3;
constexpr int kMaxPasses = 1000;
constexpr int kCudaPasses = 20;
// Budgets for the automatic scale: a CPU sweep stays within a minute or so on two cores; a GPU
// one within a few seconds on an H100-class part.
constexpr double kCpuMaxWeightBytes = 512.0 * (1 << 20);
constexpr double kCpuMaxPassFlops = 64e9;
constexpr double kCudaMaxWeightBytes = 16.0 * (1 << 30);
constexpr double kCudaMaxPassFlops = 20e12;
constexpr std::int64_t kCpuPeakGemm = 1024;
constexpr std::int64_t kCudaPeakGemm = 8192;
constexpr std::int64_t kMinCopyBytes = 64 << 20;

std::int64_t scaled(std::int64_t dimension, double scale) {
  const auto quanta = std::llround(static_cast<double>(dimension) * scale / kDimensionQuantum);
  return std::max<std::int64_t>(1, quanta) * kDimensionQuantum;
}

std::int64_t expert_width(const model_config& config) {
  return config.moe_intermediate_size > 0 ? config.moe_intermediate_size : config.intermediate_size;
}

double median_of_sorted(const std::vector<double>& sorted) {
  const std::size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

// The smallest scale that keeps kDimensionQuantum hidden units.
double smallest_scale(const model_config& config) {
  return kDimensionQuantum / static_cast<double>(config.hidden_size);
}

// Bytes of a dense SwiGLU layer's three float32 weight matrices.
std::int64_t float32_weight_bytes(const dense_ffn_shape& dense) {
  return std::int64_t{4} * 3 * dense.d_model * dense.d_ff;
}

// The value below which `fraction` of the sorted values lie (nearest rank).
double percentile(const std::vector<double>& sorted, double fraction) {
  const auto rank =
      static_cast<std::size_t>(std::llround(fraction * static_cast<double>(sorted.size() - 1)));
  return sorted[rank];
}

pass_times summarise(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return {median_of_sorted(times), times.front(),          times.back(),
          percentile(times, 0.1),  percentile(times, 0.9), static_cast<int>(times.size())};
}

// Times `pass` after one warm-up until `min_seconds` have passed (at least kMinPasses times).
// The median is the figure to quote: robust to a stray slow pass from another process.
pass_times time_passes(const std::function<void()>& pass, double min_seconds) {
  pass();
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  while (static_cast<int>(times.size()) < kMaxPasses) {
    const auto before = std::chrono::steady_clock::now();
    pass();
    const auto after = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(after - before).count());
    const double elapsed = std::chrono::duration<double>(after - start).count();
    if (static_cast<int>(times.size()) >= kMinPasses && elapsed >= min_seconds) break;
  }
  return summarise(times);
}

// A GPU figure: kMinPasses repeats of the event-timed mean over kCudaPasses passes.
[[maybe_unused]] pass_times repeat_mean(const std::function<double()>& mean_seconds) {
  std::vector<double> times;
  times.reserve(kMinPasses);
  for (int i = 0; i < kMinPasses; ++i)
    times.push_back(mean_seconds());
  return summarise(times);
}

// The CPU's bandwidth is measured on a copy as large as the dense layer's weights: the layers
// stream their weights from wherever a working set of that size lives (a large last-level
// cache holds small layers), so the roofline uses the bandwidth of that level.
std::int64_t copy_bytes(const dense_ffn_shape& dense) {
  return std::max(kMinCopyBytes, float32_weight_bytes(dense));
}

double roofline_seconds(const layer_cost& cost, double peak_flops, double bandwidth) {
  return std::max(cost.flops / peak_flops, cost.bytes / bandwidth);
}

// One backend's layers, behind the same three calls.
class layer_timer {
 public:
  virtual ~layer_timer() = default;
  virtual pass_times dense_times(std::int64_t tokens) = 0;
  // Also reports the experts the pass touched.
  virtual pass_times sparse_times(std::int64_t tokens, double& touched) = 0;
  virtual double peak_flops() = 0;
};

class cpu_timer final : public layer_timer {
 public:
  cpu_timer(const ffn_layer_shapes& shapes, std::int64_t max_tokens, double min_seconds)
      : min_seconds_(min_seconds),
        dense_(random_dense_weights(shapes.dense, 1)),
        x_(random_activations(max_tokens, shapes.dense.d_model, 3)),
        y_(x_.size()) {
    if (shapes.sparse)
      sparse_ = std::make_unique<cpu::moe_ffn>(random_moe_weights(*shapes.sparse, 2));
  }
  pass_times dense_times(std::int64_t tokens) override {
    return time_passes([&] { dense_.forward(x_.data(), tokens, y_.data()); }, min_seconds_);
  }
  pass_times sparse_times(std::int64_t tokens, double& touched) override {
    const pass_times times =
        time_passes([&] { sparse_->forward(x_.data(), tokens, y_.data()); }, min_seconds_);
    touched = static_cast<double>(experts_touched(sparse_->last_routing()));
    return times;
  }
  double peak_flops() override {
    const double n = static_cast<double>(kCpuPeakGemm);
    return 2.0 * n * n * n / cpu::square_gemm_seconds(kCpuPeakGemm, 5);
  }

 private:
  double min_seconds_;
  cpu::dense_ffn dense_;
  std::unique_ptr<cpu::moe_ffn> sparse_;
  std::vector<float> x_;
  std::vector<float> y_;
};

#ifdef YARDSTICK_HAVE_CUDA
class cuda_timer final : public layer_timer {
 public:
  explicit cuda_timer(const ffn_layer_shapes& shapes)
      : dense_(random_dense_weights(shapes.dense, 1)) {
    if (shapes.sparse) {
      sparse_ = std::make_unique<cuda::moe_ffn>(random_moe_weights(*shapes.sparse, 2));
    }
  }
  pass_times dense_times(std::int64_t tokens) override {
    return repeat_mean([&] { return dense_.seconds_per_forward(tokens, kCudaPasses); });
  }
  pass_times sparse_times(std::int64_t tokens, double& touched) override {
    const pass_times times =
        repeat_mean([&] { return sparse_->seconds_per_forward(tokens, kCudaPasses); });
    touched = static_cast<double>(experts_touched(sparse_->last_routing()));
    return times;
  }
  double peak_flops() override {
    const double n = static_cast<double>(kCudaPeakGemm);
    return 2.0 * n * n * n / cuda::square_gemm_seconds(kCudaPeakGemm, 10);
  }

 private:
  cuda::dense_ffn dense_;
  std::unique_ptr<cuda::moe_ffn> sparse_;
};
#endif

void require_cuda_device() {
#ifdef YARDSTICK_HAVE_CUDA
  if (const std::string why = cuda::unavailable_reason(); !why.empty()) {
    throw input_error("--backend cuda: " + why);
  }
#else
  throw input_error(
      "--backend cuda: this build has no CUDA back end (nvcc was not found when it was "
      "configured; reconfigure with -DYARDSTICK_CUDA=ON)");
#endif
}

std::string device_description(const std::string& backend) {
#ifdef YARDSTICK_HAVE_CUDA
  if (backend == "cuda") return cuda::device_name();
#endif
  (void)backend;
  const int threads = cpu::threads();
  return fmt::format("CPU, {} thread{}, Eigen {}", threads, threads == 1 ? "" : "s",
                     cpu::simd_instruction_sets());
}

nlohmann::json to_json(const measured_layer& layer, std::int64_t tokens) {
  const double t = static_cast<double>(tokens);
  nlohmann::json out = {
      {"flops_per_token", layer.cost.flops / t},
      {"bytes_per_token", layer.cost.bytes / t},
      {"roofline_ns_per_token", 1e9 * layer.roofline_seconds / t},
      {"measured_ns_per_token", 1e9 * layer.seconds / t},
      {"achieved_flops_per_s", layer.cost.flops / layer.seconds},
      {"efficiency", layer.roofline_seconds / layer.seconds},
      {"fastest_ns_per_token", 1e9 * layer.times.fastest / t},
      {"slowest_ns_per_token", 1e9 * layer.times.slowest / t},
      {"passes", layer.times.passes},
      {"spread", layer.times.spread()},
  };
  if (layer.experts_touched > 0) out["experts_touched"] = layer.experts_touched;
  return out;
}

}  // namespace

ffn_layer_shapes ffn_shapes(const model_config& config, double scale) {
  if (!(scale > 0 && scale <= 1)) {
    throw input_error(fmt::format("--scale must be in (0, 1], got {}", scale));
  }
  if (scale < smallest_scale(config)) {
    throw input_error(fmt::format(
        "--scale {} would shrink hidden size {} below {}; the smallest scale for this config is "
        "{:.3g}",
        scale, config.hidden_size, kDimensionQuantum, smallest_scale(config)));
  }
  ffn_layer_shapes shapes;
  shapes.scale = scale;
  const std::int64_t d_model = scaled(config.hidden_size, scale);
  if (!config.is_moe()) {
    shapes.dense = {d_model, scaled(config.intermediate_size, scale)};
    return shapes;
  }
  const moe_ffn_shape sparse{d_model, scaled(expert_width(config), scale), config.num_experts,
                             config.num_experts_per_tok};
  shapes.sparse = sparse;
  shapes.dense = iso_total_dense(sparse);
  return shapes;
}

double fitting_scale(const model_config& config, std::int64_t reference_tokens,
                     double max_weight_bytes, double max_pass_flops) {
  double scale = 1;
  for (int halvings = 0; halvings < 12; ++halvings, scale /= 2) {
    // The next halving would leave too few hidden units to keep: stop at this scale.
    if (scale / 2 < smallest_scale(config)) break;
    const dense_ffn_shape dense = ffn_shapes(config, scale).dense;
    if (static_cast<double>(float32_weight_bytes(dense)) <= max_weight_bytes &&
        dense_cost(dense, reference_tokens).flops <= max_pass_flops) {
      return scale;
    }
  }
  return scale;
}

measurement measure_ffn(const model_config& config, const measure_options& options) {
  if (options.backend != "cpu" && options.backend != "cuda") {
    throw input_error("--backend must be cpu or cuda, got '" + options.backend + "'");
  }
  if (options.tokens.empty()) throw input_error("--tokens needs at least one token count");
  for (const std::int64_t tokens : options.tokens) {
    if (tokens < 1 || tokens > kMaxMeasuredTokens) {
      throw input_error(
          fmt::format("--tokens: {} is not between 1 and {}", tokens, kMaxMeasuredTokens));
    }
  }
  if (options.threads < 0) throw input_error("--threads must be >= 1");
  std::vector<std::int64_t> sweep = options.tokens;
  std::sort(sweep.begin(), sweep.end());
  sweep.erase(std::unique(sweep.begin(), sweep.end()), sweep.end());
  const bool on_gpu = options.backend == "cuda";
  if (on_gpu) require_cuda_device();
  const std::int64_t max_tokens = sweep.back();
  const double scale = options.scale > 0
                           ? options.scale
                           : fitting_scale(config, kScaleReferenceTokens,
                                           on_gpu ? kCudaMaxWeightBytes : kCpuMaxWeightBytes,
                                           on_gpu ? kCudaMaxPassFlops : kCpuMaxPassFlops);
  if (!on_gpu && options.threads > 0) cpu::set_threads(options.threads);

  measurement out;
  out.backend = options.backend;
  out.device = device_description(options.backend);
  out.threads = on_gpu ? 0 : cpu::threads();
  out.shapes = ffn_shapes(config, scale);
  std::unique_ptr<layer_timer> timer;
#ifdef YARDSTICK_HAVE_CUDA
  if (on_gpu) timer = std::make_unique<cuda_timer>(out.shapes);
#endif
  if (!timer) {
    timer = std::make_unique<cpu_timer>(out.shapes, max_tokens, options.min_seconds_per_point);
  }
  out.peak_flops = timer->peak_flops();
  out.bandwidth_bytes =
      on_gpu ? options.gpu->bandwidth_bytes : cpu::copy_bandwidth(copy_bytes(out.shapes.dense), 3);

  const std::size_t layers = out.shapes.sparse ? 2 : 1;
  progress_meter progress("profile --measure", sweep.size() * layers, options.show_progress, stderr,
                          "points");
  for (const std::int64_t tokens : sweep) {
    measured_point point;
    point.tokens = tokens;
    point.dense.cost = dense_cost(out.shapes.dense, tokens);
    point.dense.times = timer->dense_times(tokens);
    point.dense.seconds = point.dense.times.median;
    point.dense.roofline_seconds =
        roofline_seconds(point.dense.cost, out.peak_flops, out.bandwidth_bytes);
    progress.advance(false);
    if (out.shapes.sparse) {
      measured_layer sparse;
      sparse.times = timer->sparse_times(tokens, sparse.experts_touched);
      sparse.seconds = sparse.times.median;
      sparse.cost = moe_cost(*out.shapes.sparse, tokens, sparse.experts_touched);
      sparse.roofline_seconds = roofline_seconds(sparse.cost, out.peak_flops, out.bandwidth_bytes);
      point.sparse = sparse;
      progress.advance(false);
    }
    out.points.push_back(point);
  }
  progress.finish();
  return out;
}

nlohmann::json to_json(const measurement& measured) {
  nlohmann::json shapes = {
      {"scale", measured.shapes.scale},
      {"dense",
       {{"d_model", measured.shapes.dense.d_model}, {"d_ff", measured.shapes.dense.d_ff}}}};
  if (const auto& s = measured.shapes.sparse) {
    shapes["sparse"] = {{"d_model", s->d_model},
                        {"d_expert", s->d_expert},
                        {"experts", s->experts},
                        {"top_k", s->top_k}};
  }
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : measured.points) {
    nlohmann::json point = {{"tokens", p.tokens}, {"dense", to_json(p.dense, p.tokens)}};
    if (p.sparse) {
      point["sparse"] = to_json(*p.sparse, p.tokens);
      point["time_ratio"] = p.sparse->seconds / p.dense.seconds;
      point["flop_ratio"] = p.sparse->cost.flops / p.dense.cost.flops;
    }
    points.push_back(point);
  }
  return {{"backend", measured.backend},
          {"device", measured.device},
          {"threads", measured.threads},
          {"precision", "float32"},
          {"libraries", cpu::library_versions()},
          {"peak_flops", measured.peak_flops},
          {"bandwidth_bytes_per_s", measured.bandwidth_bytes},
          {"layer", "one FFN layer; dense = the same weights without routing"},
          {"shapes", shapes},
          {"points", points}};
}

}  // namespace ys::profiler
