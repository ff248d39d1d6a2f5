// Tile functions run back to back on one block give the same bits as a block
// per tile. The op convention (common/op.cuh) lets a block run several tiles
// of one op in turn, so each tile function keeps its shared memory from the
// previous tile's readers itself: the launch path's loops (KM_OP_KERNEL under
// KEYMATE_OPS_MAX_BLOCKS, the matmul loop kernel) put no barrier between
// tiles. Two tile functions had no test that ran them so:
//   - the tensor-core GEMM: gpu_matmul's sweep loops on 3 blocks, but the GEMM
//     shapes the harness can afford there have at most 2 tiles; its epilogue's
//     last barrier (the staging area is read before it becomes the next
//     tile's k-step stages) went unchecked. Here 4 tiles run on 1 block.
//   - QuantizeAct's one-scale-per-row form (W8A8): its launch path is a block
//     per row and never loops; its last barrier (`red` is read before the
//     next row writes it) went unchecked. Here its own loop kernel runs 16
//     rows on 1 block.
// The persistent kernel's barrier after each tile covers both there.
//
// Built into keymate_simt_tests (the gpu_matmul group) with the harness's
// kernel tests: the harness runs them; the real-GPU test build does not.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "keymate/half.h"
#include "matmul/matmul_harness.h"
#include "matmul/quantize_act.cuh"
#include "test.h"

namespace {

using km::cuda::Epilogue;

TEST(gpu_matmul, gemm_tiles_back_to_back_on_one_block_match_a_block_per_tile) {
  constexpr int rows = 256, cols = 64, n = 70;  // 2 x 128 rows, 2 x 64 tokens
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint16_t> w((size_t)rows * cols);
  for (uint16_t& v : w) v = km::fp32_to_fp16(0.05f * u(rng));
  std::vector<float> x((size_t)n * cols);
  for (float& v : x) v = u(rng);
  for (Epilogue e : {Epilogue::Store, Epilogue::SiluMul}) {
    km::cuda::MatmulArgs a{};
    a.w = w.data();
    a.row_bytes = cols * sizeof(uint16_t);
    a.rows = rows;
    a.cols = cols;
    a.type = km::GgmlType::F16;
    a.epilogue = e;
    km::cuda::MatmulHarness h(a);
    REQUIRE(h.uses_gemm(n));
    std::vector<float> per_tile((size_t)h.y_rows(n) * h.out_rows(), 0.0f), looped = per_tile;
    h.run(x.data(), n, per_tile.data());
    h.run(x.data(), n, looped.data(), 1);  // every tile on block 0, one after another
    int differ = 0;
    for (size_t i = 0; i < looped.size(); i++) {
      if (looped[i] == per_tile[i]) continue;
      if (differ++ == 0)
        std::fprintf(stderr, "gemm %s: token %zu output %zu: %g on one block, %g with a block per tile\n",
                     e == Epilogue::Store ? "store" : "silu_mul", i / h.out_rows(), i % h.out_rows(), looped[i],
                     per_tile[i]);
    }
    CHECK_EQ(differ, 0);
  }
}

// QuantizeAct's tiles on gridDim.x blocks in a loop, as the persistent kernel runs them.
__global__ void quantize_act_loop_kernel(const km::cuda::QuantizeActArgs a, const km::cuda::StepState* st) {
  __shared__ __align__(16) char smem[km::cuda::kQuantizeActSmem];
  const int tiles = km::cuda::quantize_act_tiles(a, *st);
  for (int t = blockIdx.x; t < tiles; t += gridDim.x) km::cuda::quantize_act_tile(a, *st, t, smem);
}

#define CUDA_OK(call) REQUIRE((call) == cudaSuccess)

TEST(gpu_matmul, quantize_act_rows_back_to_back_on_one_block_match_a_block_per_row) {
  constexpr int n = 16, cols = 256;
  const size_t row_bytes = km::cuda::quant_act_row_bytes(cols, 0), bytes = n * row_bytes;
  // Each row's largest value grows with the row, so a row that reads the next
  // row's warp maxima gets another scale.
  std::vector<float> x((size_t)n * cols);
  for (int t = 0; t < n; t++)
    for (int k = 0; k < cols; k++) x[(size_t)t * cols + k] = (float)(t + 1) * (float)((k * 29 + t) % 61 - 30) / 30.0f;
  km::cuda::StepState st{};
  st.n = n;
  float* dx = nullptr;
  km::cuda::StepState* dst = nullptr;
  uint8_t *per_row = nullptr, *looped = nullptr;
  CUDA_OK(cudaMalloc(&dx, x.size() * sizeof(float)));
  CUDA_OK(cudaMalloc(&dst, sizeof st));
  CUDA_OK(cudaMalloc(&per_row, bytes));
  CUDA_OK(cudaMalloc(&looped, bytes));
  CUDA_OK(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dst, &st, sizeof st, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(per_row, 0, bytes));
  CUDA_OK(cudaMemset(looped, 0, bytes));
  km::cuda::QuantizeActArgs a{};
  a.x = dx;
  a.cols = cols;
  a.block = 0;  // one scale per row: the form that reduces through shared memory
  a.out = per_row;
  km::cuda::launch_quantize_act(a, dst, km::cuda::quantize_act_max_tiles(a), 0);
  a.out = looped;
  quantize_act_loop_kernel<<<1, km::cuda::kThreads>>>(a, dst);
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<uint8_t> want(bytes), got(bytes);
  CUDA_OK(cudaMemcpy(want.data(), per_row, bytes, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(got.data(), looped, bytes, cudaMemcpyDeviceToHost));
  int rows_differ = 0;
  for (int t = 0; t < n; t++) {
    if (std::memcmp(want.data() + t * row_bytes, got.data() + t * row_bytes, row_bytes) == 0) continue;
    if (rows_differ++ == 0) {
      float dw = 0, dg = 0;
      std::memcpy(&dw, want.data() + t * row_bytes, 4);
      std::memcpy(&dg, got.data() + t * row_bytes, 4);
      std::fprintf(stderr, "quantize_act: row %d's bytes differ on one block (scale %g; %g with a block per row)\n",
                   t, dg, dw);
    }
  }
  CHECK_EQ(rows_differ, 0);
  cudaFree(dx);
  cudaFree(dst);
  cudaFree(per_row);
  cudaFree(looped);
}

}  // namespace
