// The FFN layers of ffn.h on an NVIDIA GPU (see ffn_cuda.h).
//
// Row-major data through column-major cuBLAS: cuBLAS reads a row-major r x c matrix as the
// column-major c x r matrix, its transpose. So C = A B (row-major, A: m x k, B: k x n) is computed
// as C^T = B^T A^T, i.e. cublasSgemm(N, N, n, m, k, 1, B, n, A, k, 0, C, n); see gemm_row_major.
//
// Every GEMM is strict FP32 (cublasSgemm under CUBLAS_DEFAULT_MATH, grouped GEMMs with
// CUBLAS_COMPUTE_32F: no TF32 tensor cores, no BF16x9 emulation), so that the layers match the
// double-precision reference to 1e-5.
//
// Each layer owns one non-blocking stream; everything it does, uploads included, is ordered on
// it. The host waits for the stream only where it needs a result: the output of forward(), the
// routing plan, the timing events, and once per MoE pass for the expert offsets (below).
//
// The MoE pass:
//   1. router GEMM (cuBLAS): logits = x R, tokens x experts;
//   2. route_kernel: per token, the top_k experts (highest logit first, ties to the lower index)
//      and the softmax of their logits, exactly the rule and float arithmetic of route();
//   3. group_kernel: one block per expert computes its offset (the slots that chose a lower
//      expert) and writes its rows in slot order: a stable counting sort, the same grouping as
//      group_by_expert(), without atomics, so grouped_slot is deterministic;
//   4. gather_kernel: grouped row r <- x[grouped_slot[r] / top_k];
//   5. the expert offsets (experts + 1 integers) are copied to pinned host memory and the host
//      waits for them: the one synchronisation inside a pass, since cuBLAS takes the GEMM sizes
//      from the host. The host then builds the grouped GEMM problem lists and queues the upload
//      of their matrix pointers;
//   6. one cublasGemmGroupedBatchedEx call for the gate and up GEMMs of every non-empty expert
//      (one problem per group), one SwiGLU kernel over all grouped rows, then one grouped call
//      for the down GEMMs;
//   7. unpermute_kernel: y[t] = sum over j = 0..top_k-1 of gate[t, j] x expert_out[row of slot
//      (t, j)], summed in slot order, so the result is deterministic.
// moe_ffn::state runs them as three stages: route() (steps 1-5), expert_gemms() (step 6) and
// combine() (step 7). expert_gemms() may be queued any number of times after one route(), which
// is how seconds_per_expert_gemms() times it alone.
//
// The grouped calls (cuBLAS 12.5 or newer) take their operations, sizes, leading dimensions,
// float scalars and group sizes from host arrays, read during the call (hence the wait for the
// offsets), and their matrix pointers from device arrays. Those are uploaded from pinned memory
// once per route(), right after the wait, when nothing queued can still read the previous
// upload; launching (grouped_gemm::launch) only queues the GEMMs. Compute type
// CUBLAS_COMPUTE_32F with CUDA_R_32F matrices and the default math mode keeps them strict FP32,
// like cublasSgemm.
#include "profiler/ffn_cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

// cublasGemmGroupedBatchedEx first shipped with cuBLAS 12.5 (CUDA 12.5).
#if !defined(CUBLAS_VERSION) || CUBLAS_VERSION < 120500
#error "profiler/ffn_cuda.cu needs cuBLAS 12.5 or newer (cublasGemmGroupedBatchedEx)"
#endif

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ys::profiler::cuda {

namespace {

// ---- Errors ---------------------------------------------------------------------------------

[[noreturn]] void fail(const char* call, const char* file, int line, const std::string& what) {
  throw std::runtime_error(std::string(call) + " failed (" + file + ":" + std::to_string(line) +
                           "): " + what);
}

void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  // Clears the error if it is not sticky, so that the next call does not report it again.
  static_cast<void>(cudaGetLastError());
  fail(call, file, line, std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail(call, file, line,
       std::string(cublasGetStatusName(status)) + ": " + cublasGetStatusString(status));
}

// Throws std::runtime_error naming the call when a CUDA runtime or cuBLAS call fails.
#define YS_CUDA_CHECK(call) check((call), #call, __FILE__, __LINE__)
// After a kernel launch: reports a bad launch configuration at once (errors while the kernel
// runs surface at the next synchronising call, which is checked too).
#define YS_CUDA_CHECK_LAUNCH() check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

void require_available() {
  if (std::string why = unavailable_reason(); !why.empty()) throw std::runtime_error(why);
}

// cuBLAS and the kernel grids take int sizes; every layer dimension fits by far, but say so
// rather than wrap.
int to_int(std::int64_t value, const char* what) {
  if (value < 0 || value > INT_MAX) {
    throw std::length_error(std::string("CUDA FFN: ") + what + " (" + std::to_string(value) +
                            ") does not fit in an int");
  }
  return static_cast<int>(value);
}

std::size_t to_size(std::int64_t a, std::int64_t b = 1) {
  return static_cast<std::size_t>(a) * static_cast<std::size_t>(b);
}

// ---- RAII wrappers --------------------------------------------------------------------------

// Device memory of T, grown on demand; the contents are lost when it grows. Callers make sure no
// queued work still uses the old allocation (cudaFree does not order itself on our streams).
template <typename T>
class device_buffer {
 public:
  device_buffer() = default;
  ~device_buffer() { release(); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;

  void reserve(std::size_t count) {
    if (count <= capacity_) return;
    release();
    void* memory = nullptr;
    YS_CUDA_CHECK(cudaMalloc(&memory, std::max<std::size_t>(count, 1) * sizeof(T)));
    data_ = static_cast<T*>(memory);
    capacity_ = count;
  }

  T* get() const { return data_; }
  std::size_t capacity() const { return capacity_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) static_cast<void>(cudaFree(data_));
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Page-locked host memory, so that a device-to-host cudaMemcpyAsync is truly asynchronous.
template <typename T>
class pinned_buffer {
 public:
  explicit pinned_buffer(std::size_t count) {
    void* memory = nullptr;
    YS_CUDA_CHECK(cudaMallocHost(&memory, std::max<std::size_t>(count, 1) * sizeof(T)));
    data_ = static_cast<T*>(memory);
  }
  ~pinned_buffer() { static_cast<void>(cudaFreeHost(data_)); }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;

  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
};

class stream {
 public:
  stream() { YS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~stream() { static_cast<void>(cudaStreamDestroy(stream_)); }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  cudaStream_t get() const { return stream_; }
  void synchronize() const { YS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

class event {
 public:
  event() { YS_CUDA_CHECK(cudaEventCreate(&event_)); }
  ~event() { static_cast<void>(cudaEventDestroy(event_)); }
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// A cuBLAS handle bound to one stream, in strict FP32.
class blas {
 public:
  explicit blas(cudaStream_t on) {
    YS_CUDA_CHECK(cublasCreate(&handle_));
    try {
      YS_CUDA_CHECK(cublasSetStream(handle_, on));
      YS_CUDA_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
      YS_CUDA_CHECK(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST));
    } catch (...) {
      static_cast<void>(cublasDestroy(handle_));
      throw;
    }
  }
  ~blas() { static_cast<void>(cublasDestroy(handle_)); }
  blas(const blas&) = delete;
  blas& operator=(const blas&) = delete;

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

// ---- GEMM and kernels -----------------------------------------------------------------------

// C = A B for row-major A (m x k), B (k x n), C (m x n), each densely packed (leading dimension
// its row length): cuBLAS computes C^T = B^T A^T in its column-major view (see the top).
void gemm_row_major(cublasHandle_t handle, std::int64_t m, std::int64_t n, std::int64_t k,
                    const float* a, const float* b, float* c) {
  const float one = 1.0F;
  const float zero = 0.0F;
  const int rows = to_int(m, "GEMM rows");
  const int cols = to_int(n, "GEMM columns");
  const int inner = to_int(k, "GEMM inner dimension");
  YS_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, cols, rows, inner, &one, b, cols, a,
                            inner, &zero, c, cols));
}

// Row-major GEMM problems C_i = A_i B_i (each densely packed), run as one
// cublasGemmGroupedBatchedEx call with one problem per group: the experts' GEMMs of one stage
// in a single launch sequence. cuBLAS reads the operations, sizes, leading dimensions, scalars
// (float, as CUBLAS_COMPUTE_32F wants, under CUBLAS_POINTER_MODE_HOST) and group sizes from host
// arrays during the call, and the matrix pointers from device arrays, which upload() copies there
// through pinned memory. Use: clear(), add() every problem, upload() once, then launch() as often
// as wanted. launch() writes no memory that a queued copy or GEMM may still read, so repeated
// launches (the timing loops) need no wait; upload() does, see there.
class grouped_gemm {
 public:
  void clear() {
    m_.clear();
    n_.clear();
    k_.clear();
    lda_.clear();
    ldb_.clear();
    ldc_.clear();
    pointers_.clear();
    uploaded_ = false;
  }

  // C (m x n) = A (m x k) B (k x n), row-major. In cuBLAS's column-major view that is
  // C^T (n x m) = B^T (n x k) A^T (k x m), as in gemm_row_major: cuBLAS's m, n, k are n, m, k,
  // its A is the row-major B (leading dimension n), its B the row-major A (leading dimension k),
  // and C's leading dimension is n.
  void add(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b,
           float* c) {
    m_.push_back(to_int(n, "GEMM columns"));
    n_.push_back(to_int(m, "GEMM rows"));
    k_.push_back(to_int(k, "GEMM inner dimension"));
    lda_.push_back(m_.back());
    ldb_.push_back(k_.back());
    ldc_.push_back(m_.back());
    pointers_.push_back({b, a, c});
    uploaded_ = false;
  }

  // Fills the host arrays and queues the copy of the matrix pointers to the device on `on`. The
  // caller makes sure that nothing queued still reads the previous upload, neither its pinned
  // source nor its device copy (both may be rewritten or reallocated here): the MoE pass calls it
  // right after waiting for the stream.
  void upload(const stream& on) {
    const std::size_t count = pointers_.size();
    to_int(static_cast<std::int64_t>(count), "grouped GEMM problems");
    ops_.assign(count, CUBLAS_OP_N);
    alpha_.assign(count, 1.0F);
    beta_.assign(count, 0.0F);
    group_sizes_.assign(count, 1);
    // Each of the three pointer arrays starts on a kPointerAlignment boundary of the allocation
    // (cudaMalloc aligns that to 256 bytes), whatever the count.
    stride_ = (count + kPointersPerBlock - 1) / kPointersPerBlock * kPointersPerBlock;
    if (count == 0) {
      uploaded_ = true;
      return;
    }
    if (host_pointers_ == nullptr || host_capacity_ < 3 * stride_) {
      host_pointers_.reset();
      host_pointers_ = std::make_unique<pinned_buffer<const void*>>(3 * stride_);
      host_capacity_ = 3 * stride_;
    }
    const void** host = host_pointers_->get();
    std::fill_n(host, 3 * stride_, nullptr);
    for (std::size_t i = 0; i < count; ++i) {
      host[i] = pointers_[i].a;
      host[stride_ + i] = pointers_[i].b;
      host[2 * stride_ + i] = pointers_[i].c;
    }
    device_pointers_.reserve(3 * stride_);
    YS_CUDA_CHECK(cudaMemcpyAsync(device_pointers_.get(), host, 3 * stride_ * sizeof(const void*),
                                  cudaMemcpyHostToDevice, on.get()));
    uploaded_ = true;
  }

  // Queues the GEMMs on the handle's stream. Throws std::logic_error unless upload() followed
  // the last change to the problems.
  void launch(cublasHandle_t handle) const {
    if (!uploaded_) throw std::logic_error("grouped_gemm::launch before upload");
    const std::size_t count = pointers_.size();
    if (count == 0) return;
    const void* const* a = device_pointers_.get();
    const void* const* b = a + stride_;
    // The C pointers are stored as const void* like the others; cuBLAS writes through them.
    void* const* c = const_cast<void* const*>(a + 2 * stride_);
    YS_CUDA_CHECK(cublasGemmGroupedBatchedEx(
        handle, ops_.data(), ops_.data(), m_.data(), n_.data(), k_.data(), alpha_.data(), a,
        CUDA_R_32F, lda_.data(), b, CUDA_R_32F, ldb_.data(), beta_.data(), c, CUDA_R_32F,
        ldc_.data(), static_cast<int>(count), group_sizes_.data(), CUBLAS_COMPUTE_32F));
  }

 private:
  static constexpr std::size_t kPointerAlignment = 256;  // bytes
  static constexpr std::size_t kPointersPerBlock = kPointerAlignment / sizeof(const void*);

  struct problem_pointers {
    const void* a;  // cuBLAS's A: the row-major B
    const void* b;  // cuBLAS's B: the row-major A
    void* c;
  };
  std::vector<int> m_, n_, k_, lda_, ldb_, ldc_, group_sizes_;
  std::vector<float> alpha_, beta_;
  std::vector<cublasOperation_t> ops_;
  std::vector<problem_pointers> pointers_;
  bool uploaded_ = false;
  std::size_t stride_ = 0;  // pointers from one array to the next in the uploaded block
  std::unique_ptr<pinned_buffer<const void*>> host_pointers_;
  std::size_t host_capacity_ = 0;
  device_buffer<const void*> device_pointers_;
};

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over `count` elements (count >= 1).
unsigned int grid_for(std::int64_t count) {
  const std::int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(std::min<std::int64_t>(blocks, std::int64_t{1} << 20));
}

__device__ std::int64_t global_thread() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ std::int64_t grid_threads() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

// gate_in_hidden_out[i] <- silu(gate[i]) * up[i], in place over the gate projection.
__global__ void swiglu_kernel(float* gate_in_hidden_out, const float* up, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) {
    const float g = gate_in_hidden_out[i];
    gate_in_hidden_out[i] = g / (1.0F + expf(-g)) * up[i];
  }
}

void swiglu(float* gate_in_hidden_out, const float* up, std::int64_t count, cudaStream_t on) {
  swiglu_kernel<<<grid_for(count), kThreads, 0, on>>>(gate_in_hidden_out, up, count);
  YS_CUDA_CHECK_LAUNCH();
}

// One token's routing. Pass j picks the best expert ranked strictly after pick j - 1 in the
// order "higher logit first, then lower index": the picks are exactly the first top_k elements
// of route()'s std::partial_sort. Then the softmax over the picked logits, shifted by the
// largest, in float and in the same order of operations as route().
__device__ void route_token(const float* row, int experts, int top_k, std::int32_t* picked,
                            float* weight) {
  int previous = -1;
  float previous_value = 0.0F;
  for (int j = 0; j < top_k; ++j) {
    int best = -1;
    float best_value = 0.0F;
    for (int e = 0; e < experts; ++e) {
      const float v = row[e];
      const bool after_previous =
          previous < 0 || v < previous_value || (v == previous_value && e > previous);
      // Ascending e: an equal logit never replaces the best, so the lower index wins a tie.
      if (after_previous && (best < 0 || v > best_value)) {
        best = e;
        best_value = v;
      }
    }
    if (best < 0) {
      // Only NaN logits get here: take the lowest expert not picked yet, so that the picks stay
      // distinct and in range (the output is NaN anyway).
      for (int e = 0; e < experts && best < 0; ++e) {
        bool taken = false;
        for (int i = 0; i < j; ++i)
          taken = taken || picked[i] == e;
        if (!taken) best = e;
      }
      best_value = row[best];
    }
    picked[j] = best;
    weight[j] = best_value;
    previous = best;
    previous_value = best_value;
  }
  const float largest = weight[0];
  float total = 0.0F;
  for (int j = 0; j < top_k; ++j) {
    weight[j] = expf(weight[j] - largest);
    total += weight[j];
  }
  for (int j = 0; j < top_k; ++j)
    weight[j] /= total;
}

// One thread per token (a grid-stride loop).
__global__ void route_kernel(const float* logits, std::int64_t tokens, int experts, int top_k,
                             std::int32_t* expert, float* gate) {
  for (std::int64_t t = global_thread(); t < tokens; t += grid_threads())
    route_token(logits + t * experts, experts, top_k, expert + t * top_k, gate + t * top_k);
}

// One block per expert e. Its offset is the number of slots that chose a lower expert; its rows
// are its slots in slot (token-major) order, found with a block-wide exclusive scan per chunk of
// slots. This is group_by_expert()'s stable counting sort, deterministic and without atomics.
// Also writes the inverse: slot_row[slot] = the grouped row that holds it.
__global__ void group_kernel(const std::int32_t* expert, std::int64_t slots, int experts,
                             std::int64_t* offsets, std::int64_t* grouped_slot,
                             std::int32_t* slot_row) {
  using block_reduce = cub::BlockReduce<std::int64_t, kThreads>;
  using block_scan = cub::BlockScan<int, kThreads>;
  __shared__ union {
    typename block_reduce::TempStorage reduce;
    typename block_scan::TempStorage scan;
  } temp;
  __shared__ std::int64_t offset;
  const int e = static_cast<int>(blockIdx.x);

  std::int64_t below = 0;
  for (std::int64_t s = threadIdx.x; s < slots; s += kThreads)
    below += expert[s] < e ? 1 : 0;
  const std::int64_t all_below = block_reduce(temp.reduce).Sum(below);  // valid in thread 0
  if (threadIdx.x == 0) {
    offset = all_below;
    offsets[e] = all_below;
    if (e == experts - 1) offsets[experts] = slots;
  }
  __syncthreads();

  std::int64_t next_row = offset;  // the same in every thread
  for (std::int64_t first = 0; first < slots; first += kThreads) {
    const std::int64_t s = first + threadIdx.x;
    const int mine = s < slots && expert[s] == e ? 1 : 0;
    int before = 0;
    int chunk_count = 0;
    block_scan(temp.scan).ExclusiveSum(mine, before, chunk_count);
    if (mine != 0) {
      const std::int64_t row = next_row + before;
      grouped_slot[row] = s;
      slot_row[s] = static_cast<std::int32_t>(row);
    }
    next_row += chunk_count;
    __syncthreads();  // temp.scan is reused by the next chunk
  }
}

// Grouped row r <- x[token of grouped_slot[r]]. One block per grouped row.
__global__ void gather_kernel(const float* x, const std::int64_t* grouped_slot, int top_k,
                              std::int64_t d_model, float* grouped_x) {
  const std::int64_t row = blockIdx.x;
  const std::int64_t token = grouped_slot[row] / top_k;
  const float* from = x + token * d_model;
  float* to = grouped_x + row * d_model;
  for (std::int64_t c = threadIdx.x; c < d_model; c += blockDim.x)
    to[c] = from[c];
}

// y[t] = sum over j of gate[t, j] x expert_out[slot_row[t, j]], j in order. One block per token.
__global__ void unpermute_kernel(const float* expert_out, const std::int32_t* slot_row,
                                 const float* gate, int top_k, std::int64_t d_model, float* y) {
  const std::int64_t first_slot = static_cast<std::int64_t>(blockIdx.x) * top_k;
  float* out = y + static_cast<std::int64_t>(blockIdx.x) * d_model;
  for (std::int64_t c = threadIdx.x; c < d_model; c += blockDim.x) {
    float sum = 0.0F;
    for (int j = 0; j < top_k; ++j) {
      const std::int64_t row = slot_row[first_slot + j];
      sum += gate[first_slot + j] * expert_out[row * d_model + c];
    }
    out[c] = sum;
  }
}

// Uniform in [-1, 1) from a hash of the index: test data for the square GEMM.
__global__ void fill_uniform_kernel(float* data, std::int64_t count, std::uint64_t seed) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) {
    std::uint64_t z = static_cast<std::uint64_t>(i) + seed * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    data[i] = static_cast<float>(z >> 40) * (2.0F / 16777216.0F) - 1.0F;
  }
}

// ---- Shared helpers -------------------------------------------------------------------------

template <typename T>
void upload(const std::vector<T>& from, device_buffer<T>& to, cudaStream_t on) {
  to.reserve(from.size());
  YS_CUDA_CHECK(
      cudaMemcpyAsync(to.get(), from.data(), from.size() * sizeof(T), cudaMemcpyHostToDevice, on));
}

template <typename T>
std::vector<T> download(const T* from, std::size_t count, const stream& on) {
  std::vector<T> to(count);
  YS_CUDA_CHECK(
      cudaMemcpyAsync(to.data(), from, count * sizeof(T), cudaMemcpyDeviceToHost, on.get()));
  on.synchronize();
  return to;
}

void require_size(const std::vector<float>& values, std::size_t expected, const char* what) {
  if (values.size() != expected) {
    throw std::invalid_argument(std::string("CUDA FFN: ") + what + " has " +
                                std::to_string(values.size()) + " values, expected " +
                                std::to_string(expected));
  }
}

// The shape, once it and the weights' sizes are checked (std::invalid_argument otherwise).
dense_ffn_shape checked(const dense_ffn_weights& weights) {
  const dense_ffn_shape& shape = weights.shape;
  validate(shape);
  require_size(weights.gate, to_size(shape.d_model, shape.d_ff), "dense gate weights");
  require_size(weights.up, to_size(shape.d_model, shape.d_ff), "dense up weights");
  require_size(weights.down, to_size(shape.d_ff, shape.d_model), "dense down weights");
  return shape;
}

moe_ffn_shape checked(const moe_ffn_weights& weights) {
  const moe_ffn_shape& shape = weights.shape;
  validate(shape);
  to_int(shape.experts, "experts");
  const std::size_t all = to_size(shape.d_model, shape.d_expert) * to_size(shape.experts);
  require_size(weights.router, to_size(shape.d_model, shape.experts), "router weights");
  require_size(weights.gate, all, "expert gate weights");
  require_size(weights.up, all, "expert up weights");
  require_size(weights.down, all, "expert down weights");
  return shape;
}

void require_timing_arguments(std::int64_t tokens, int iterations) {
  if (tokens < 1) throw std::invalid_argument("CUDA FFN: tokens must be >= 1");
  if (iterations < 1) throw std::invalid_argument("CUDA FFN: iterations must be >= 1");
}

// One warm-up pass, then the mean device time of `iterations` passes between two events.
template <typename Pass>
double time_passes(const stream& on, int iterations, const Pass& pass) {
  pass();
  event start;
  event stop;
  YS_CUDA_CHECK(cudaEventRecord(start.get(), on.get()));
  for (int i = 0; i < iterations; ++i)
    pass();
  YS_CUDA_CHECK(cudaEventRecord(stop.get(), on.get()));
  YS_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  float milliseconds = 0.0F;
  YS_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start.get(), stop.get()));
  return static_cast<double>(milliseconds) * 1e-3 / iterations;
}

// Uploads random activations for `tokens` tokens into `input` unless it holds them already.
void upload_timing_input(std::int64_t tokens, std::int64_t d_model, device_buffer<float>& input,
                         std::int64_t& input_tokens, const stream& on) {
  if (input_tokens == tokens) return;
  input_tokens = 0;
  const std::vector<float> x = random_activations(tokens, d_model, 0x7157);
  upload(x, input, on.get());
  on.synchronize();  // before `x` goes: a copy from pageable memory may still be reading it
  input_tokens = tokens;
}

// forward() and seconds_per_forward() of either layer: `Layer` is dense_ffn::state or
// moe_ffn::state, which share the members used here (shape.d_model, reserve, run, x, y, work,
// timing_input, timing_tokens).
template <typename Layer>
std::vector<float> forward_through(Layer& s, const std::vector<float>& x, std::int64_t tokens) {
  if (tokens < 1) throw std::invalid_argument("CUDA FFN: tokens must be >= 1");
  require_size(x, to_size(tokens, s.shape.d_model), "x");
  s.reserve(tokens);
  upload(x, s.x, s.work.get());
  s.run(s.x.get(), tokens);
  return download(s.y.get(), to_size(tokens, s.shape.d_model), s.work);
}

template <typename Layer>
double seconds_through(Layer& s, std::int64_t tokens, int iterations) {
  require_timing_arguments(tokens, iterations);
  s.reserve(tokens);
  upload_timing_input(tokens, s.shape.d_model, s.timing_input, s.timing_tokens, s.work);
  return time_passes(s.work, iterations, [&s, tokens] { s.run(s.timing_input.get(), tokens); });
}

}  // namespace

std::string unavailable_reason() {
  int devices = 0;
  if (const cudaError_t status = cudaGetDeviceCount(&devices); status != cudaSuccess) {
    static_cast<void>(cudaGetLastError());
    return std::string("no CUDA device: ") + cudaGetErrorString(status);
  }
  if (devices < 1) return "no CUDA device: the runtime reports 0 devices";
  // A device that the kernels were not compiled for (CMAKE_CUDA_ARCHITECTURES) cannot run them.
  cudaFuncAttributes attributes{};
  if (const cudaError_t status = cudaFuncGetAttributes(&attributes, swiglu_kernel);
      status != cudaSuccess) {
    static_cast<void>(cudaGetLastError());
    return "no CUDA device: cannot run the kernels on " + device_name() + ": " +
           cudaGetErrorString(status);
  }
  return "";
}

std::string device_name() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1) {
    static_cast<void>(cudaGetLastError());
    return "";
  }
  int device = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaGetDeviceProperties(&properties, device) != cudaSuccess) {
    static_cast<void>(cudaGetLastError());
    return "";
  }
  return std::string(properties.name) + " (sm_" + std::to_string(properties.major) +
         std::to_string(properties.minor) + ", " + std::to_string(properties.multiProcessorCount) +
         " SMs)";
}

// ---- Dense layer ----------------------------------------------------------------------------

struct dense_ffn::state {
  explicit state(const dense_ffn_weights& weights) : shape(checked(weights)), handle(work.get()) {
    upload(weights.gate, gate, work.get());
    upload(weights.up, up, work.get());
    upload(weights.down, down, work.get());
    work.synchronize();
  }
  ~state() { static_cast<void>(cudaStreamSynchronize(work.get())); }
  state(const state&) = delete;
  state& operator=(const state&) = delete;

  void reserve(std::int64_t tokens) {
    to_int(tokens, "tokens");
    work.synchronize();  // nothing queued may still use a buffer that grows
    x.reserve(to_size(tokens, shape.d_model));
    g.reserve(to_size(tokens, shape.d_ff));
    u.reserve(to_size(tokens, shape.d_ff));
    y.reserve(to_size(tokens, shape.d_model));
  }

  // Queues one pass from `input` (tokens x d_model on the device) into y; reserve() first.
  void run(const float* input, std::int64_t tokens) {
    gemm_row_major(handle.get(), tokens, shape.d_ff, shape.d_model, input, gate.get(), g.get());
    gemm_row_major(handle.get(), tokens, shape.d_ff, shape.d_model, input, up.get(), u.get());
    swiglu(g.get(), u.get(), tokens * shape.d_ff, work.get());
    gemm_row_major(handle.get(), tokens, shape.d_model, shape.d_ff, g.get(), down.get(), y.get());
  }

  dense_ffn_shape shape;
  stream work;
  blas handle;
  device_buffer<float> gate;
  device_buffer<float> up;
  device_buffer<float> down;
  device_buffer<float> x;
  device_buffer<float> g;  // the gate projection, then the hidden activations in place
  device_buffer<float> u;
  device_buffer<float> y;
  device_buffer<float> timing_input;  // random activations for seconds_per_forward
  std::int64_t timing_tokens = 0;
};

dense_ffn::dense_ffn(const dense_ffn_weights& weights) {
  require_available();
  state_ = std::make_unique<state>(weights);
}

dense_ffn::~dense_ffn() = default;

std::vector<float> dense_ffn::forward(const std::vector<float>& x, std::int64_t tokens) {
  return forward_through(*state_, x, tokens);
}

double dense_ffn::seconds_per_forward(std::int64_t tokens, int iterations) {
  return seconds_through(*state_, tokens, iterations);
}

// ---- MoE layer ------------------------------------------------------------------------------

struct moe_ffn::state {
  explicit state(const moe_ffn_weights& weights)
      : shape(checked(weights)), handle(work.get()), host_offsets(to_size(shape.experts) + 1) {
    upload(weights.router, router, work.get());
    upload(weights.gate, gate, work.get());
    upload(weights.up, up, work.get());
    upload(weights.down, down, work.get());
    offsets.reserve(to_size(shape.experts) + 1);
    work.synchronize();
  }
  ~state() { static_cast<void>(cudaStreamSynchronize(work.get())); }
  state(const state&) = delete;
  state& operator=(const state&) = delete;

  void reserve(std::int64_t tokens) {
    const std::int64_t slots = tokens * shape.top_k;
    to_int(slots, "tokens x top_k");
    work.synchronize();  // nothing queued may still use a buffer that grows
    routed_slots = 0;    // the uploaded GEMM problems may point into buffers that grow
    x.reserve(to_size(tokens, shape.d_model));
    logits.reserve(to_size(tokens, shape.experts));
    expert.reserve(to_size(slots));
    gates.reserve(to_size(slots));
    grouped_slot.reserve(to_size(slots));
    slot_row.reserve(to_size(slots));
    grouped_x.reserve(to_size(slots, shape.d_model));
    g.reserve(to_size(slots, shape.d_expert));
    u.reserve(to_size(slots, shape.d_expert));
    expert_out.reserve(to_size(slots, shape.d_model));
    y.reserve(to_size(tokens, shape.d_model));
  }

  // One pass from `input` (tokens x d_model on the device) into y, in the three stages below;
  // reserve() first. Waits once, in route(); returns with the rest still queued.
  void run(const float* input, std::int64_t tokens) {
    route(input, tokens);
    expert_gemms();
    combine(tokens);
  }

  // Stage 1, steps 1-5 at the top: queues the router GEMM, routing, grouping and gather, waits
  // for the expert offsets, then builds both grouped GEMM problem lists and queues the upload of
  // their pointer arrays. The wait has drained the stream, so the uploads overwrite nothing that
  // queued work still reads.
  void route(const float* input, std::int64_t tokens) {
    const std::int64_t slots = tokens * shape.top_k;
    const int experts = static_cast<int>(shape.experts);
    const int top_k = static_cast<int>(shape.top_k);
    cudaStream_t on = work.get();
    last_tokens = 0;   // until this pass's routing is queued
    routed_slots = 0;  // until this pass's GEMM problems are uploaded

    gemm_row_major(handle.get(), tokens, shape.experts, shape.d_model, input, router.get(),
                   logits.get());
    route_kernel<<<grid_for(tokens), kThreads, 0, on>>>(logits.get(), tokens, experts, top_k,
                                                        expert.get(), gates.get());
    YS_CUDA_CHECK_LAUNCH();
    group_kernel<<<experts, kThreads, 0, on>>>(expert.get(), slots, experts, offsets.get(),
                                               grouped_slot.get(), slot_row.get());
    YS_CUDA_CHECK_LAUNCH();
    gather_kernel<<<static_cast<unsigned int>(slots), kThreads, 0, on>>>(
        input, grouped_slot.get(), top_k, shape.d_model, grouped_x.get());
    YS_CUDA_CHECK_LAUNCH();
    last_tokens = tokens;

    YS_CUDA_CHECK(cudaMemcpyAsync(host_offsets.get(), offsets.get(),
                                  (to_size(shape.experts) + 1) * sizeof(std::int64_t),
                                  cudaMemcpyDeviceToHost, on));
    work.synchronize();
    const std::int64_t* offset = host_offsets.get();

    // The gate and up projections of every non-empty expert in one list, their down
    // projections in the other. Every matrix starts at a cudaMalloc'd base (256-byte aligned)
    // plus a whole number of rows, so it is 16-byte aligned whenever d_model and d_expert are
    // multiples of 4, as in every shape used here.
    const std::size_t expert_size = to_size(shape.d_model, shape.d_expert);
    gate_up_gemms.clear();
    down_gemms.clear();
    for (int e = 0; e < experts; ++e) {
      const std::int64_t rows = offset[e + 1] - offset[e];
      if (rows == 0) continue;
      const float* rows_x = grouped_x.get() + offset[e] * shape.d_model;
      gate_up_gemms.add(rows, shape.d_expert, shape.d_model, rows_x, gate.get() + e * expert_size,
                        g.get() + offset[e] * shape.d_expert);
      gate_up_gemms.add(rows, shape.d_expert, shape.d_model, rows_x, up.get() + e * expert_size,
                        u.get() + offset[e] * shape.d_expert);
      down_gemms.add(rows, shape.d_model, shape.d_expert, g.get() + offset[e] * shape.d_expert,
                     down.get() + e * expert_size, expert_out.get() + offset[e] * shape.d_model);
    }
    gate_up_gemms.upload(work);
    down_gemms.upload(work);
    routed_slots = slots;
  }

  // Stage 2, step 6: the grouped gate and up GEMMs, SwiGLU over every grouped row, the grouped
  // down GEMMs, from grouped_x into expert_out; queued only. Any number of times after one
  // route(): it rewrites no host memory and reads only what route() left on the device.
  void expert_gemms() {
    if (routed_slots == 0) throw std::logic_error("CUDA FFN: expert GEMMs before routing");
    gate_up_gemms.launch(handle.get());
    swiglu(g.get(), u.get(), routed_slots * shape.d_expert, work.get());
    down_gemms.launch(handle.get());
  }

  // Stage 3, step 7: y = each token's gate-weighted sum of its expert outputs; queued only.
  void combine(std::int64_t tokens) {
    unpermute_kernel<<<static_cast<unsigned int>(tokens), kThreads, 0, work.get()>>>(
        expert_out.get(), slot_row.get(), gates.get(), static_cast<int>(shape.top_k), shape.d_model,
        y.get());
    YS_CUDA_CHECK_LAUNCH();
  }

  moe_ffn_shape shape;
  stream work;
  blas handle;
  device_buffer<float> router;
  device_buffer<float> gate;
  device_buffer<float> up;
  device_buffer<float> down;
  device_buffer<float> x;
  device_buffer<float> logits;               // tokens x experts
  device_buffer<std::int32_t> expert;        // slot -> expert
  device_buffer<float> gates;                // slot -> gate
  device_buffer<std::int64_t> offsets;       // experts + 1
  device_buffer<std::int64_t> grouped_slot;  // grouped row -> slot
  device_buffer<std::int32_t> slot_row;      // slot -> grouped row
  device_buffer<float> grouped_x;            // slots x d_model
  device_buffer<float> g;                    // slots x d_expert; hidden activations in place
  device_buffer<float> u;                    // slots x d_expert
  device_buffer<float> expert_out;           // slots x d_model
  device_buffer<float> y;                    // tokens x d_model
  pinned_buffer<std::int64_t> host_offsets;
  grouped_gemm gate_up_gemms;
  grouped_gemm down_gemms;
  device_buffer<float> timing_input;
  std::int64_t timing_tokens = 0;
  std::int64_t last_tokens = 0;   // of the routing now in expert/gates/offsets/grouped_slot
  std::int64_t routed_slots = 0;  // tokens x top_k of the problems now uploaded, 0 if none
};

moe_ffn::moe_ffn(const moe_ffn_weights& weights) {
  require_available();
  state_ = std::make_unique<state>(weights);
}

moe_ffn::~moe_ffn() = default;

std::vector<float> moe_ffn::forward(const std::vector<float>& x, std::int64_t tokens) {
  return forward_through(*state_, x, tokens);
}

double moe_ffn::seconds_per_forward(std::int64_t tokens, int iterations) {
  return seconds_through(*state_, tokens, iterations);
}

double moe_ffn::seconds_per_expert_gemms(std::int64_t tokens, int iterations) {
  state& s = *state_;
  require_timing_arguments(tokens, iterations);
  s.reserve(tokens);
  upload_timing_input(tokens, s.shape.d_model, s.timing_input, s.timing_tokens, s.work);
  s.route(s.timing_input.get(), tokens);
  return time_passes(s.work, iterations, [&s] { s.expert_gemms(); });
}

routing_plan moe_ffn::last_routing() const {
  const state& s = *state_;
  routing_plan plan;
  plan.tokens = s.last_tokens;
  plan.top_k = s.shape.top_k;
  if (s.last_tokens == 0) {
    plan.expert_offsets.assign(to_size(s.shape.experts) + 1, 0);
    return plan;
  }
  const std::size_t slots = to_size(s.last_tokens, s.shape.top_k);
  plan.expert = download(s.expert.get(), slots, s.work);
  plan.gate = download(s.gates.get(), slots, s.work);
  plan.expert_offsets = download(s.offsets.get(), to_size(s.shape.experts) + 1, s.work);
  plan.grouped_slot = download(s.grouped_slot.get(), slots, s.work);
  return plan;
}

// ---- Square GEMM ----------------------------------------------------------------------------

double square_gemm_seconds(std::int64_t n, int iterations) {
  require_available();
  if (n < 1) throw std::invalid_argument("CUDA FFN: n must be >= 1");
  if (iterations < 1) throw std::invalid_argument("CUDA FFN: iterations must be >= 1");
  to_int(n, "n");
  const std::int64_t count = n * n;
  stream work;
  blas handle(work.get());
  device_buffer<float> a;
  device_buffer<float> b;
  device_buffer<float> c;
  a.reserve(to_size(count));
  b.reserve(to_size(count));
  c.reserve(to_size(count));
  fill_uniform_kernel<<<grid_for(count), kThreads, 0, work.get()>>>(a.get(), count, 1);
  YS_CUDA_CHECK_LAUNCH();
  fill_uniform_kernel<<<grid_for(count), kThreads, 0, work.get()>>>(b.get(), count, 2);
  YS_CUDA_CHECK_LAUNCH();
  const double seconds = time_passes(
      work, iterations, [&] { gemm_row_major(handle.get(), n, n, n, a.get(), b.get(), c.get()); });
  work.synchronize();
  return seconds;
}

}  // namespace ys::profiler::cuda
