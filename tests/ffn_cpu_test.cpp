#include "profiler/ffn_cpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "profiler/ffn.h"

namespace ys::profiler {
namespace {

constexpr double kFloat32Tolerance = 1e-5;

std::vector<float> cpu_dense(const dense_ffn_weights& w, const std::vector<float>& x,
                             std::int64_t tokens) {
  cpu::dense_ffn layer(w);
  std::vector<float> y(x.size());
  layer.forward(x.data(), tokens, y.data());
  return y;
}

std::vector<float> cpu_moe(const moe_ffn_weights& w, const std::vector<float>& x,
                           std::int64_t tokens, cpu::expert_parallelism parallelism) {
  cpu::moe_ffn layer(w, parallelism);
  std::vector<float> y(x.size());
  layer.forward(x.data(), tokens, y.data());
  return y;
}

TEST(FfnRouting, TopKIsHighestFirstWithSoftmaxGates) {
  // Two tokens, four experts.
  const std::vector<float> logits = {0.0F, 2.0F, 1.0F, -1.0F,  // token 0: experts 1, 2
                                     3.0F, 3.0F, 0.0F, 5.0F};  // token 1: 3, then 0 (tie to 0)
  const routing_plan plan = route(logits.data(), 2, 4, 2);
  EXPECT_EQ(plan.expert, (std::vector<std::int32_t>{1, 2, 3, 0}));
  // softmax([2, 1]) = [e / (e + 1), 1 / (e + 1)]
  EXPECT_NEAR(plan.gate[0], 0.7310586, 1e-6);
  EXPECT_NEAR(plan.gate[1], 0.2689414, 1e-6);
  EXPECT_NEAR(plan.gate[2], 0.8807971, 1e-6);  // softmax([5, 3])
  EXPECT_NEAR(plan.gate[0] + plan.gate[1], 1.0, 1e-6);
  // Grouped by expert, token order kept: expert 0 <- slot 3, 1 <- 0, 2 <- 1, 3 <- 2.
  EXPECT_EQ(plan.expert_offsets, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(plan.grouped_slot, (std::vector<std::int64_t>{3, 0, 1, 2}));
  EXPECT_EQ(experts_touched(plan), 4);
}

TEST(FfnRouting, GroupingIsStableAndCoversEverySlot) {
  const auto logits = random_activations(97, 16, 5);
  const routing_plan plan = route(logits.data(), 97, 16, 4);
  ASSERT_EQ(plan.expert_offsets.back(), 97 * 4);
  std::vector<std::int64_t> seen = plan.grouped_slot;
  std::sort(seen.begin(), seen.end());
  for (std::int64_t i = 0; i < 97 * 4; ++i)
    ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
  for (std::size_t e = 0; e + 1 < plan.expert_offsets.size(); ++e) {
    for (auto r = plan.expert_offsets[e]; r < plan.expert_offsets[e + 1]; ++r) {
      const auto slot = static_cast<std::size_t>(plan.grouped_slot[static_cast<std::size_t>(r)]);
      EXPECT_EQ(plan.expert[slot], static_cast<std::int32_t>(e));
      if (r > plan.expert_offsets[e]) {
        EXPECT_LT(plan.grouped_slot[static_cast<std::size_t>(r) - 1],
                  plan.grouped_slot[static_cast<std::size_t>(r)]);
      }
    }
  }
}

TEST(FfnShapes, RejectsBadDimensionsByName) {
  EXPECT_THROW(validate(moe_ffn_shape{64, 96, 4, 5}), std::invalid_argument);
  try {
    validate(dense_ffn_shape{64, 0});
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("d_ff"), std::string::npos);
  }
}

TEST(FfnCost, CountsMultiplyAddsAsTwoFlops) {
  // Dense: 3 matrices of d x f, 2 FLOPs per weight per token.
  EXPECT_DOUBLE_EQ(dense_cost({64, 256}, 10).flops, 2.0 * 10 * 3 * 64 * 256);
  EXPECT_DOUBLE_EQ(dense_cost({64, 256}, 10).bytes, 4.0 * (3 * 64 * 256 + 2 * 10 * 64));
  // MoE: router + top_k experts per token; bytes: router + touched experts + activations.
  const moe_ffn_shape moe{64, 96, 8, 2};
  EXPECT_DOUBLE_EQ(moe_cost(moe, 10, 5).flops, 2.0 * 10 * (64 * 8 + 2 * 3 * 64 * 96));
  EXPECT_DOUBLE_EQ(moe_cost(moe, 10, 5).bytes, 4.0 * (64 * 8 + 5 * 3 * 64 * 96 + 2 * 10 * 64));
  // Iso-active dense has the MoE's expert FLOPs exactly.
  EXPECT_DOUBLE_EQ(dense_cost(iso_active_dense(moe), 10).flops + 2.0 * 10 * 64 * 8,
                   moe_cost(moe, 10, 5).flops);
  EXPECT_EQ(iso_total_dense(moe).d_ff, 8 * 96);
}

class CpuDenseFfn : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(CpuDenseFfn, MatchesNaiveReference) {
  const std::int64_t tokens = GetParam();
  const auto w = random_dense_weights({64, 160}, 11);
  const auto x = random_activations(tokens, 64, 12);
  EXPECT_LT(relative_error(cpu_dense(w, x, tokens), reference_dense_forward(w, x, tokens)),
            kFloat32Tolerance);
}

// 1 to 8 rows take the small-batch path (its column blocks of 256 end mid-width here: d_ff 160
// and 2 x 160), 9 and more Eigen's GEMM.
INSTANTIATE_TEST_SUITE_P(TokenCounts, CpuDenseFfn, ::testing::Values(1, 2, 7, 8, 9, 64, 257));

struct moe_case {
  moe_ffn_shape shape;
  std::int64_t tokens;
  cpu::expert_parallelism parallelism;
};

// GoogleTest prints the parameter into CTest's test names: keep it short.
void PrintTo(const moe_case& c, std::ostream* os) {
  *os << c.tokens << " tokens";
}

class CpuMoeFfn : public ::testing::TestWithParam<moe_case> {};

// "E8k2_d64_f96_t300_over_experts": readable names in CTest instead of the bytes of the struct.
std::string case_name(const ::testing::TestParamInfo<moe_case>& info) {
  const auto& [shape, tokens, parallelism] = info.param;
  const char* strategy = parallelism == cpu::expert_parallelism::over_experts  ? "over_experts"
                         : parallelism == cpu::expert_parallelism::within_gemm ? "within_gemm"
                                                                               : "automatic";
  return "E" + std::to_string(shape.experts) + "k" + std::to_string(shape.top_k) + "_d" +
         std::to_string(shape.d_model) + "_f" + std::to_string(shape.d_expert) + "_t" +
         std::to_string(tokens) + "_" + strategy;
}

TEST_P(CpuMoeFfn, MatchesNaiveReference) {
  const auto& [shape, tokens, parallelism] = GetParam();
  const auto w = random_moe_weights(shape, 21);
  const auto x = random_activations(tokens, shape.d_model, 22);
  const auto expected = reference_moe_forward(w, x, tokens);
  EXPECT_LT(relative_error(cpu_moe(w, x, tokens, parallelism), expected), kFloat32Tolerance);
}

constexpr moe_ffn_shape kEightTopTwo{64, 96, 8, 2};
constexpr moe_ffn_shape kSixteenTopFour{48, 80, 16, 4};

INSTANTIATE_TEST_SUITE_P(
    ShapesAndThreading, CpuMoeFfn,
    ::testing::Values(moe_case{kEightTopTwo, 1, cpu::expert_parallelism::automatic},
                      moe_case{kEightTopTwo, 5, cpu::expert_parallelism::over_experts},
                      moe_case{kEightTopTwo, 64, cpu::expert_parallelism::within_gemm},
                      moe_case{kEightTopTwo, 300, cpu::expert_parallelism::over_experts},
                      moe_case{kSixteenTopFour, 300, cpu::expert_parallelism::automatic},
                      moe_case{kSixteenTopFour, 1000, cpu::expert_parallelism::within_gemm},
                      moe_case{{32, 64, 4, 4}, 33, cpu::expert_parallelism::automatic}),
    case_name);

TEST(CpuMoeFfn, IdenticalExpertsEqualTheDenseLayer) {
  const auto dense = random_dense_weights({64, 128}, 31);
  const auto moe = replicate_as_experts(dense, 8, 2, 32);
  const auto x = random_activations(100, 64, 33);
  const auto dense_y = cpu_dense(dense, x, 100);
  for (const auto parallelism :
       {cpu::expert_parallelism::over_experts, cpu::expert_parallelism::within_gemm}) {
    EXPECT_LT(relative_error(cpu_moe(moe, x, 100, parallelism), dense_y), kFloat32Tolerance);
  }
}

TEST(CpuMoeFfn, ThreadingDoesNotChangeTheResult) {
  const auto w = random_moe_weights(kEightTopTwo, 41);
  const auto x = random_activations(200, kEightTopTwo.d_model, 42);
  // Each expert's GEMM sees the same rows in the same order either way.
  EXPECT_EQ(cpu_moe(w, x, 200, cpu::expert_parallelism::over_experts),
            cpu_moe(w, x, 200, cpu::expert_parallelism::within_gemm));
}

TEST(CpuMoeFfn, RoutingMatchesTheReferenceRouter) {
  const auto w = random_moe_weights(kEightTopTwo, 51);
  const auto x = random_activations(64, kEightTopTwo.d_model, 52);
  cpu::moe_ffn layer(w);
  std::vector<float> y(x.size());
  layer.forward(x.data(), 64, y.data());
  const routing_plan& plan = layer.last_routing();
  EXPECT_EQ(plan.tokens, 64);
  EXPECT_EQ(plan.expert_offsets.back(), 128);
  EXPECT_GE(experts_touched(plan), 2);
  EXPECT_NE(layer.last_parallelism(), cpu::expert_parallelism::automatic);
}

TEST(CpuMachinePeaks, MeasureRealWork) {
  const double seconds = cpu::square_gemm_seconds(128, 2);
  EXPECT_GT(seconds, 0.0);
  EXPECT_GT(cpu::copy_bandwidth(1 << 22, 2), 0.0);
  EXPECT_GE(cpu::threads(), 1);
}

}  // namespace
}  // namespace ys::profiler
