#include "profiler/ffn_cpu.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace ys::profiler::cpu {

namespace {

using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using matrix_map = Eigen::Map<matrix>;
using const_matrix_map = Eigen::Map<const matrix>;

// Gate and up projections side by side, d_model x 2 d_ff: one GEMM computes both, which keeps
// the GEMM wide at small token counts.
matrix concatenate_gate_up(const float* gate, const float* up, std::int64_t d_model,
                           std::int64_t d_ff) {
  matrix gate_up(d_model, 2 * d_ff);
  gate_up.leftCols(d_ff) = const_matrix_map(gate, d_model, d_ff);
  gate_up.rightCols(d_ff) = const_matrix_map(up, d_model, d_ff);
  return gate_up;
}

// hidden (rows x 2 d_ff: gate | up) -> its left half becomes silu(gate) * up.
template <typename Block>
void swiglu_in_place(Block&& hidden, std::int64_t d_ff) {
  auto gate = hidden.leftCols(d_ff).array();
  gate = gate / (1.0F + (-gate).exp()) * hidden.rightCols(d_ff).array();
}

// Up to this many rows, multiply() streams the weights once itself instead of calling Eigen's
// GEMM, which packs the whole weight matrix into a scratch copy on every call: for a handful of
// rows that copy costs several times the multiply (bench_ffn's dense layer at 4 tokens: 45 ms
// through Eigen, 9 ms this way). At 16 rows Eigen wins again (18 ms against 23 ms): the
// accumulators no longer fit the cache level this loop assumes.
constexpr std::int64_t kSmallBatchRows = 8;
// At most this many output columns per thread and block: kSmallBatchRows x 2048 floats (64 KiB)
// of accumulators stay in L2 while each weight row segment (8 KiB, two pages) streams past in
// order, which the hardware prefetcher follows; 1 KiB segments a page apart stalled on the TLB.
constexpr std::int64_t kMaxColumnBlock = 2048;

// Columns per block: the columns shared out over the threads, at most kMaxColumnBlock, a
// multiple of 16 (one AVX-512 vector of floats).
std::int64_t column_block(std::int64_t n) {
  const std::int64_t per_thread = (n + threads() - 1) / threads();
  return std::clamp<std::int64_t>((per_thread + 15) / 16 * 16, 16, kMaxColumnBlock);
}

// y (rows x n) = x (rows x k) w (k x n), all row-major with the given row strides, rows <=
// kSmallBatchRows. Each weight row segment is loaded once and used for every row of x.
void small_batch_multiply(const float* x, std::int64_t x_stride, std::int64_t rows, std::int64_t k,
                          const float* w, std::int64_t n, float* y, std::int64_t y_stride) {
  const std::int64_t block_width = column_block(n);
  const std::int64_t blocks = (n + block_width - 1) / block_width;
#pragma omp parallel for schedule(static)
  for (std::int64_t block = 0; block < blocks; ++block) {
    const std::int64_t first = block * block_width;
    const std::int64_t width = std::min(block_width, n - first);
    alignas(64) float sum[kSmallBatchRows][kMaxColumnBlock];
    for (std::int64_t r = 0; r < rows; ++r)
      std::fill(sum[r], sum[r] + width, 0.0F);
    for (std::int64_t i = 0; i < k; ++i) {
      const float* w_row = w + i * n + first;
      for (std::int64_t r = 0; r < rows; ++r) {
        const float scale = x[r * x_stride + i];
        float* out = sum[r];
        for (std::int64_t c = 0; c < width; ++c)
          out[c] += scale * w_row[c];
      }
    }
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy(sum[r], sum[r] + width, y + r * y_stride + first);
  }
}

// y = x w for row-major blocks: the small-batch path for a few rows, Eigen's GEMM otherwise.
template <typename In, typename Out>
void multiply(const In& x, const matrix_map& w, Out&& y) {
  if (x.rows() <= kSmallBatchRows) {
    small_batch_multiply(x.data(), x.outerStride(), x.rows(), x.cols(), w.data(), w.cols(),
                         y.data(), y.outerStride());
  } else {
    y.noalias() = x * w;
  }
}

// One SwiGLU FFN over `rows` rows of x into y, with `hidden` as scratch (rows x 2 d_ff).
template <typename In, typename Hidden, typename Out>
void swiglu_ffn(const In& x, const matrix_map& gate_up, const matrix_map& down, Hidden&& hidden,
                Out&& y) {
  const std::int64_t d_ff = down.rows();
  multiply(x, gate_up, hidden);
  swiglu_in_place(hidden, d_ff);
  multiply(hidden.leftCols(d_ff), down, y);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int threads() {
  return omp_get_max_threads();
}

void set_threads(int n) {
  omp_set_num_threads(n);
}

const char* simd_instruction_sets() {
  return Eigen::SimdInstructionSetsInUse();
}

nlohmann::json library_versions() {
  return {
      {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                    "." + std::to_string(EIGEN_MINOR_VERSION)},
      {"openmp", std::to_string(_OPENMP)}};
}

// ---- dense ----

struct dense_ffn::state {
  dense_ffn_shape shape;
  matrix gate_up;
  matrix down;
  matrix hidden;  // tokens x 2 d_ff scratch
};

dense_ffn::dense_ffn(dense_ffn_weights weights) : state_(std::make_unique<state>()) {
  validate(weights.shape);
  const auto [d_model, d_ff] = weights.shape;
  state_->shape = weights.shape;
  state_->gate_up = concatenate_gate_up(weights.gate.data(), weights.up.data(), d_model, d_ff);
  state_->down = const_matrix_map(weights.down.data(), d_ff, d_model);
}

dense_ffn::~dense_ffn() = default;

const dense_ffn_shape& dense_ffn::shape() const {
  return state_->shape;
}

void dense_ffn::forward(const float* x, std::int64_t tokens, float* y) {
  state& s = *state_;
  const auto [d_model, d_ff] = s.shape;
  s.hidden.resize(tokens, 2 * d_ff);
  matrix_map gate_up(s.gate_up.data(), d_model, 2 * d_ff);
  matrix_map down(s.down.data(), d_ff, d_model);
  matrix_map out(y, tokens, d_model);
  swiglu_ffn(const_matrix_map(x, tokens, d_model), gate_up, down, s.hidden, out);
}

// ---- mixture of experts ----

struct moe_ffn::state {
  moe_ffn_shape shape;
  expert_parallelism parallelism = expert_parallelism::automatic;
  expert_parallelism last_used = expert_parallelism::within_gemm;
  matrix router;
  std::vector<matrix> gate_up;  // per expert: d_model x 2 d_expert
  std::vector<matrix> down;     // per expert: d_expert x d_model
  // Scratch, kept between calls.
  matrix logits;                          // tokens x experts
  matrix grouped_x;                       // tokens * top_k x d_model, rows grouped by expert
  matrix grouped_hidden;                  // tokens * top_k x 2 d_expert
  matrix grouped_y;                       // tokens * top_k x d_model
  std::vector<std::int64_t> row_of_slot;  // inverse of plan.grouped_slot
  routing_plan plan;
};

moe_ffn::moe_ffn(moe_ffn_weights weights, expert_parallelism parallelism)
    : state_(std::make_unique<state>()) {
  validate(weights.shape);
  state& s = *state_;
  s.shape = weights.shape;
  s.parallelism = parallelism;
  const auto& shape = weights.shape;
  s.router = const_matrix_map(weights.router.data(), shape.d_model, shape.experts);
  const std::int64_t expert_size = shape.d_model * shape.d_expert;
  for (std::int64_t e = 0; e < shape.experts; ++e) {
    s.gate_up.push_back(concatenate_gate_up(weights.gate.data() + e * expert_size,
                                            weights.up.data() + e * expert_size, shape.d_model,
                                            shape.d_expert));
    s.down.push_back(
        const_matrix_map(weights.down.data() + e * expert_size, shape.d_expert, shape.d_model));
  }
}

moe_ffn::~moe_ffn() = default;

const moe_ffn_shape& moe_ffn::shape() const {
  return state_->shape;
}

const routing_plan& moe_ffn::last_routing() const {
  return state_->plan;
}

expert_parallelism moe_ffn::last_parallelism() const {
  return state_->last_used;
}

namespace {

// Whole experts per thread needs enough non-empty experts to share out evenly; then it beats
// splitting each GEMM across the threads (or ties) at every size bench_ffn measures (16 to 4096,
// 8 experts on 2 threads: 69 vs 48 GFLOP/s at 64 tokens, 221 vs 201 at 4096), because Eigen's
// threaded GEMM synchronises per block and a thread alone keeps its packed panels in its cache.
expert_parallelism choose_parallelism(const routing_plan& plan) {
  return experts_touched(plan) >= std::int64_t{2} * threads() ? expert_parallelism::over_experts
                                                              : expert_parallelism::within_gemm;
}

}  // namespace

void moe_ffn::forward(const float* x, std::int64_t tokens, float* y) {
  state& s = *state_;
  const auto& shape = s.shape;
  const std::int64_t d_model = shape.d_model;
  const std::int64_t d_expert = shape.d_expert;
  const std::int64_t slots = tokens * shape.top_k;
  const const_matrix_map input(x, tokens, d_model);

  s.logits.noalias() = input * s.router;
  s.plan = route(s.logits.data(), tokens, shape.experts, shape.top_k);
  const routing_plan& plan = s.plan;

  // Gather: grouped row r holds the token of slot grouped_slot[r].
  s.grouped_x.resize(slots, d_model);
  s.row_of_slot.resize(static_cast<std::size_t>(slots));
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < slots; ++r) {
    const std::int64_t slot = plan.grouped_slot[static_cast<std::size_t>(r)];
    s.row_of_slot[static_cast<std::size_t>(slot)] = r;
    s.grouped_x.row(r) = input.row(slot / shape.top_k);
  }

  // One GEMM pair per expert on its block of rows.
  s.grouped_hidden.resize(slots, 2 * d_expert);
  s.grouped_y.resize(slots, d_model);
  const auto run_expert = [&s, &plan, d_model, d_expert](std::int64_t e) {
    const std::int64_t first = plan.expert_offsets[static_cast<std::size_t>(e)];
    const std::int64_t rows = plan.expert_offsets[static_cast<std::size_t>(e) + 1] - first;
    if (rows == 0) return;
    matrix& gate_up = s.gate_up[static_cast<std::size_t>(e)];
    matrix& down = s.down[static_cast<std::size_t>(e)];
    swiglu_ffn(s.grouped_x.middleRows(first, rows),
               matrix_map(gate_up.data(), d_model, 2 * d_expert),
               matrix_map(down.data(), d_expert, d_model), s.grouped_hidden.middleRows(first, rows),
               s.grouped_y.middleRows(first, rows));
  };
  s.last_used =
      s.parallelism == expert_parallelism::automatic ? choose_parallelism(plan) : s.parallelism;
  if (s.last_used == expert_parallelism::over_experts) {
    // Largest experts first, handed out one at a time, so the threads finish together.
    std::vector<std::int64_t> order(static_cast<std::size_t>(shape.experts));
    std::iota(order.begin(), order.end(), 0);
    const auto rows_of = [&plan](std::int64_t e) {
      return plan.expert_offsets[static_cast<std::size_t>(e) + 1] -
             plan.expert_offsets[static_cast<std::size_t>(e)];
    };
    std::stable_sort(order.begin(), order.end(), [&rows_of](std::int64_t a, std::int64_t b) {
      return rows_of(a) > rows_of(b);
    });
    // Inside the parallel region Eigen runs each GEMM on its calling thread only.
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t i = 0; i < order.size(); ++i)
      run_expert(order[i]);
  } else {
    for (std::int64_t e = 0; e < shape.experts; ++e)
      run_expert(e);
  }

  // Scatter: each token sums its experts' outputs weighted by their gates, in slot order, so
  // the result does not depend on the thread count.
  matrix_map out(y, tokens, d_model);
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < tokens; ++t) {
    auto row = out.row(t);
    row.setZero();
    for (std::int64_t j = 0; j < shape.top_k; ++j) {
      const auto slot = static_cast<std::size_t>(t * shape.top_k + j);
      row += plan.gate[slot] * s.grouped_y.row(s.row_of_slot[slot]);
    }
  }
}

// ---- machine peaks ----

double square_gemm_seconds(std::int64_t n, int iterations) {
  const matrix a = matrix::Random(n, n);
  const matrix b = matrix::Random(n, n);
  matrix c(n, n);
  c.noalias() = a * b;  // warm-up: page faults, thread start
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c.noalias() = a * b;
    best = std::min(best, seconds_since(start));
  }
  return best;
}

double copy_bandwidth(std::int64_t bytes, int iterations) {
  const auto count = static_cast<std::size_t>(bytes) / sizeof(float);
  std::vector<float> source(count, 1.0F);
  std::vector<float> destination(count, 0.0F);
  const int chunks = threads();
  const std::size_t chunk =
      (count + static_cast<std::size_t>(chunks) - 1) / static_cast<std::size_t>(chunks);
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= iterations; ++i) {  // the first pass is a warm-up
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
    for (int c = 0; c < chunks; ++c) {
      const std::size_t first = std::min(count, static_cast<std::size_t>(c) * chunk);
      const std::size_t last = std::min(count, first + chunk);
      std::memcpy(destination.data() + first, source.data() + first,
                  (last - first) * sizeof(float));
    }
    if (i > 0) best = std::min(best, seconds_since(start));
  }
  // Read and write both move bytes.
  return 2.0 * static_cast<double>(count * sizeof(float)) / best;
}

}  // namespace ys::profiler::cpu
