// Analytic cost model for decoder-only transformers, dense and mixture-of-experts: parameter
// counts (total and active per token), forward FLOPs per token, weight bytes read per decoded
// token, and a roofline verdict. Everything is computed from a Hugging Face `config.json`; no
// weights are loaded and nothing is measured here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ys::profiler {

// 2: adds batch_sweep and, with --measure, measured.
inline constexpr int kProfilerSchemaVersion = 2;

// The subset of a config.json that decides parameter counts and costs. Fields a family does not
// use stay 0. Parsing applies the Hugging Face defaults where a field is optional there.
struct model_config {
  std::string model_type;  // llama, mistral, mixtral, qwen2, qwen2_moe, qwen3_moe, deepseek_v3
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;  // dense FFN width (Mixtral: the width of one expert)
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  std::int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  std::int64_t vocab_size = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (qwen2, qwen2_moe); `attention_bias` if present
  bool qk_norm = false;         // per-head RMSNorm on q and k (qwen3_moe)

  // Mixture of experts. num_experts == 0 means a dense model.
  std::int64_t num_experts = 0;  // routed experts: num_local_experts / num_experts / n_routed
  std::int64_t num_experts_per_tok = 0;
  std::int64_t moe_intermediate_size = 0;            // width of one routed expert
  std::int64_t shared_expert_intermediate_size = 0;  // qwen2_moe: one shared expert this wide
  std::int64_t n_shared_experts = 0;  // deepseek_v3: shared experts of moe_intermediate_size
  bool shared_expert_gate = false;    // qwen2_moe: a hidden -> 1 sigmoid gate on the shared expert
  bool router_bias = false;           // deepseek_v3: e_score_correction_bias, one per expert
  std::int64_t first_k_dense_replace = 0;     // deepseek_v3: the first k layers are dense
  std::int64_t moe_layer_freq = 1;            // deepseek_v3
  std::int64_t decoder_sparse_step = 1;       // qwen2_moe / qwen3_moe
  std::vector<std::int64_t> mlp_only_layers;  // qwen2_moe / qwen3_moe: forced dense layers

  // DeepSeek multi-head latent attention (MLA); kv_lora_rank > 0 turns it on.
  std::int64_t q_lora_rank = 0;  // 0 (null in JSON): q is a direct hidden -> heads projection
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;

  [[nodiscard]] bool is_moe() const { return num_experts > 0; }
  [[nodiscard]] bool uses_mla() const { return kv_lora_rank > 0; }
  [[nodiscard]] bool is_moe_layer(std::int64_t layer) const;
  [[nodiscard]] std::int64_t moe_layer_count() const;
};

// Throws ys::input_error naming the field for an unknown model_type, a missing required field or
// a field of the wrong type. `source` names the file in the message.
model_config parse_config(const nlohmann::json& config, std::string_view source = "config.json");

// Built-in presets: llama-2-7b, llama-3-8b, mixtral-8x7b, qwen1.5-moe-a2.7b, deepseek-v3.
std::vector<std::string> preset_names();
nlohmann::json preset_json(std::string_view name);  // throws ys::input_error for an unknown name
model_config preset(std::string_view name);

// Parameter counts. Convention: the embedding table is counted in both `total` and `active` (as
// the published "activated parameters" figures do), although a token only reads one row of it.
// `lm_head` is 0 when tied to the embeddings. `active` = every non-expert parameter (embeddings,
// attention, dense FFN layers, router, norms, lm_head) + the shared experts + top-k routed experts
// in each MoE layer. Attention includes its biases and MLA's low-rank projections; the MLA
// low-rank norms and qwen3's q/k norms are in `norms`. The qwen2_moe shared-expert gate and
// DeepSeek's expert score bias are in `router`.
struct parameter_breakdown {
  std::int64_t embeddings = 0;
  std::int64_t attention = 0;
  std::int64_t dense_ffn = 0;
  std::int64_t routed_experts = 0;  // all routed experts, every MoE layer
  std::int64_t shared_experts = 0;
  std::int64_t router = 0;
  std::int64_t lm_head = 0;
  std::int64_t norms = 0;
  std::int64_t total = 0;
  std::int64_t active = 0;
  std::int64_t active_routed_experts = 0;  // top-k routed experts, every MoE layer
};

parameter_breakdown count_parameters(const model_config& config);

// Forward FLOPs for one token that attends to `context` positions (itself included), with a
// multiply-add counted as 2 FLOPs and bias adds, norms, activations and softmax ignored.
//   matmul    = 2 x (active weight-matrix parameters in the layers: attention projections, dense
//               FFN, shared experts, top-k routed experts; no biases, no router, no embeddings)
//   lm_head   = 2 x hidden_size x vocab_size (also when tied)
//   attention = 2 x n_layers x context x n_heads x (qk_head_dim + v_head_dim): the score
//               matmul q.k and the value matmul p.v. For standard attention qk = v = head_dim,
//               so this is 2 x 2 x n_layers x context x (n_heads x head_dim). MLA is counted in
//               its unabsorbed form: qk = qk_nope + qk_rope, v = v_head_dim.
//   router    = 2 x hidden_size x num_experts per MoE layer (+ the qwen2_moe shared gate)
struct flops_breakdown {
  double matmul = 0;
  double lm_head = 0;
  double attention = 0;
  double router = 0;
  double total = 0;
};

flops_breakdown flops_per_token(const model_config& config, std::int64_t context);

// Expected distinct experts that a batch of `batch` tokens touches in one MoE layer when each
// token picks `k` of `experts` uniformly at random: E x (1 - (1 - k/E)^B). Each expert is missed
// by one token with probability 1 - k/E, and tokens route independently.
double expected_distinct_experts(std::int64_t experts, std::int64_t k, std::int64_t batch);

// Weight bytes read from memory per decoded token in a decode step of `batch` sequences:
// - the non-expert weights (attention, dense FFN, shared experts, router, norms, lm_head) are
//   read once per step and shared by the batch, so per token they cost weights / B;
// - the embedding table is not streamed: each token reads its own row (hidden_size values), but
//   a tied table is read in full as the lm_head;
// - in each MoE layer the step reads the expected distinct experts (above) once, so per token
//   that is expected_distinct x expert_params / B.
// KV-cache and activation traffic are not included: these are weight bytes only.
struct decode_bytes {
  double non_expert = 0;
  double routed_experts = 0;
  double expected_experts_per_layer = 0;  // 0 for a dense model
  double total = 0;
};

decode_bytes bytes_per_decoded_token(const model_config& config, std::int64_t batch,
                                     double bytes_per_param);

// Roofline. Peak numbers are the vendor data-sheet figures: dense (no structured sparsity) BF16
// tensor throughput and memory bandwidth.
struct gpu_spec {
  std::string name;
  double peak_flops = 0;       // FLOP/s
  double bandwidth_bytes = 0;  // bytes/s
};

const std::vector<gpu_spec>& known_gpus();
const gpu_spec& find_gpu(std::string_view name);  // throws ys::input_error for an unknown name

struct roofline_point {
  double flops = 0;
  double bytes = 0;
  double arithmetic_intensity = 0;  // flops / bytes
  double ridge_point = 0;           // peak_flops / bandwidth: the intensity where the bounds meet
  bool compute_bound = false;
  double time_s = 0;  // max(flops / peak, bytes / bandwidth)
};

roofline_point roofline(double flops, double bytes, const gpu_spec& gpu);

// Prefill of one prompt of `prompt_tokens`: token i (1-based) attends to i positions, all the
// expected distinct experts for `prompt_tokens` tokens are read once, as are the other weights.
roofline_point prefill_roofline(const model_config& config, std::int64_t prompt_tokens,
                                const gpu_spec& gpu, double bytes_per_param);
// One decode step of `batch` sequences, each attending to `context` positions.
roofline_point decode_roofline(const model_config& config, std::int64_t batch, std::int64_t context,
                               const gpu_spec& gpu, double bytes_per_param);

nlohmann::json to_json(const parameter_breakdown& params);
nlohmann::json to_json(const flops_breakdown& flops);
nlohmann::json to_json(const decode_bytes& bytes);
nlohmann::json to_json(const roofline_point& point);
// The whole profile: schema_version, model_type, total_params, active_params, context,
// flops_per_token (forward, at `context`), parameters, flops, decode_bytes (batch 1, bf16).
nlohmann::json to_json(const model_config& config, std::int64_t context);

}  // namespace ys::profiler
