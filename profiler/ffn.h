// The feed-forward layer of a transformer, dense and mixture-of-experts, as plain float32 data
// that both back ends (Eigen on the CPU, CUDA on the GPU) compute from: shapes, weights, the
// routing decision and its grouping of tokens per expert, the FLOP and byte counts of one
// forward pass, and a naive reference to check the fast paths against. No Eigen or CUDA types
// appear here, so .cu files can include it.
//
// Layout: every matrix is row-major. Activations are tokens x d_model. A SwiGLU FFN computes
//   y = (silu(x Wg) * (x Wu)) Wd,   Wg, Wu: d_model x d_ff,   Wd: d_ff x d_model.
// An MoE layer routes each token to top_k of `experts` SwiGLU FFNs of width d_expert:
//   logits = x R (R: d_model x experts); the top_k logits, softmax-normalised among themselves,
//   are the gates (Mixtral's rule: softmax over all experts, keep the top k, renormalise);
//   y = sum over the chosen experts of gate x FFN_e(x).
#pragma once

#include <cstdint>
#include <vector>

namespace ys::profiler {

struct dense_ffn_shape {
  std::int64_t d_model = 0;
  std::int64_t d_ff = 0;
};

struct moe_ffn_shape {
  std::int64_t d_model = 0;
  std::int64_t d_expert = 0;
  std::int64_t experts = 0;
  std::int64_t top_k = 0;
};

// The dense FFN with the same active FLOPs per token as `moe` (d_ff = top_k x d_expert), and the
// one with the same weights (d_ff = experts x d_expert).
dense_ffn_shape iso_active_dense(const moe_ffn_shape& moe);
dense_ffn_shape iso_total_dense(const moe_ffn_shape& moe);

// Throws std::invalid_argument naming the field when a dimension is < 1 or top_k > experts.
void validate(const dense_ffn_shape& shape);
void validate(const moe_ffn_shape& shape);

struct dense_ffn_weights {
  dense_ffn_shape shape;
  std::vector<float> gate;  // d_model x d_ff
  std::vector<float> up;    // d_model x d_ff
  std::vector<float> down;  // d_ff x d_model
};

// Expert e's matrices start at e x (matrix size) in each array, so one upload or one pointer
// array covers every expert.
struct moe_ffn_weights {
  moe_ffn_shape shape;
  std::vector<float> router;  // d_model x experts
  std::vector<float> gate;    // experts x d_model x d_expert
  std::vector<float> up;      // experts x d_model x d_expert
  std::vector<float> down;    // experts x d_expert x d_model
};

// Uniform in +-1/sqrt(fan_in), so activations stay O(1) through the layer whatever its size.
// Deterministic for a seed.
dense_ffn_weights random_dense_weights(const dense_ffn_shape& shape, std::uint64_t seed);
moe_ffn_weights random_moe_weights(const moe_ffn_shape& shape, std::uint64_t seed);
// Uniform in [-1, 1): tokens x d_model.
std::vector<float> random_activations(std::int64_t tokens, std::int64_t d_model,
                                      std::uint64_t seed);

// An MoE layer whose experts are all copies of `dense` (shape.d_expert = dense d_ff): with gates
// summing to 1 it computes exactly what `dense` does, whatever the router picks.
moe_ffn_weights replicate_as_experts(const dense_ffn_weights& dense, std::int64_t experts,
                                     std::int64_t top_k, std::uint64_t router_seed);

// Which experts each token goes to, and the tokens grouped by expert.
//   expert[t * top_k + j], gate[t * top_k + j]: token t's j-th choice, highest logit first
//     (ties go to the lower expert index).
//   expert_offsets[e] .. expert_offsets[e + 1]: expert e's rows in the grouped order.
//   grouped_slot[r]: the (t * top_k + j) slot that grouped row r holds; within an expert, rows
//     keep token order, so the grouping is stable and deterministic.
struct routing_plan {
  std::int64_t tokens = 0;
  std::int64_t top_k = 0;
  std::vector<std::int32_t> expert;
  std::vector<float> gate;
  std::vector<std::int64_t> expert_offsets;  // experts + 1 entries
  std::vector<std::int64_t> grouped_slot;    // tokens x top_k entries
};

// Top-k selection and softmax gating of router logits (tokens x experts, row-major), then the
// counting sort that groups slots by expert.
routing_plan route(const float* logits, std::int64_t tokens, std::int64_t experts,
                   std::int64_t top_k);
// Only the counting sort: fills expert_offsets and grouped_slot from `plan.expert`.
void group_by_expert(routing_plan& plan, std::int64_t experts);

// Cost of one forward pass over `tokens` tokens. A multiply-add is 2 FLOPs; the activation
// function, gating multiplies and softmax are not counted (as in analytic.h). Bytes are the
// least traffic the pass needs: every weight it reads, once, plus the input and output
// activations; intermediates are assumed to stay in cache. For an MoE layer the weights read
// are the router and the experts that at least one token picked (`experts_touched`).
struct layer_cost {
  double flops = 0;
  double bytes = 0;
};
layer_cost dense_cost(const dense_ffn_shape& shape, std::int64_t tokens);
layer_cost moe_cost(const moe_ffn_shape& shape, std::int64_t tokens, double experts_touched);
// The number of experts with at least one token in `plan`.
std::int64_t experts_touched(const routing_plan& plan);

// Naive reference in double precision with plain loops, for tests: no blocking, no threads, no
// grouping. Returns tokens x d_model.
std::vector<float> reference_dense_forward(const dense_ffn_weights& weights,
                                           const std::vector<float>& x, std::int64_t tokens);
std::vector<float> reference_moe_forward(const moe_ffn_weights& weights,
                                         const std::vector<float>& x, std::int64_t tokens);

// ||a - b|| / ||b|| in the Frobenius norm, accumulated in double; 0 when both are zero.
double relative_error(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace ys::profiler
