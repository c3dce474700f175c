#include "profiler/analytic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "harness/errors.h"

namespace ys::profiler {
namespace {

using json = nlohmann::json;

// A published figure printed as, e.g., "6.74B" is matched to its printed digits: the computed
// count must round to it, i.e. lie within half a unit of the last printed digit.
void expect_published(std::int64_t computed, double published, double last_digit) {
  EXPECT_LE(std::abs(static_cast<double>(computed) - published), last_digit / 2)
      << "computed " << computed << ", published " << published;
}

TEST(ProfilerParams, Llama2_7b) {
  const auto p = count_parameters(preset("llama-2-7b"));
  expect_published(p.total, 6.74e9, 0.01e9);
  EXPECT_EQ(p.total, p.active);
  EXPECT_EQ(p.routed_experts, 0);
}

TEST(ProfilerParams, Llama3_8b) {
  const auto p = count_parameters(preset("llama-3-8b"));
  expect_published(p.total, 8.03e9, 0.01e9);
  EXPECT_EQ(p.total, p.active);
}

TEST(ProfilerParams, Mixtral8x7b) {
  const auto p = count_parameters(preset("mixtral-8x7b"));
  expect_published(p.total, 46.7e9, 0.1e9);
  expect_published(p.active, 12.9e9, 0.1e9);
}

TEST(ProfilerParams, Qwen15MoeA27b) {
  const auto p = count_parameters(preset("qwen1.5-moe-a2.7b"));
  expect_published(p.total, 14.3e9, 0.1e9);
  expect_published(p.active, 2.7e9, 0.1e9);
  EXPECT_GT(p.shared_experts, 0);
}

TEST(ProfilerParams, DeepseekV3) {
  // The main model only; the published 685B on the model card adds the 14B MTP module.
  const auto p = count_parameters(preset("deepseek-v3"));
  expect_published(p.total, 671e9, 1e9);
  // "37B activated": our convention (embedding table counted as active) gives 37.55B, 1.5% over;
  // without the table, of which a token reads one row, it rounds to the printed 37B.
  EXPECT_NEAR(static_cast<double>(p.active), 37e9, 0.02 * 37e9);
  expect_published(p.active - p.embeddings, 37e9, 1e9);
  EXPECT_EQ(preset("deepseek-v3").moe_layer_count(), 58);
}

TEST(ProfilerParams, BreakdownSumsToTotal) {
  for (const auto& name : preset_names()) {
    const auto p = count_parameters(preset(name));
    EXPECT_EQ(p.embeddings + p.attention + p.dense_ffn + p.routed_experts + p.shared_experts +
                  p.router + p.lm_head + p.norms,
              p.total)
        << name;
    EXPECT_EQ(p.total - p.routed_experts + p.active_routed_experts, p.active) << name;
  }
}

TEST(ProfilerParams, TiedEmbeddingsHaveNoLmHead) {
  json config = preset_json("llama-2-7b");
  config["tie_word_embeddings"] = true;
  const auto tied = count_parameters(parse_config(config));
  const auto untied = count_parameters(preset("llama-2-7b"));
  EXPECT_EQ(tied.lm_head, 0);
  EXPECT_EQ(untied.total - tied.total, 32000LL * 4096);
}

TEST(ProfilerExperts, ExpectedDistinctExperts) {
  EXPECT_DOUBLE_EQ(expected_distinct_experts(8, 2, 1), 2.0);
  // B = 2: 8 x (1 - 0.75^2) = 3.5.
  EXPECT_DOUBLE_EQ(expected_distinct_experts(8, 2, 2), 3.5);
  EXPECT_NEAR(expected_distinct_experts(8, 2, 1000), 8.0, 1e-9);
  EXPECT_DOUBLE_EQ(expected_distinct_experts(8, 8, 1), 8.0);
}

// Hand-computed tiny dense model: hidden 8, FFN 16, 2 layers, 2 heads of 4, 1 KV head, vocab 10.
json tiny_llama() {
  return json{{"model_type", "llama"},  {"hidden_size", 8},         {"intermediate_size", 16},
              {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"num_key_value_heads", 1},
              {"vocab_size", 10}};
}

TEST(ProfilerFlops, TinyDenseByHand) {
  const auto c = parse_config(tiny_llama());
  // Per layer: q 8x8 + k 8x4 + v 8x4 + o 8x8 = 192; MLP 3 x 8 x 16 = 384.
  const auto f = flops_per_token(c, 5);
  EXPECT_DOUBLE_EQ(f.matmul, 2.0 * 2 * (192 + 384));
  EXPECT_DOUBLE_EQ(f.lm_head, 2.0 * 8 * 10);
  // 2 (q.k and p.v) x 2 FLOPs x 2 layers x 5 positions x attention width 8.
  EXPECT_DOUBLE_EQ(f.attention, 2.0 * 2 * 2 * 5 * 8);
  EXPECT_DOUBLE_EQ(f.router, 0.0);
  EXPECT_DOUBLE_EQ(f.total, 2304.0 + 160 + 320);
}

json tiny_mixtral() {
  return json{{"model_type", "mixtral"}, {"hidden_size", 8},         {"intermediate_size", 16},
              {"num_hidden_layers", 1},  {"num_attention_heads", 2}, {"num_key_value_heads", 2},
              {"vocab_size", 10},        {"num_local_experts", 4},   {"num_experts_per_tok", 2}};
}

TEST(ProfilerFlops, TinyMoeByHand) {
  const auto c = parse_config(tiny_mixtral());
  const auto p = count_parameters(c);
  // attention 4 x 64 = 256; one expert 384; router 8 x 4; norms 2 x 8 + 8.
  EXPECT_EQ(p.attention, 256);
  EXPECT_EQ(p.routed_experts, 4 * 384);
  EXPECT_EQ(p.router, 32);
  EXPECT_EQ(p.norms, 24);
  EXPECT_EQ(p.total, 80 + 80 + 256 + 1536 + 32 + 24);
  EXPECT_EQ(p.active, 80 + 80 + 256 + 768 + 32 + 24);
  const auto f = flops_per_token(c, 0);
  EXPECT_DOUBLE_EQ(f.matmul, 2.0 * (256 + 2 * 384));
  EXPECT_DOUBLE_EQ(f.router, 2.0 * 8 * 4);
  EXPECT_DOUBLE_EQ(f.attention, 0.0);
  EXPECT_DOUBLE_EQ(f.total, 2048.0 + 64 + 160);
}

TEST(ProfilerBytes, TinyMoeByHand) {
  const auto c = parse_config(tiny_mixtral());
  // Streamed non-expert weights: 2008 - 1536 experts - 80 embedding table = 392, plus one
  // embedding row of 8, at 2 bytes each.
  const auto b1 = bytes_per_decoded_token(c, 1, 2.0);
  EXPECT_DOUBLE_EQ(b1.non_expert, 400.0 * 2);
  EXPECT_DOUBLE_EQ(b1.expected_experts_per_layer, 2.0);
  EXPECT_DOUBLE_EQ(b1.routed_experts, 2.0 * 384 * 2);
  // B = 2: 4 x (1 - 0.5^2) = 3 experts for the step, shared by 2 tokens.
  const auto b2 = bytes_per_decoded_token(c, 2, 2.0);
  EXPECT_DOUBLE_EQ(b2.non_expert, (392.0 / 2 + 8) * 2);
  EXPECT_DOUBLE_EQ(b2.expected_experts_per_layer, 3.0);
  EXPECT_DOUBLE_EQ(b2.routed_experts, 3.0 * 384 / 2 * 2);
  EXPECT_THROW(bytes_per_decoded_token(c, 0, 2.0), ys::input_error);
}

TEST(ProfilerBytes, DenseModelAtBatchOneReadsAllButTheTable) {
  const auto c = preset("llama-2-7b");
  const auto p = count_parameters(c);
  const auto b = bytes_per_decoded_token(c, 1, 2.0);
  EXPECT_DOUBLE_EQ(b.total, static_cast<double>(p.total - p.embeddings + c.hidden_size) * 2);
}

TEST(ProfilerRoofline, DecodeIsMemoryBoundAndPrefillComputeBound) {
  const auto c = preset("llama-3-8b");
  const auto& h100 = find_gpu("h100-sxm");
  const auto decode = decode_roofline(c, 1, 1024, h100, 2.0);
  EXPECT_FALSE(decode.compute_bound);
  EXPECT_NEAR(decode.arithmetic_intensity, 1.0, 0.2);  // ~2 FLOPs per 2-byte weight
  const auto prefill = prefill_roofline(c, 4096, h100, 2.0);
  EXPECT_TRUE(prefill.compute_bound);
  EXPECT_NEAR(prefill.ridge_point, 989e12 / 3.35e12, 1e-9);
  EXPECT_EQ(known_gpus().size(), 5u);
  EXPECT_THROW(find_gpu("tpu"), ys::input_error);
}

TEST(ProfilerRoofline, PrefillSumsAttentionOverPositions) {
  const auto c = parse_config(tiny_llama());
  const gpu_spec gpu{"test", 1e12, 1e12};
  const auto r = prefill_roofline(c, 3, gpu, 2.0);
  const double expected =
      flops_per_token(c, 1).total + flops_per_token(c, 2).total + flops_per_token(c, 3).total;
  EXPECT_DOUBLE_EQ(r.flops, expected);
}

std::string error_of(const json& config) {
  try {
    (void)parse_config(config, "m/config.json");
  } catch (const ys::input_error& e) {
    return e.what();
  }
  return "";
}

TEST(ProfilerConfig, ErrorsNameTheField) {
  json unknown = tiny_llama();
  unknown["model_type"] = "gpt2";
  EXPECT_NE(error_of(unknown).find("field 'model_type'"), std::string::npos) << error_of(unknown);
  EXPECT_NE(error_of(unknown).find("m/config.json"), std::string::npos);

  json missing = tiny_llama();
  missing.erase("hidden_size");
  EXPECT_NE(error_of(missing).find("field 'hidden_size'"), std::string::npos);

  json wrong_type = tiny_llama();
  wrong_type["vocab_size"] = "many";
  EXPECT_NE(error_of(wrong_type).find("field 'vocab_size'"), std::string::npos);

  json no_experts = tiny_mixtral();
  no_experts.erase("num_local_experts");
  EXPECT_NE(error_of(no_experts).find("field 'num_local_experts'"), std::string::npos);

  json mla = preset_json("deepseek-v3");
  mla.erase("kv_lora_rank");
  EXPECT_NE(error_of(mla).find("field 'kv_lora_rank'"), std::string::npos);

  json too_many = tiny_mixtral();
  too_many["num_experts_per_tok"] = 5;
  EXPECT_NE(error_of(too_many).find("field 'num_experts_per_tok'"), std::string::npos);

  EXPECT_NE(error_of(json::array()), "");
  EXPECT_THROW(preset("gpt-5"), ys::input_error);
}

TEST(ProfilerConfig, Qwen2MoeLayerSelection) {
  json config = preset_json("qwen1.5-moe-a2.7b");
  config["mlp_only_layers"] = json::array({0, 1});
  config["decoder_sparse_step"] = 2;
  const auto c = parse_config(config);
  // Layers 1, 3, 5, ... are sparse by step; layer 1 is forced dense: 12 - 1 = 11.
  EXPECT_EQ(c.moe_layer_count(), 11);
  EXPECT_TRUE(c.attention_bias);
}

TEST(ProfilerConfig, Qwen3MoeParses) {
  const json config{{"model_type", "qwen3_moe"},
                    {"hidden_size", 8},
                    {"intermediate_size", 16},
                    {"num_hidden_layers", 2},
                    {"num_attention_heads", 2},
                    {"num_key_value_heads", 1},
                    {"head_dim", 6},
                    {"vocab_size", 10},
                    {"num_experts", 4},
                    {"num_experts_per_tok", 2},
                    {"moe_intermediate_size", 4}};
  const auto c = parse_config(config);
  const auto p = count_parameters(c);
  // q 8x12 + k 8x6 + v 8x6 + o 12x8 = 288 per layer, no biases.
  EXPECT_EQ(p.attention, 2 * 288);
  EXPECT_EQ(p.norms, 8 + 2 * (16 + 12));  // final + (2 layer norms + q/k norms of 6) per layer
  EXPECT_EQ(c.moe_layer_count(), 2);
}

TEST(ProfilerJson, CarriesTheHeadlineFields) {
  const auto c = preset("mixtral-8x7b");
  const json j = to_json(c, 4096);
  EXPECT_EQ(j.at("schema_version"), kProfilerSchemaVersion);
  EXPECT_EQ(j.at("total_params").get<std::int64_t>(), count_parameters(c).total);
  EXPECT_EQ(j.at("active_params").get<std::int64_t>(), count_parameters(c).active);
  EXPECT_DOUBLE_EQ(j.at("flops_per_token").get<double>(), flops_per_token(c, 4096).total);
  EXPECT_TRUE(j.at("parameters").contains("routed_experts"));
  EXPECT_TRUE(j.at("flops").contains("attention"));
  EXPECT_EQ(to_json(decode_roofline(c, 1, 1, find_gpu("h200"), 2.0)).at("bound"), "memory");
}

}  // namespace
}  // namespace ys::profiler
