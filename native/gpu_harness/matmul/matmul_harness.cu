// The test and benchmark harness of matmul_harness.h. The loop kernel runs
// tiles through matmul_tile(), the format switch the persistent kernel uses,
// on fewer blocks than tiles, so a test covers what the launch path cannot:
// tiles that follow one another on one block, sharing its shared memory.
#include <algorithm>
#include <random>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "matmul/matmul.cuh"
#include "matmul/matmul_harness.h"
#include "matmul/quantize_act.cuh"

namespace km::cuda {

namespace {

__global__ void __launch_bounds__(kThreads) matmul_loop_kernel(const MatmulArgs a, const StepState* st) {
  extern __shared__ __align__(16) char smem[];
  const int tiles = matmul_tiles(a, *st);
  for (int t = blockIdx.x; t < tiles; t += gridDim.x) matmul_tile(a, *st, t, smem);
}

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace

MatmulHarness::MatmulHarness(const MatmulArgs& shape, int copies) : a_(shape) {
  if (copies < 1) fail("matmul harness: copies must be >= 1");
  matmul_check(a_);  // before anything reads rows * row_bytes of the host weights
  const uint64_t wb = weight_bytes();
  for (int i = 0; i < copies; i++) {
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, wb));
    w_.push_back(p);
    CUDA_CHECK(cudaMemcpy(p, shape.w, wb, cudaMemcpyHostToDevice));
  }
  a_.w = w_[0];
  CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&x_), (size_t)kMaxStepTokens * a_.cols * sizeof(float)));
  CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&y_), (size_t)kMaxStepTokens * y_ld() * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&st_, sizeof(StepState)));
  a_.x = x_;
  a_.y = y_;
  const uint64_t sb = matmul_scratch_bytes(a_);
  if (sb) CUDA_CHECK(cudaMalloc(&scratch_, sb));
  a_.scratch = scratch_;
  cudaStream_t s = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  stream_ = s;
  settle_uploads();  // the weights went up on the legacy stream, which s does not wait for
  matmul_check(a_);
}

MatmulHarness::~MatmulHarness() {
  // Destructors cannot throw: errors here would only repeat an earlier one.
  for (void* p : w_) cudaFree(p);
  cudaFree(x_);
  cudaFree(y_);
  cudaFree(scratch_);
  cudaFree(st_);
  if (stream_) cudaStreamDestroy(as_stream(stream_));
}

bool MatmulHarness::uses_gemm(int n) const { return matmul_use_gemm(a_, a_.last_only ? 1 : n); }

int MatmulHarness::out_rows() const { return gated(a_.epilogue) ? a_.rows / 2 : a_.rows; }

void MatmulHarness::enqueue(int n, int copy, int grid) {
  MatmulArgs a = a_;
  a.w = w_[copy];
  cudaStream_t s = as_stream(stream_);
  if (matmul_needs_quantize_act(a)) {
    const QuantizeActArgs q = quantize_act_args_for(a);
    launch_quantize_act(q, static_cast<const StepState*>(st_), quantize_act_max_tiles(q), s);
  }
  if (grid == 0) {
    launch_matmul(a, static_cast<const StepState*>(st_), matmul_max_tiles(a), s);
  } else {
    matmul_loop_kernel<<<grid, kThreads, matmul_smem_bytes(a), s>>>(a, static_cast<const StepState*>(st_));
    CUDA_CHECK_LAUNCH();
  }
}

void MatmulHarness::run(const float* x, int n, float* y, int grid) {
  if (n < 1 || n > kMaxStepTokens) fail("matmul harness: n = %d is outside 1..%d", n, kMaxStepTokens);
  cudaStream_t s = as_stream(stream_);
  StepState st{};
  st.n = n;
  CUDA_CHECK(cudaMemcpyAsync(st_, &st, sizeof st, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemcpyAsync(x_, x, (size_t)n * a_.cols * sizeof(float), cudaMemcpyHostToDevice, s));
  const size_t yb = (size_t)y_rows(n) * y_ld() * sizeof(float);
  CUDA_CHECK(cudaMemcpyAsync(y_, y, yb, cudaMemcpyHostToDevice, s));
  enqueue(n, 0, grid);
  CUDA_CHECK(cudaMemcpyAsync(y, y_, yb, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
}

namespace {

// The median over `iters` runs of `run` (which enqueues on `s`), timed by events on `s`.
template <class Run>
double median_event_ms(cudaStream_t s, int iters, Run run) {
  cudaEvent_t e0, e1;
  CUDA_CHECK(cudaEventCreate(&e0));
  CUDA_CHECK(cudaEventCreate(&e1));
  std::vector<double> ms;
  for (int i = 0; i < iters; i++) {
    CUDA_CHECK(cudaEventRecord(e0, s));
    run(i);
    CUDA_CHECK(cudaEventRecord(e1, s));
    CUDA_CHECK(cudaEventSynchronize(e1));
    float t = 0;
    CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
    ms.push_back(t);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

double MatmulHarness::time_ms(int n, int iters) {
  if (n < 1 || n > kMaxStepTokens) fail("matmul harness: n = %d is outside 1..%d", n, kMaxStepTokens);
  cudaStream_t s = as_stream(stream_);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x((size_t)n * a_.cols), y((size_t)y_rows(n) * y_ld());
  for (float& v : x) v = u(rng);
  for (float& v : y) v = u(rng);
  StepState st{};
  st.n = n;
  CUDA_CHECK(cudaMemcpyAsync(st_, &st, sizeof st, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemcpyAsync(x_, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemcpyAsync(y_, y.data(), y.size() * sizeof(float), cudaMemcpyHostToDevice, s));
  const int copies = (int)w_.size();
  for (int i = 0; i < 3 * copies; i++) enqueue(n, i % copies, 0);  // warm-up: module load, clocks
  return median_event_ms(s, iters, [&](int i) { enqueue(n, i % copies, 0); });
}

double d2d_copy_gbps(uint64_t bytes, int iters) {
  void *a = nullptr, *b = nullptr;
  CUDA_CHECK(cudaMalloc(&a, bytes));
  CUDA_CHECK(cudaMalloc(&b, bytes));
  CUDA_CHECK(cudaMemset(a, 0x5a, bytes));  // never time untouched pages
  CUDA_CHECK(cudaMemset(b, 0x33, bytes));
  for (int i = 0; i < 3; i++) CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr));
  const double ms = median_event_ms(nullptr, iters, [&](int i) {
    CUDA_CHECK(cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice, nullptr));
  });
  cudaFree(a);
  cudaFree(b);
  return 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
}

DeviceInfo current_device() {
  DeviceInfo d;
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  d.name = p.name;
  d.cc = p.major * 10 + p.minor;
  d.sms = p.multiProcessorCount;
  d.l2_bytes = (uint64_t)p.l2CacheSize;
  int v = 0;
  CUDA_CHECK(cudaDriverGetVersion(&v));
  d.driver = std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
  return d;
}

}  // namespace km::cuda
