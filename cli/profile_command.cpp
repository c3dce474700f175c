#include "cli/profile_command.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "harness/build_info.h"
#include "harness/errors.h"
#include "harness/run_files.h"
#include "profiler/analytic.h"
#include "profiler/measure.h"

namespace ys {

namespace {

profiler::model_config load_config(const std::string& name_or_path) {
  if (std::filesystem::exists(name_or_path)) {
    const auto text = read_text_file(name_or_path, "model config");
    return profiler::parse_config(parse_json_text(text, name_or_path), name_or_path);
  }
  // A preset name has no path separator and no extension: anything else was meant as a file.
  if (name_or_path.find('/') != std::string::npos ||
      std::filesystem::path(name_or_path).has_extension()) {
    throw input_error(name_or_path + ": model config file not found");
  }
  return profiler::preset(name_or_path);
}

std::string billions(double count) {
  return fmt::format("{:.2f}B", count / 1e9);
}

// Decode batch sizes for the cost-per-token curve that `yardstick report` draws.
constexpr std::int64_t kSweepBatches[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

// The analytic decode cost per token at each batch size: the roofline time of one decode step
// over the batch. Weight reads are shared by the batch, so this falls until compute-bound.
nlohmann::json batch_sweep(const profiler::model_config& config,
                           const profile_command_options& options, const profiler::gpu_spec& gpu) {
  nlohmann::json sweep = nlohmann::json::array();
  for (const std::int64_t batch : kSweepBatches) {
    const auto step =
        profiler::decode_roofline(config, batch, options.context, gpu, options.bytes_per_param);
    sweep.push_back({{"batch", batch},
                     {"ns_per_token", 1e9 * step.time_s / static_cast<double>(batch)},
                     {"compute_bound", step.compute_bound}});
  }
  return sweep;
}

std::string shapes_line(const profiler::ffn_layer_shapes& shapes) {
  std::string line = fmt::format("scale {:g}: dense d_model {} d_ff {}", shapes.scale,
                                 shapes.dense.d_model, shapes.dense.d_ff);
  if (const auto& s = shapes.sparse) {
    line += fmt::format("; sparse {} experts of width {}, top-{} (same weights as dense)",
                        s->experts, s->d_expert, s->top_k);
  }
  return line;
}

std::string layer_cells(const profiler::measured_layer& layer, std::int64_t tokens) {
  const double t = static_cast<double>(tokens);
  return fmt::format(
      "{:>9.1f} {:>11.0f} {:>11.0f} {:>5.0f}% {:>7.1f} {:>4.0f}%", layer.cost.flops / t / 1e6,
      1e9 * layer.roofline_seconds / t, 1e9 * layer.seconds / t, 100 * layer.times.spread(),
      layer.cost.flops / layer.seconds / 1e9, 100 * layer.roofline_seconds / layer.seconds);
}

constexpr std::string_view kLayerColumns = "MFLOP/tok roofline ns measured ns spread GFLOP/s  eff";

void print_measurement_table(const profiler::measurement& m) {
  const bool sparse = m.shapes.sparse.has_value();
  const int width = static_cast<int>(kLayerColumns.size());
  if (sparse) {
    fmt::print("{:>6} | {:<{}} | {:<{}} | sparse/dense\n", "", "dense", width, "sparse", width);
    fmt::print("{:>6} | {} | {} | time  FLOPs\n", "tokens", kLayerColumns, kLayerColumns);
  } else {
    fmt::print("{:>6} | {}\n", "tokens", kLayerColumns);
  }
  for (const auto& p : m.points) {
    if (!sparse) {
      fmt::print("{:>6} | {}\n", p.tokens, layer_cells(p.dense, p.tokens));
      continue;
    }
    fmt::print("{:>6} | {} | {} | {:.3f} {:.3f}\n", p.tokens, layer_cells(p.dense, p.tokens),
               layer_cells(*p.sparse, p.tokens), p.sparse->seconds / p.dense.seconds,
               p.sparse->cost.flops / p.dense.cost.flops);
  }
}

// Points whose 10th and 90th percentile passes differ by more than kNoisySpread of the median.
std::vector<std::int64_t> noisy_points(const profiler::measurement& m) {
  std::vector<std::int64_t> noisy;
  for (const auto& p : m.points) {
    const bool dense_noisy = p.dense.times.spread() > profiler::kNoisySpread;
    const bool sparse_noisy = p.sparse && p.sparse->times.spread() > profiler::kNoisySpread;
    if (dense_noisy || sparse_noisy) noisy.push_back(p.tokens);
  }
  return noisy;
}

void print_measurement(const profiler::measurement& m) {
  fmt::print("\nmeasured FFN layer, float32, on {} ({}): {}\n", m.backend, m.device,
             shapes_line(m.shapes));
  fmt::print("peak {:.1f} GFLOP/s (square GEMM, this run), bandwidth {:.1f} GB/s\n",
             m.peak_flops / 1e9, m.bandwidth_bytes / 1e9);
  print_measurement_table(m);
  fmt::print(
      "(per token; measured = median pass, spread = (p90 - p10) / median; roofline = "
      "max(FLOPs / peak, bytes / bandwidth); eff = roofline / measured{})\n",
      m.shapes.sparse ? "; sparse/dense FLOPs = the layer's active/total ratio" : "");
}

void warn_if_noisy(const profiler::measurement& m) {
  const auto noisy = noisy_points(m);
  if (noisy.empty()) return;
  fmt::print(stderr,
             "warning: timings varied by more than {:.0f}% at {} token{}: another process was "
             "probably using the CPU or GPU; rerun on an idle machine before quoting them\n",
             100 * profiler::kNoisySpread, fmt::join(noisy, ", "),
             noisy.size() == 1 && noisy.front() == 1 ? "" : "s");
}

}  // namespace

int profile_command(const profile_command_options& options) {
  if (options.context < 1 || options.batch < 1) {
    throw input_error("--context and --batch must be >= 1");
  }
  if (!(std::isfinite(options.bytes_per_param) && options.bytes_per_param > 0)) {
    throw input_error("--bytes-per-param must be a finite number > 0");
  }
  const auto config = load_config(options.model_config);
  const auto& gpu = profiler::find_gpu(options.device);
  const auto params = profiler::count_parameters(config);
  const auto flops = profiler::flops_per_token(config, options.context);
  const auto bytes =
      profiler::bytes_per_decoded_token(config, options.batch, options.bytes_per_param);
  const auto prefill =
      profiler::prefill_roofline(config, options.context, gpu, options.bytes_per_param);
  const auto decode = profiler::decode_roofline(config, options.batch, options.context, gpu,
                                                options.bytes_per_param);

  nlohmann::json out = profiler::to_json(config, options.context);
  out["model"] = options.model_config;
  out["created"] = utc_timestamp();
  out["build"] = build_context();  // "context" is the context length here
  out["batch"] = options.batch;
  out["bytes_per_param"] = options.bytes_per_param;
  out["decode_bytes"] = profiler::to_json(bytes);
  out["device"] = {{"name", gpu.name},
                   {"peak_flops", gpu.peak_flops},
                   {"bandwidth_bytes_per_s", gpu.bandwidth_bytes}};
  out["roofline"] = {{"prefill", profiler::to_json(prefill)},
                     {"decode", profiler::to_json(decode)}};
  out["batch_sweep"] = batch_sweep(config, options, gpu);
  std::optional<profiler::measurement> measured;
  if (options.measure) {
    profiler::measure_options measure;
    measure.backend = options.backend;
    measure.scale = options.scale;
    measure.tokens = options.tokens;
    measure.gpu = &gpu;
    measure.threads = options.threads;
    measured = profiler::measure_ffn(config, measure);
    out["measured"] = profiler::to_json(*measured);
    out["measured"]["noisy_points"] = noisy_points(*measured);
    warn_if_noisy(*measured);
  }
  out["conventions"] =
      "a multiply-add is 2 FLOPs; forward pass only; weights-only bytes (no KV cache); uniform "
      "expert routing; MFU = achieved tokens/s x flops_per_token / peak_flops";
  if (options.format == "json") {
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("{} ({}), context {}, batch {}, {} bytes/param, device {}\n", options.model_config,
             config.model_type, options.context, options.batch, options.bytes_per_param, gpu.name);
  fmt::print("parameters   total {}  active {}  ({:.1f}% active per token)\n",
             billions(static_cast<double>(params.total)),
             billions(static_cast<double>(params.active)),
             100.0 * static_cast<double>(params.active) / static_cast<double>(params.total));
  fmt::print(
      "  embeddings {}  attention {}  dense FFN {}  routed experts {}  shared experts {}  "
      "router {}  LM head {}\n",
      billions(static_cast<double>(params.embeddings)),
      billions(static_cast<double>(params.attention)),
      billions(static_cast<double>(params.dense_ffn)),
      billions(static_cast<double>(params.routed_experts)),
      billions(static_cast<double>(params.shared_experts)),
      billions(static_cast<double>(params.router)), billions(static_cast<double>(params.lm_head)));
  fmt::print(
      "forward FLOPs per token {:.2f} GFLOP (matmul {:.2f}, attention {:.2f}, LM head "
      "{:.2f}, router {:.4f})\n",
      flops.total / 1e9, flops.matmul / 1e9, flops.attention / 1e9, flops.lm_head / 1e9,
      flops.router / 1e9);
  fmt::print("weights read per decoded token {:.2f} GB", bytes.total / 1e9);
  if (config.is_moe()) {
    fmt::print(" (experts touched per MoE layer {:.2f})", bytes.expected_experts_per_layer);
  }
  fmt::print("\n");
  for (const auto& [name, point] : {std::pair{"prefill", prefill}, std::pair{"decode", decode}}) {
    fmt::print("{:<8} intensity {:>8.1f} FLOP/byte (ridge {:.1f}): {}-bound, {:.3g} s\n", name,
               point.arithmetic_intensity, point.ridge_point,
               point.compute_bound ? "compute" : "memory", point.time_s);
  }
  fmt::print("(a multiply-add is 2 FLOPs; weights-only bytes; uniform routing)\n");
  if (measured) print_measurement(*measured);
  return 0;
}

}  // namespace ys
