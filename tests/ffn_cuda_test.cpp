// The CUDA FFN layers (profiler/ffn_cuda.h) against the double-precision reference of ffn.h.
// Without a usable CUDA device every test but the last skips with the runtime's reason; with
// YARDSTICK_REQUIRE_CUDA=1 in the environment they fail instead (scripts/gpu_check.sh sets it,
// so that a GPU machine whose driver is too old does not pass by skipping).
#include "profiler/ffn_cuda.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "profiler/ffn.h"

namespace ys::profiler {
namespace {

bool cuda_required() {
  const char* value = std::getenv("YARDSTICK_REQUIRE_CUDA");
  return value != nullptr && std::string(value) == "1";
}

#define YS_SKIP_WITHOUT_CUDA()                                               \
  do {                                                                       \
    if (auto why = ys::profiler::cuda::unavailable_reason(); !why.empty()) { \
      if (cuda_required()) FAIL() << "YARDSTICK_REQUIRE_CUDA=1: " << why;    \
      GTEST_SKIP() << why;                                                   \
    }                                                                        \
  } while (false)

constexpr double kTolerance = 1e-5;

// The GPU's float router logits differ from the host's (double sums rounded to float) by about
// 1e-7 at these sizes; where two logits that decide the routing are closer than this, the two
// sides may route differently and the comparison is ill-posed. The seeds below are picked so that
// every deciding gap is above 1e-4, a thousand times that rounding; the tests assert it.
constexpr double kTieMargin = 1e-5;

const moe_ffn_shape kEightExperts{64, 96, 8, 2};
const moe_ffn_shape kSixteenExperts{64, 96, 16, 4};

// Router logits as reference_moe_forward computes them: double sums rounded to float.
std::vector<float> host_logits(const moe_ffn_weights& weights, const std::vector<float>& x,
                               std::int64_t tokens) {
  const moe_ffn_shape& s = weights.shape;
  std::vector<float> logits(static_cast<std::size_t>(tokens * s.experts));
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t e = 0; e < s.experts; ++e) {
      double sum = 0;
      for (std::int64_t i = 0; i < s.d_model; ++i) {
        sum += static_cast<double>(x[static_cast<std::size_t>(t * s.d_model + i)]) *
               weights.router[static_cast<std::size_t>(i * s.experts + e)];
      }
      logits[static_cast<std::size_t>(t * s.experts + e)] = static_cast<float>(sum);
    }
  }
  return logits;
}

// The smallest gap, over tokens, between consecutive logits among the top_k + 1 largest: the
// gaps that decide which experts are picked and in which order.
double smallest_routing_gap(const std::vector<float>& logits, std::int64_t tokens,
                            std::int64_t experts, std::int64_t top_k) {
  double smallest = 1e30;
  std::vector<float> row(static_cast<std::size_t>(experts));
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::copy_n(logits.begin() + t * experts, experts, row.begin());
    std::sort(row.begin(), row.end(), std::greater<>());
    for (std::int64_t j = 0; j < std::min(top_k, experts - 1); ++j) {
      smallest = std::min(smallest, static_cast<double>(row[static_cast<std::size_t>(j)]) -
                                        row[static_cast<std::size_t>(j + 1)]);
    }
  }
  return smallest;
}

std::string describe(const moe_ffn_shape& s, std::int64_t tokens) {
  return "experts " + std::to_string(s.experts) + ", top_k " + std::to_string(s.top_k) +
         ", tokens " + std::to_string(tokens);
}

TEST(CudaFfn, DenseMatchesReference) {
  YS_SKIP_WITHOUT_CUDA();
  const dense_ffn_weights weights = random_dense_weights({64, 96}, 11);
  cuda::dense_ffn layer(weights);
  // 64 after 1 and 7 grows the scratch; 7 again reuses larger buffers.
  for (const std::int64_t tokens : {1, 7, 64, 7}) {
    const std::vector<float> x = random_activations(tokens, 64, 100 + tokens);
    const std::vector<float> y = layer.forward(x, tokens);
    EXPECT_LT(relative_error(y, reference_dense_forward(weights, x, tokens)), kTolerance)
        << "tokens " << tokens;
  }
}

TEST(CudaFfn, MoeMatchesReference) {
  YS_SKIP_WITHOUT_CUDA();
  for (const moe_ffn_shape& shape : {kEightExperts, kSixteenExperts}) {
    const moe_ffn_weights weights = random_moe_weights(shape, 4);
    cuda::moe_ffn layer(weights);
    for (const std::int64_t tokens : {1, 5, 64, 300, 5}) {
      const std::vector<float> x = random_activations(tokens, shape.d_model, 200 + tokens);
      ASSERT_GT(
          smallest_routing_gap(host_logits(weights, x, tokens), tokens, shape.experts, shape.top_k),
          kTieMargin)
          << "near-tie in the router logits, pick other seeds: " << describe(shape, tokens);
      const std::vector<float> y = layer.forward(x, tokens);
      EXPECT_LT(relative_error(y, reference_moe_forward(weights, x, tokens)), kTolerance)
          << describe(shape, tokens);
    }
  }
}

TEST(CudaFfn, RoutingMatchesCpuRoute) {
  YS_SKIP_WITHOUT_CUDA();
  for (const moe_ffn_shape& shape : {kEightExperts, kSixteenExperts}) {
    const moe_ffn_weights weights = random_moe_weights(shape, 22);
    cuda::moe_ffn layer(weights);
    const routing_plan before = layer.last_routing();
    EXPECT_EQ(before.tokens, 0);
    EXPECT_EQ(before.expert_offsets, std::vector<std::int64_t>(shape.experts + 1, 0));
    for (const std::int64_t tokens : {1, 300}) {
      const std::vector<float> x = random_activations(tokens, shape.d_model, 300 + tokens);
      const std::vector<float> logits = host_logits(weights, x, tokens);
      // Exact comparison of the picks and their order needs every deciding gap to exceed what
      // float rounding can move (kTieMargin); the seeds are chosen so that it does.
      ASSERT_GT(smallest_routing_gap(logits, tokens, shape.experts, shape.top_k), kTieMargin)
          << "near-tie in the router logits, pick other seeds: " << describe(shape, tokens);
      layer.forward(x, tokens);
      const routing_plan got = layer.last_routing();
      const routing_plan want = route(logits.data(), tokens, shape.experts, shape.top_k);
      EXPECT_EQ(got.tokens, tokens);
      EXPECT_EQ(got.top_k, shape.top_k);
      EXPECT_EQ(got.expert, want.expert) << describe(shape, tokens);
      EXPECT_EQ(got.expert_offsets, want.expert_offsets) << describe(shape, tokens);
      EXPECT_EQ(got.grouped_slot, want.grouped_slot) << describe(shape, tokens);
      ASSERT_EQ(got.gate.size(), want.gate.size());
      for (std::size_t slot = 0; slot < want.gate.size(); ++slot)
        EXPECT_NEAR(got.gate[slot], want.gate[slot], 1e-6) << "slot " << slot;
    }
  }
}

// A zero router makes every logit exactly 0 on both sides: each token goes to experts 0..k-1 in
// that order (ties to the lower index) with equal gates.
TEST(CudaFfn, TiesGoToTheLowerExpert) {
  YS_SKIP_WITHOUT_CUDA();
  moe_ffn_weights weights = random_moe_weights(kSixteenExperts, 81);
  std::fill(weights.router.begin(), weights.router.end(), 0.0F);
  cuda::moe_ffn layer(weights);
  const std::int64_t tokens = 300;
  const std::vector<float> x = random_activations(tokens, kSixteenExperts.d_model, 82);
  EXPECT_LT(relative_error(layer.forward(x, tokens), reference_moe_forward(weights, x, tokens)),
            kTolerance);
  const std::vector<float> zeros(static_cast<std::size_t>(tokens * kSixteenExperts.experts));
  const routing_plan want = route(zeros.data(), tokens, kSixteenExperts.experts, 4);
  const routing_plan got = layer.last_routing();
  EXPECT_EQ(got.expert, want.expert);
  EXPECT_EQ(got.gate, want.gate);
  EXPECT_EQ(got.expert_offsets, want.expert_offsets);
  EXPECT_EQ(got.grouped_slot, want.grouped_slot);
  EXPECT_EQ(got.expert[0], 0);
  EXPECT_EQ(got.expert[3], 3);
  EXPECT_EQ(got.gate[0], 0.25F);
}

TEST(CudaFfn, IdenticalExpertsMatchDense) {
  YS_SKIP_WITHOUT_CUDA();
  const dense_ffn_weights dense = random_dense_weights({64, 96}, 41);
  cuda::dense_ffn dense_layer(dense);
  const std::int64_t tokens = 64;
  const std::vector<float> x = random_activations(tokens, 64, 42);
  const std::vector<float> want = dense_layer.forward(x, tokens);
  EXPECT_LT(relative_error(want, reference_dense_forward(dense, x, tokens)), kTolerance);
  // Whatever the router picks, the gates sum to 1 over copies of one FFN; top_k == experts too.
  for (const auto& [experts, top_k] : {std::pair{8, 2}, std::pair{16, 4}, std::pair{4, 4}}) {
    cuda::moe_ffn moe_layer(replicate_as_experts(dense, experts, top_k, 43));
    EXPECT_LT(relative_error(moe_layer.forward(x, tokens), want), kTolerance)
        << "experts " << experts << ", top_k " << top_k;
  }
}

TEST(CudaFfn, TimedPassesLeaveForwardCorrect) {
  YS_SKIP_WITHOUT_CUDA();
  const moe_ffn_weights weights = random_moe_weights(kEightExperts, 51);
  cuda::moe_ffn moe_layer(weights);
  EXPECT_GT(moe_layer.seconds_per_forward(300, 3), 0.0);
  const routing_plan timed = moe_layer.last_routing();
  EXPECT_EQ(timed.tokens, 300);
  ASSERT_EQ(timed.expert_offsets.size(), 9U);
  EXPECT_EQ(timed.expert_offsets.back(), 600);
  EXPECT_EQ(experts_touched(timed), 8);

  const std::int64_t tokens = 5;
  const std::vector<float> x = random_activations(tokens, 64, 205);
  ASSERT_GT(smallest_routing_gap(host_logits(weights, x, tokens), tokens, 8, 2), kTieMargin);
  EXPECT_LT(relative_error(moe_layer.forward(x, tokens), reference_moe_forward(weights, x, tokens)),
            kTolerance);

  const dense_ffn_weights dense = random_dense_weights({64, 96}, 52);
  cuda::dense_ffn dense_layer(dense);
  EXPECT_GT(dense_layer.seconds_per_forward(64, 3), 0.0);
  EXPECT_LT(
      relative_error(dense_layer.forward(x, tokens), reference_dense_forward(dense, x, tokens)),
      kTolerance);
  EXPECT_GT(cuda::square_gemm_seconds(256, 2), 0.0);
}

// Timing the expert stage alone routes the timing tokens once and queues the grouped GEMMs again
// and again; forward() afterwards, with fewer and then more tokens than were timed, still routes
// and computes afresh.
TEST(CudaFfn, ExpertGemmTimingLeavesForwardCorrect) {
  YS_SKIP_WITHOUT_CUDA();
  const moe_ffn_weights weights = random_moe_weights(kEightExperts, 51);
  cuda::moe_ffn layer(weights);
  const std::int64_t tokens = 5;
  const std::vector<float> x = random_activations(tokens, 64, 205);
  ASSERT_GT(smallest_routing_gap(host_logits(weights, x, tokens), tokens, 8, 2), kTieMargin);
  const std::vector<float> want = reference_moe_forward(weights, x, tokens);
  EXPECT_LT(relative_error(layer.forward(x, tokens), want), kTolerance);

  EXPECT_GT(layer.seconds_per_expert_gemms(300, 3), 0.0);
  const routing_plan timed = layer.last_routing();
  EXPECT_EQ(timed.tokens, 300);
  ASSERT_EQ(timed.expert_offsets.size(), 9U);
  EXPECT_EQ(timed.expert_offsets.back(), 600);
  EXPECT_LT(relative_error(layer.forward(x, tokens), want), kTolerance);

  // Timing fewer tokens than the buffers hold, then a forward pass that grows them.
  EXPECT_GT(layer.seconds_per_expert_gemms(7, 2), 0.0);
  EXPECT_EQ(layer.last_routing().tokens, 7);
  const std::int64_t more = 300;
  const std::vector<float> x_more = random_activations(more, 64, 205);
  ASSERT_GT(smallest_routing_gap(host_logits(weights, x_more, more), more, 8, 2), kTieMargin);
  EXPECT_LT(
      relative_error(layer.forward(x_more, more), reference_moe_forward(weights, x_more, more)),
      kTolerance);
  EXPECT_GT(layer.seconds_per_forward(64, 2), 0.0);
  EXPECT_LT(relative_error(layer.forward(x, tokens), want), kTolerance);
}

TEST(CudaFfn, ExpertGemmTimingRejectsBadArguments) {
  YS_SKIP_WITHOUT_CUDA();
  cuda::moe_ffn layer(random_moe_weights({8, 16, 4, 2}, 63));
  EXPECT_THROW(layer.seconds_per_expert_gemms(0, 1), std::invalid_argument);
  EXPECT_THROW(layer.seconds_per_expert_gemms(-3, 1), std::invalid_argument);
  EXPECT_THROW(layer.seconds_per_expert_gemms(1, 0), std::invalid_argument);
  EXPECT_THROW(layer.seconds_per_expert_gemms(1, -1), std::invalid_argument);
  EXPECT_GT(layer.seconds_per_expert_gemms(1, 1), 0.0);
}

TEST(CudaFfn, RejectsBadArguments) {
  YS_SKIP_WITHOUT_CUDA();
  dense_ffn_weights dense = random_dense_weights({8, 16}, 61);
  cuda::dense_ffn layer(dense);
  EXPECT_THROW(layer.forward(std::vector<float>(7), 1), std::invalid_argument);
  EXPECT_THROW(layer.forward({}, 0), std::invalid_argument);
  EXPECT_THROW(layer.seconds_per_forward(0, 1), std::invalid_argument);
  EXPECT_THROW(layer.seconds_per_forward(1, 0), std::invalid_argument);
  dense.down.pop_back();
  EXPECT_THROW(cuda::dense_ffn{dense}, std::invalid_argument);
  moe_ffn_weights moe = random_moe_weights({8, 16, 4, 2}, 62);
  moe.router.pop_back();
  EXPECT_THROW(cuda::moe_ffn{moe}, std::invalid_argument);
  EXPECT_THROW(cuda::square_gemm_seconds(0, 1), std::invalid_argument);
}

TEST(CudaFfn, DeviceNameNamesTheArchitecture) {
  YS_SKIP_WITHOUT_CUDA();
  const std::string name = cuda::device_name();
  EXPECT_NE(name.find(" (sm_"), std::string::npos) << name;
  EXPECT_NE(name.find(" SMs)"), std::string::npos) << name;
}

// Runs where there is no device: every entry point throws std::runtime_error with the reason.
TEST(CudaFfn, ThrowsWithoutDevice) {
  const std::string why = cuda::unavailable_reason();
  if (why.empty()) GTEST_SKIP() << "a CUDA device is present: " << cuda::device_name();
  EXPECT_EQ(why.rfind("no CUDA device: ", 0), 0U) << why;
  EXPECT_EQ(cuda::device_name(), "");
  try {
    cuda::dense_ffn layer(random_dense_weights({8, 16}, 71));
    ADD_FAILURE() << "dense_ffn constructed without a device";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), why);
  }
  EXPECT_THROW(cuda::moe_ffn{random_moe_weights({8, 16, 4, 2}, 72)}, std::runtime_error);
  EXPECT_THROW(cuda::square_gemm_seconds(64, 1), std::runtime_error);
}

}  // namespace
}  // namespace ys::profiler
