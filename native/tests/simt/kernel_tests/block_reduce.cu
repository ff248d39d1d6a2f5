// block_sum and block_max of common/arch.cuh on their own. No op calls them
// at present, so nothing else runs their barriers: the one in the middle (the
// warps' partials are all written before any thread reads them) and the one
// at the start, which their contract rests on ("may be called back to back
// with the same red": the previous call's readers are done before this call
// writes). Here each thread calls block_sum twice and block_max once per
// round on one `red`, and every thread's results are checked. The values are
// small positive integers, so every sum is exact in any order, and a warp's
// partial sum (at least 32) is told apart from a maximum (at most 100).
//
// Translated with the SIMT harness and built into keymate_simt_tests (the
// gpu_ops group): the harness runs it; the real-GPU test build does not.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/arch.cuh"
#include "test.h"

namespace {

using km::cuda::kThreads;

constexpr int kBlocks = 2;
constexpr int kRounds = 8;

struct Results {
  float sum, twice, max;
};

__global__ void block_reduce_kernel(const float* x, Results* out) {
  __shared__ float red[km::cuda::kWarps];
  for (int r = 0; r < kRounds; r++) {
    const int i = (blockIdx.x * kRounds + r) * kThreads + threadIdx.x;
    const float v = x[i];
    Results o;
    o.sum = km::cuda::block_sum(v, red);
    o.twice = km::cuda::block_sum(2.0f * v, red);  // back to back with the same red
    o.max = km::cuda::block_max(v, red);
    out[i] = o;
  }
}

#define CUDA_OK(call) REQUIRE((call) == cudaSuccess)

TEST(gpu_ops, block_sum_and_block_max_give_every_thread_the_blocks_result_call_after_call) {
  constexpr int n = kBlocks * kRounds * kThreads;
  std::vector<float> x(n);
  for (int i = 0; i < n; i++) x[i] = static_cast<float>(1 + (i * 37 + i / 7) % 100);  // 1..100
  float* dx = nullptr;
  Results* dout = nullptr;
  CUDA_OK(cudaMalloc(&dx, n * sizeof(float)));
  CUDA_OK(cudaMalloc(&dout, n * sizeof(Results)));
  CUDA_OK(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  block_reduce_kernel<<<kBlocks, kThreads>>>(dx, dout);
  CUDA_OK(cudaGetLastError());
  std::vector<Results> out(n);
  CUDA_OK(cudaMemcpy(out.data(), dout, n * sizeof(Results), cudaMemcpyDeviceToHost));
  int wrong = 0;
  for (int row = 0; row < kBlocks * kRounds; row++) {
    const float* v = x.data() + row * kThreads;
    float sum = 0.0f;
    for (int t = 0; t < kThreads; t++) sum += v[t];
    const float max = *std::max_element(v, v + kThreads);
    for (int t = 0; t < kThreads; t++) {
      const Results& o = out[row * kThreads + t];
      if (o.sum == sum && o.twice == 2.0f * sum && o.max == max) continue;
      if (wrong++ == 0)
        std::fprintf(stderr, "block %d round %d thread %d: sum %g, twice %g, max %g; want %g, %g, %g\n",
                     row / kRounds, row % kRounds, t, o.sum, o.twice, o.max, sum, 2.0f * sum, max);
    }
  }
  CHECK_EQ(wrong, 0);
  cudaFree(dx);
  cudaFree(dout);
}

}  // namespace
