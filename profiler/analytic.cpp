#include "profiler/analytic.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "harness/errors.h"

namespace ys::profiler {

namespace {

using json = nlohmann::json;
using i64 = std::int64_t;

// Hugging Face config.json values (hidden sizes, layer counts, vocabularies) of the published
// checkpoints, reduced to the fields the cost model reads.
const std::map<std::string, std::string, std::less<>>& preset_texts() {
  static const std::map<std::string, std::string, std::less<>> kPresets = {
      {"llama-2-7b", R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
        "vocab_size": 32000, "tie_word_embeddings": false})"},
      {"llama-3-8b", R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "vocab_size": 128256, "tie_word_embeddings": false})"},
      {"mixtral-8x7b", R"({"model_type": "mixtral", "hidden_size": 4096,
        "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 8, "vocab_size": 32000, "tie_word_embeddings": false,
        "num_local_experts": 8, "num_experts_per_tok": 2})"},
      {"qwen1.5-moe-a2.7b", R"({"model_type": "qwen2_moe", "hidden_size": 2048,
        "intermediate_size": 5632, "num_hidden_layers": 24, "num_attention_heads": 16,
        "num_key_value_heads": 16, "vocab_size": 151936, "tie_word_embeddings": false,
        "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408,
        "shared_expert_intermediate_size": 5632, "decoder_sparse_step": 1,
        "mlp_only_layers": []})"},
      {"deepseek-v3", R"({"model_type": "deepseek_v3", "hidden_size": 7168,
        "intermediate_size": 18432, "num_hidden_layers": 61, "num_attention_heads": 128,
        "num_key_value_heads": 128, "vocab_size": 129280, "tie_word_embeddings": false,
        "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
        "moe_intermediate_size": 2048, "first_k_dense_replace": 3, "moe_layer_freq": 1,
        "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64, "v_head_dim": 128})"},
  };
  return kPresets;
}

[[noreturn]] void fail(std::string_view source, std::string_view field, std::string_view problem) {
  throw input_error(source, 0, field, problem);
}

// Reads an integer field. A missing or null field yields `fallback` when one is given.
i64 read_int(const json& config, std::string_view source, const char* field,
             std::optional<i64> fallback = std::nullopt) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) {
    if (fallback) return *fallback;
    fail(source, field, "missing required field");
  }
  if (!it->is_number_integer()) fail(source, field, "expected an integer");
  i64 value = it->get<i64>();
  if (value < 0) fail(source, field, "must not be negative");
  return value;
}

i64 read_positive(const json& config, std::string_view source, const char* field) {
  i64 value = read_int(config, source, field);
  if (value == 0) fail(source, field, "must be positive");
  return value;
}

bool read_bool(const json& config, std::string_view source, const char* field, bool fallback) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail(source, field, "expected true or false");
  return it->get<bool>();
}

// Weight matrices of one attention block, without biases.
i64 attention_weights(const model_config& c) {
  const i64 h = c.hidden_size;
  const i64 nh = c.num_attention_heads;
  if (c.uses_mla()) {
    const i64 qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
    const i64 q = c.q_lora_rank > 0 ? h * c.q_lora_rank + c.q_lora_rank * nh * qk : h * nh * qk;
    const i64 kv_a = h * (c.kv_lora_rank + c.qk_rope_head_dim);
    const i64 kv_b = c.kv_lora_rank * nh * (c.qk_nope_head_dim + c.v_head_dim);
    const i64 o = nh * c.v_head_dim * h;
    return q + kv_a + kv_b + o;
  }
  const i64 q_width = nh * c.head_dim;
  const i64 kv_width = c.num_key_value_heads * c.head_dim;
  return h * q_width + 2 * h * kv_width + q_width * h;
}

i64 attention_biases(const model_config& c) {
  if (!c.attention_bias || c.uses_mla()) return 0;
  const i64 q_width = c.num_attention_heads * c.head_dim;
  const i64 kv_width = c.num_key_value_heads * c.head_dim;
  i64 biases = q_width + 2 * kv_width;
  // Qwen2 puts biases on q, k, v only; Llama's `attention_bias` adds one to o_proj as well.
  if (c.model_type == "llama" || c.model_type == "mistral") biases += c.hidden_size;
  return biases;
}

i64 attention_norms(const model_config& c) {
  if (c.uses_mla()) return c.q_lora_rank + c.kv_lora_rank;
  if (c.qk_norm) return 2 * c.head_dim;
  return 0;
}

// Gated (SwiGLU) MLP: gate, up and down projections.
i64 mlp_weights(i64 hidden, i64 width) {
  return 3 * hidden * width;
}

i64 expert_weights(const model_config& c) {
  return mlp_weights(c.hidden_size, c.moe_intermediate_size);
}

i64 shared_weights_per_layer(const model_config& c) {
  return mlp_weights(c.hidden_size, c.shared_expert_intermediate_size) +
         c.n_shared_experts * expert_weights(c);
}

i64 router_params_per_layer(const model_config& c) {
  i64 router = c.hidden_size * c.num_experts;
  if (c.shared_expert_gate) router += c.hidden_size;
  if (c.router_bias) router += c.num_experts;
  return router;
}

}  // namespace

bool model_config::is_moe_layer(i64 layer) const {
  if (!is_moe()) return false;
  if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) != mlp_only_layers.end())
    return false;
  if (layer < first_k_dense_replace) return false;
  if (model_type == "deepseek_v3") return moe_layer_freq > 0 && layer % moe_layer_freq == 0;
  return decoder_sparse_step > 0 && (layer + 1) % decoder_sparse_step == 0;
}

i64 model_config::moe_layer_count() const {
  i64 count = 0;
  for (i64 layer = 0; layer < num_hidden_layers; ++layer)
    count += is_moe_layer(layer) ? 1 : 0;
  return count;
}

model_config parse_config(const json& config, std::string_view source) {
  if (!config.is_object()) fail(source, "", "expected a JSON object");
  auto type_it = config.find("model_type");
  if (type_it == config.end() || !type_it->is_string())
    fail(source, "model_type", "missing required field");
  model_config c;
  c.model_type = type_it->get<std::string>();
  static const std::vector<std::string_view> kFamilies = {
      "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3_moe", "deepseek_v3"};
  if (std::find(kFamilies.begin(), kFamilies.end(), c.model_type) == kFamilies.end())
    fail(source, "model_type",
         fmt::format("unsupported model_type '{}' (supported: {})", c.model_type,
                     fmt::join(kFamilies, ", ")));

  c.hidden_size = read_positive(config, source, "hidden_size");
  c.intermediate_size = read_positive(config, source, "intermediate_size");
  c.num_hidden_layers = read_positive(config, source, "num_hidden_layers");
  c.num_attention_heads = read_positive(config, source, "num_attention_heads");
  c.num_key_value_heads = read_int(config, source, "num_key_value_heads", c.num_attention_heads);
  if (c.num_key_value_heads == 0) fail(source, "num_key_value_heads", "must be positive");
  c.vocab_size = read_positive(config, source, "vocab_size");
  c.tie_word_embeddings = read_bool(config, source, "tie_word_embeddings", false);
  c.head_dim = read_int(config, source, "head_dim", 0);
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_attention_heads != 0)
      fail(source, "head_dim", "missing and hidden_size is not a multiple of num_attention_heads");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  const bool qwen2_family = c.model_type == "qwen2" || c.model_type == "qwen2_moe";
  c.attention_bias = read_bool(config, source, "attention_bias", qwen2_family);

  if (c.model_type == "mixtral") {
    c.num_experts = read_positive(config, source, "num_local_experts");
    c.num_experts_per_tok = read_positive(config, source, "num_experts_per_tok");
    c.moe_intermediate_size = c.intermediate_size;  // every Mixtral FFN is an expert
  } else if (c.model_type == "qwen2_moe" || c.model_type == "qwen3_moe") {
    c.num_experts = read_positive(config, source, "num_experts");
    c.num_experts_per_tok = read_positive(config, source, "num_experts_per_tok");
    c.moe_intermediate_size = read_positive(config, source, "moe_intermediate_size");
    c.decoder_sparse_step = read_int(config, source, "decoder_sparse_step", 1);
    if (c.decoder_sparse_step == 0) fail(source, "decoder_sparse_step", "must be positive");
    if (auto it = config.find("mlp_only_layers"); it != config.end() && !it->is_null()) {
      if (!it->is_array()) fail(source, "mlp_only_layers", "expected an array of layer indices");
      for (const auto& layer : *it) {
        if (!layer.is_number_integer()) fail(source, "mlp_only_layers", "expected integers");
        c.mlp_only_layers.push_back(layer.get<i64>());
      }
    }
    if (c.model_type == "qwen2_moe") {
      c.shared_expert_intermediate_size =
          read_int(config, source, "shared_expert_intermediate_size");
      c.shared_expert_gate = c.shared_expert_intermediate_size > 0;
    } else {
      c.qk_norm = true;
    }
  } else if (c.model_type == "deepseek_v3") {
    c.num_experts = read_positive(config, source, "n_routed_experts");
    c.num_experts_per_tok = read_positive(config, source, "num_experts_per_tok");
    c.moe_intermediate_size = read_positive(config, source, "moe_intermediate_size");
    c.n_shared_experts = read_int(config, source, "n_shared_experts");
    c.first_k_dense_replace = read_int(config, source, "first_k_dense_replace", 0);
    c.moe_layer_freq = read_int(config, source, "moe_layer_freq", 1);
    if (c.moe_layer_freq == 0) fail(source, "moe_layer_freq", "must be positive");
    c.router_bias = true;  // e_score_correction_bias of the aux-loss-free router
    c.q_lora_rank = read_int(config, source, "q_lora_rank", 0);
    c.kv_lora_rank = read_positive(config, source, "kv_lora_rank");
    c.qk_nope_head_dim = read_positive(config, source, "qk_nope_head_dim");
    c.qk_rope_head_dim = read_positive(config, source, "qk_rope_head_dim");
    c.v_head_dim = read_positive(config, source, "v_head_dim");
  }
  if (c.is_moe() && c.num_experts_per_tok > c.num_experts)
    fail(source, "num_experts_per_tok", "exceeds the number of routed experts");
  return c;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : preset_texts())
    names.push_back(name);
  return names;
}

json preset_json(std::string_view name) {
  const auto& presets = preset_texts();
  auto it = presets.find(name);
  if (it == presets.end())
    throw input_error(fmt::format("unknown model preset '{}' (known: {})", name,
                                  fmt::join(preset_names(), ", ")));
  return json::parse(it->second);
}

model_config preset(std::string_view name) {
  return parse_config(preset_json(name), fmt::format("preset {}", name));
}

parameter_breakdown count_parameters(const model_config& c) {
  parameter_breakdown p;
  const i64 h = c.hidden_size;
  p.embeddings = c.vocab_size * h;
  p.lm_head = c.tie_word_embeddings ? 0 : c.vocab_size * h;
  p.norms = h;  // the final norm
  for (i64 layer = 0; layer < c.num_hidden_layers; ++layer) {
    p.attention += attention_weights(c) + attention_biases(c);
    p.norms += 2 * h + attention_norms(c);  // input and post-attention norms
    if (c.is_moe_layer(layer)) {
      p.routed_experts += c.num_experts * expert_weights(c);
      p.active_routed_experts += c.num_experts_per_tok * expert_weights(c);
      p.shared_experts += shared_weights_per_layer(c);
      p.router += router_params_per_layer(c);
    } else {
      p.dense_ffn += mlp_weights(h, c.intermediate_size);
    }
  }
  const i64 non_expert = p.embeddings + p.attention + p.dense_ffn + p.router + p.lm_head + p.norms;
  p.total = non_expert + p.shared_experts + p.routed_experts;
  p.active = non_expert + p.shared_experts + p.active_routed_experts;
  return p;
}

flops_breakdown flops_per_token(const model_config& c, i64 context) {
  flops_breakdown f;
  const double h = static_cast<double>(c.hidden_size);
  const double n = static_cast<double>(std::max<i64>(context, 0));
  const double qk_dim =
      static_cast<double>(c.uses_mla() ? c.qk_nope_head_dim + c.qk_rope_head_dim : c.head_dim);
  const double v_dim = static_cast<double>(c.uses_mla() ? c.v_head_dim : c.head_dim);
  const double heads = static_cast<double>(c.num_attention_heads);
  for (i64 layer = 0; layer < c.num_hidden_layers; ++layer) {
    double weights = static_cast<double>(attention_weights(c));
    if (c.is_moe_layer(layer)) {
      weights += static_cast<double>(shared_weights_per_layer(c) +
                                     c.num_experts_per_tok * expert_weights(c));
      double router = h * static_cast<double>(c.num_experts);
      if (c.shared_expert_gate) router += h;
      f.router += 2 * router;
    } else {
      weights += static_cast<double>(mlp_weights(c.hidden_size, c.intermediate_size));
    }
    f.matmul += 2 * weights;
    f.attention += 2 * n * heads * (qk_dim + v_dim);
  }
  f.lm_head = 2 * h * static_cast<double>(c.vocab_size);
  f.total = f.matmul + f.lm_head + f.attention + f.router;
  return f;
}

double expected_distinct_experts(i64 experts, i64 k, i64 batch) {
  if (experts <= 0 || k <= 0 || batch <= 0) return 0;
  const double e = static_cast<double>(experts);
  const double miss = 1.0 - static_cast<double>(std::min(k, experts)) / e;
  return e * (1.0 - std::pow(miss, static_cast<double>(batch)));
}

decode_bytes bytes_per_decoded_token(const model_config& c, i64 batch, double bytes_per_param) {
  if (batch <= 0) throw input_error(fmt::format("batch must be positive, got {}", batch));
  decode_bytes b;
  const parameter_breakdown p = count_parameters(c);
  const double per_step = static_cast<double>(batch);
  double streamed = static_cast<double>(p.total - p.routed_experts - p.embeddings);
  if (c.tie_word_embeddings) streamed += static_cast<double>(p.embeddings);  // read as lm_head
  b.non_expert = (streamed / per_step + static_cast<double>(c.hidden_size)) * bytes_per_param;
  if (c.is_moe()) {
    b.expected_experts_per_layer =
        expected_distinct_experts(c.num_experts, c.num_experts_per_tok, batch);
    b.routed_experts = b.expected_experts_per_layer * static_cast<double>(expert_weights(c)) *
                       static_cast<double>(c.moe_layer_count()) / per_step * bytes_per_param;
  }
  b.total = b.non_expert + b.routed_experts;
  return b;
}

const std::vector<gpu_spec>& known_gpus() {
  // Dense BF16 tensor-core peaks (the data sheets print the 2:4-sparsity figure, twice these)
  // and memory bandwidth, from NVIDIA's data sheets; the RTX 4090 figure is BF16 with FP32
  // accumulate from the Ada architecture whitepaper.
  static const std::vector<gpu_spec> kGpus = {
      {"h100-sxm", 989e12, 3.35e12},   {"h200", 989e12, 4.8e12},
      {"a100-80gb", 312e12, 2.039e12}, {"l4", 121e12, 300e9},
      {"rtx-4090", 165.2e12, 1008e9},
  };
  return kGpus;
}

const gpu_spec& find_gpu(std::string_view name) {
  for (const auto& gpu : known_gpus())
    if (gpu.name == name) return gpu;
  std::vector<std::string> names;
  for (const auto& gpu : known_gpus())
    names.push_back(gpu.name);
  throw input_error(fmt::format("unknown GPU '{}' (known: {})", name, fmt::join(names, ", ")));
}

roofline_point roofline(double flops, double bytes, const gpu_spec& gpu) {
  roofline_point r;
  r.flops = flops;
  r.bytes = bytes;
  r.arithmetic_intensity = bytes > 0 ? flops / bytes : 0;
  r.ridge_point = gpu.bandwidth_bytes > 0 ? gpu.peak_flops / gpu.bandwidth_bytes : 0;
  const double compute_s = gpu.peak_flops > 0 ? flops / gpu.peak_flops : 0;
  const double memory_s = gpu.bandwidth_bytes > 0 ? bytes / gpu.bandwidth_bytes : 0;
  r.compute_bound = compute_s >= memory_s;
  r.time_s = std::max(compute_s, memory_s);
  return r;
}

roofline_point prefill_roofline(const model_config& c, i64 prompt_tokens, const gpu_spec& gpu,
                                double bytes_per_param) {
  if (prompt_tokens <= 0)
    throw input_error(fmt::format("prompt_tokens must be positive, got {}", prompt_tokens));
  // FLOPs are linear in the context, so the sum over token i attending to i positions is the
  // context-free part times P plus the per-position part times P(P+1)/2.
  const flops_breakdown at_zero = flops_per_token(c, 0);
  const double per_position = flops_per_token(c, 1).attention;
  const double p = static_cast<double>(prompt_tokens);
  const double flops = at_zero.total * p + per_position * p * (p + 1) / 2;
  const double bytes = bytes_per_decoded_token(c, prompt_tokens, bytes_per_param).total * p;
  return roofline(flops, bytes, gpu);
}

roofline_point decode_roofline(const model_config& c, i64 batch, i64 context, const gpu_spec& gpu,
                               double bytes_per_param) {
  const double b = static_cast<double>(batch);
  const double flops = flops_per_token(c, context).total * b;
  const double bytes = bytes_per_decoded_token(c, batch, bytes_per_param).total * b;
  return roofline(flops, bytes, gpu);
}

json to_json(const parameter_breakdown& p) {
  return json{{"embeddings", p.embeddings},
              {"attention", p.attention},
              {"dense_ffn", p.dense_ffn},
              {"routed_experts", p.routed_experts},
              {"active_routed_experts", p.active_routed_experts},
              {"shared_experts", p.shared_experts},
              {"router", p.router},
              {"lm_head", p.lm_head},
              {"norms", p.norms},
              {"total", p.total},
              {"active", p.active}};
}

json to_json(const flops_breakdown& f) {
  return json{{"matmul", f.matmul},
              {"lm_head", f.lm_head},
              {"attention", f.attention},
              {"router", f.router},
              {"total", f.total}};
}

json to_json(const decode_bytes& b) {
  return json{{"non_expert", b.non_expert},
              {"routed_experts", b.routed_experts},
              {"expected_experts_per_layer", b.expected_experts_per_layer},
              {"total", b.total}};
}

json to_json(const roofline_point& r) {
  return json{{"flops", r.flops},
              {"bytes", r.bytes},
              {"arithmetic_intensity", r.arithmetic_intensity},
              {"ridge_point", r.ridge_point},
              {"bound", r.compute_bound ? "compute" : "memory"},
              {"time_s", r.time_s}};
}

json to_json(const model_config& c, i64 context) {
  const parameter_breakdown p = count_parameters(c);
  const flops_breakdown f = flops_per_token(c, context);
  return json{{"schema_version", kProfilerSchemaVersion},
              {"model_type", c.model_type},
              {"total_params", p.total},
              {"active_params", p.active},
              {"context", context},
              {"flops_per_token", f.total},
              {"parameters", to_json(p)},
              {"flops", to_json(f)},
              {"decode_bytes",
               {{"batch", 1},
                {"bytes_per_param", 2},
                {"per_token", to_json(bytes_per_decoded_token(c, 1, 2.0))}}}};
}

}  // namespace ys::profiler
