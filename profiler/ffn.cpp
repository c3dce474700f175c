#include "profiler/ffn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace ys::profiler {

namespace {

void require_positive(std::int64_t value, const char* field) {
  if (value < 1) {
    throw std::invalid_argument(std::string(field) + " must be >= 1, got " + std::to_string(value));
  }
}

std::vector<float> uniform(std::size_t count, float bound, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> draw(-bound, bound);
  std::vector<float> values(count);
  for (float& v : values)
    v = draw(engine);
  return values;
}

float fan_in_bound(std::int64_t fan_in) {
  return 1.0F / std::sqrt(static_cast<float>(fan_in));
}

std::size_t count(std::int64_t a, std::int64_t b) {
  return static_cast<std::size_t>(a) * static_cast<std::size_t>(b);
}

double silu(double v) {
  return v / (1.0 + std::exp(-v));
}

// One token through one SwiGLU FFN whose matrices start at the given pointers, in double.
void reference_swiglu(const float* x, const float* gate, const float* up, const float* down,
                      std::int64_t d_model, std::int64_t d_ff, double scale, double* y) {
  std::vector<double> hidden(static_cast<std::size_t>(d_ff));
  for (std::int64_t j = 0; j < d_ff; ++j) {
    double g = 0;
    double u = 0;
    for (std::int64_t i = 0; i < d_model; ++i) {
      g += static_cast<double>(x[i]) * gate[i * d_ff + j];
      u += static_cast<double>(x[i]) * up[i * d_ff + j];
    }
    hidden[static_cast<std::size_t>(j)] = silu(g) * u;
  }
  for (std::int64_t i = 0; i < d_model; ++i) {
    double sum = 0;
    for (std::int64_t j = 0; j < d_ff; ++j)
      sum += hidden[static_cast<std::size_t>(j)] * down[j * d_model + i];
    y[i] += scale * sum;
  }
}

}  // namespace

dense_ffn_shape iso_active_dense(const moe_ffn_shape& moe) {
  return {moe.d_model, moe.top_k * moe.d_expert};
}

dense_ffn_shape iso_total_dense(const moe_ffn_shape& moe) {
  return {moe.d_model, moe.experts * moe.d_expert};
}

void validate(const dense_ffn_shape& shape) {
  require_positive(shape.d_model, "d_model");
  require_positive(shape.d_ff, "d_ff");
}

void validate(const moe_ffn_shape& shape) {
  require_positive(shape.d_model, "d_model");
  require_positive(shape.d_expert, "d_expert");
  require_positive(shape.experts, "experts");
  require_positive(shape.top_k, "top_k");
  if (shape.top_k > shape.experts) {
    throw std::invalid_argument("top_k (" + std::to_string(shape.top_k) + ") must be <= experts (" +
                                std::to_string(shape.experts) + ")");
  }
}

dense_ffn_weights random_dense_weights(const dense_ffn_shape& shape, std::uint64_t seed) {
  validate(shape);
  dense_ffn_weights w;
  w.shape = shape;
  w.gate = uniform(count(shape.d_model, shape.d_ff), fan_in_bound(shape.d_model), seed);
  w.up = uniform(count(shape.d_model, shape.d_ff), fan_in_bound(shape.d_model), seed + 1);
  w.down = uniform(count(shape.d_ff, shape.d_model), fan_in_bound(shape.d_ff), seed + 2);
  return w;
}

moe_ffn_weights random_moe_weights(const moe_ffn_shape& shape, std::uint64_t seed) {
  validate(shape);
  moe_ffn_weights w;
  w.shape = shape;
  const std::size_t expert_size = count(shape.d_model, shape.d_expert);
  const std::size_t all = expert_size * static_cast<std::size_t>(shape.experts);
  w.router = uniform(count(shape.d_model, shape.experts), fan_in_bound(shape.d_model), seed);
  w.gate = uniform(all, fan_in_bound(shape.d_model), seed + 1);
  w.up = uniform(all, fan_in_bound(shape.d_model), seed + 2);
  w.down = uniform(all, fan_in_bound(shape.d_expert), seed + 3);
  return w;
}

std::vector<float> random_activations(std::int64_t tokens, std::int64_t d_model,
                                      std::uint64_t seed) {
  require_positive(tokens, "tokens");
  require_positive(d_model, "d_model");
  return uniform(count(tokens, d_model), 1.0F, seed);
}

moe_ffn_weights replicate_as_experts(const dense_ffn_weights& dense, std::int64_t experts,
                                     std::int64_t top_k, std::uint64_t router_seed) {
  const moe_ffn_shape shape{dense.shape.d_model, dense.shape.d_ff, experts, top_k};
  validate(shape);
  moe_ffn_weights w;
  w.shape = shape;
  w.router = uniform(count(shape.d_model, experts), fan_in_bound(shape.d_model), router_seed);
  for (std::int64_t e = 0; e < experts; ++e) {
    w.gate.insert(w.gate.end(), dense.gate.begin(), dense.gate.end());
    w.up.insert(w.up.end(), dense.up.begin(), dense.up.end());
    w.down.insert(w.down.end(), dense.down.begin(), dense.down.end());
  }
  return w;
}

routing_plan route(const float* logits, std::int64_t tokens, std::int64_t experts,
                   std::int64_t top_k) {
  routing_plan plan;
  plan.tokens = tokens;
  plan.top_k = top_k;
  plan.expert.resize(count(tokens, top_k));
  plan.gate.resize(count(tokens, top_k));
  std::vector<std::int32_t> order(static_cast<std::size_t>(experts));
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* row = logits + t * experts;
    std::iota(order.begin(), order.end(), 0);
    // Highest logit first; equal logits keep index order, so the lower expert wins a tie.
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [row](std::int32_t a, std::int32_t b) {
                        return row[a] > row[b] || (row[a] == row[b] && a < b);
                      });
    // Softmax over the chosen logits, shifted by the largest for stability.
    const float largest = row[order[0]];
    float total = 0;
    for (std::int64_t j = 0; j < top_k; ++j) {
      const std::size_t slot = static_cast<std::size_t>(t * top_k + j);
      plan.expert[slot] = order[static_cast<std::size_t>(j)];
      plan.gate[slot] = std::exp(row[order[static_cast<std::size_t>(j)]] - largest);
      total += plan.gate[slot];
    }
    for (std::int64_t j = 0; j < top_k; ++j)
      plan.gate[static_cast<std::size_t>(t * top_k + j)] /= total;
  }
  group_by_expert(plan, experts);
  return plan;
}

void group_by_expert(routing_plan& plan, std::int64_t experts) {
  plan.expert_offsets.assign(static_cast<std::size_t>(experts) + 1, 0);
  for (const std::int32_t e : plan.expert)
    ++plan.expert_offsets[static_cast<std::size_t>(e) + 1];
  std::partial_sum(plan.expert_offsets.begin(), plan.expert_offsets.end(),
                   plan.expert_offsets.begin());
  std::vector<std::int64_t> next(plan.expert_offsets.begin(), plan.expert_offsets.end() - 1);
  plan.grouped_slot.resize(plan.expert.size());
  // Slots in token order, so each expert's rows keep token order (a stable counting sort).
  for (std::size_t slot = 0; slot < plan.expert.size(); ++slot) {
    const auto e = static_cast<std::size_t>(plan.expert[slot]);
    plan.grouped_slot[static_cast<std::size_t>(next[e]++)] = static_cast<std::int64_t>(slot);
  }
}

layer_cost dense_cost(const dense_ffn_shape& shape, std::int64_t tokens) {
  const double t = static_cast<double>(tokens);
  const double weights = 3.0 * static_cast<double>(shape.d_model) * static_cast<double>(shape.d_ff);
  const double activations = 2.0 * t * static_cast<double>(shape.d_model);
  return {2.0 * t * weights, 4.0 * (weights + activations)};
}

layer_cost moe_cost(const moe_ffn_shape& shape, std::int64_t tokens, double touched) {
  const double t = static_cast<double>(tokens);
  const double d = static_cast<double>(shape.d_model);
  const double expert_weights = 3.0 * d * static_cast<double>(shape.d_expert);
  const double router_weights = d * static_cast<double>(shape.experts);
  const double flops =
      2.0 * t * (router_weights + static_cast<double>(shape.top_k) * expert_weights);
  const double bytes = 4.0 * (router_weights + touched * expert_weights + 2.0 * t * d);
  return {flops, bytes};
}

std::int64_t experts_touched(const routing_plan& plan) {
  std::int64_t touched = 0;
  for (std::size_t e = 0; e + 1 < plan.expert_offsets.size(); ++e)
    touched += plan.expert_offsets[e + 1] > plan.expert_offsets[e] ? 1 : 0;
  return touched;
}

std::vector<float> reference_dense_forward(const dense_ffn_weights& weights,
                                           const std::vector<float>& x, std::int64_t tokens) {
  const auto [d_model, d_ff] = weights.shape;
  std::vector<float> y(count(tokens, d_model));
  std::vector<double> row(static_cast<std::size_t>(d_model));
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::fill(row.begin(), row.end(), 0.0);
    reference_swiglu(x.data() + t * d_model, weights.gate.data(), weights.up.data(),
                     weights.down.data(), d_model, d_ff, 1.0, row.data());
    std::copy(row.begin(), row.end(), y.begin() + t * d_model);
  }
  return y;
}

std::vector<float> reference_moe_forward(const moe_ffn_weights& weights,
                                         const std::vector<float>& x, std::int64_t tokens) {
  const auto& s = weights.shape;
  // Router logits in double, then the same top-k + softmax rule as route().
  std::vector<float> logits(count(tokens, s.experts));
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t e = 0; e < s.experts; ++e) {
      double sum = 0;
      for (std::int64_t i = 0; i < s.d_model; ++i)
        sum += static_cast<double>(x[static_cast<std::size_t>(t * s.d_model + i)]) *
               weights.router[static_cast<std::size_t>(i * s.experts + e)];
      logits[static_cast<std::size_t>(t * s.experts + e)] = static_cast<float>(sum);
    }
  }
  const routing_plan plan = route(logits.data(), tokens, s.experts, s.top_k);
  const std::int64_t expert_size = s.d_model * s.d_expert;
  std::vector<float> y(count(tokens, s.d_model));
  std::vector<double> row(static_cast<std::size_t>(s.d_model));
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::fill(row.begin(), row.end(), 0.0);
    for (std::int64_t j = 0; j < s.top_k; ++j) {
      const auto slot = static_cast<std::size_t>(t * s.top_k + j);
      const std::int64_t offset = plan.expert[slot] * expert_size;
      reference_swiglu(x.data() + t * s.d_model, weights.gate.data() + offset,
                       weights.up.data() + offset, weights.down.data() + offset, s.d_model,
                       s.d_expert, plan.gate[slot], row.data());
    }
    std::copy(row.begin(), row.end(), y.begin() + t * s.d_model);
  }
  return y;
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("relative_error: sizes differ");
  double diff = 0;
  double norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
  }
  if (norm == 0) return diff == 0 ? 0.0 : INFINITY;
  return std::sqrt(diff / norm);
}

}  // namespace ys::profiler
