#include "cli/profile_command.h"

#include <filesystem>

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/run_files.h"
#include "profiler/analytic.h"

namespace ys {

namespace {

profiler::model_config load_config(const std::string& name_or_path) {
  if (std::filesystem::exists(name_or_path)) {
    const auto text = read_text_file(name_or_path, "model config");
    return profiler::parse_config(parse_json_text(text, name_or_path), name_or_path);
  }
  return profiler::preset(name_or_path);
}

std::string billions(double count) {
  return fmt::format("{:.2f}B", count / 1e9);
}

}  // namespace

int profile_command(const profile_command_options& options) {
  if (options.context < 1 || options.batch < 1) {
    throw input_error("--context and --batch must be >= 1");
  }
  if (options.bytes_per_param <= 0) throw input_error("--bytes-per-param must be > 0");
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
  out["batch"] = options.batch;
  out["bytes_per_param"] = options.bytes_per_param;
  out["decode_bytes"] = profiler::to_json(bytes);
  out["device"] = {{"name", gpu.name},
                   {"peak_flops", gpu.peak_flops},
                   {"bandwidth_bytes_per_s", gpu.bandwidth_bytes}};
  out["roofline"] = {{"prefill", profiler::to_json(prefill)},
                     {"decode", profiler::to_json(decode)}};
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
  fmt::print("weights read per decoded token {:.2f} GB (experts touched per MoE layer {:.2f})\n",
             bytes.total / 1e9, bytes.expected_experts_per_layer);
  for (const auto& [name, point] : {std::pair{"prefill", prefill}, std::pair{"decode", decode}}) {
    fmt::print("{:<8} intensity {:>8.1f} FLOP/byte (ridge {:.1f}): {}-bound, {:.3g} s\n", name,
               point.arithmetic_intensity, point.ridge_point,
               point.compute_bound ? "compute" : "memory", point.time_s);
  }
  fmt::print(
      "(a multiply-add is 2 FLOPs; weights-only bytes; uniform routing; analytic only: "
      "measured kernels are not built yet)\n");
  return 0;
}

}  // namespace ys
