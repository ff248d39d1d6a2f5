// QuantizeAct: the preparatory op of a W8A8 matmul. Each activation row (one
// token) is quantized with one scale, exactly as the CPU twin does
// (cpu/act_quant.h, quantize_q8row): d = amax / 127, q = quant_i8(x, 127 / amax).
// amax is a max, so the block reduction's order cannot change it: the quants
// and scale are bit-identical to the CPU's, and so are W8A8's int32 sums.
// One tile per token row; the output layout is matmul_args.h's (scale, then
// 16-byte aligned quants), in the matmul's scratch.
#pragma once

#include <cuda_runtime.h>

#include "../common/op.cuh"
#include "matmul_args.h"

namespace km::cuda {

// Shared memory one tile uses: the per-warp maxima.
constexpr int kQuantizeActSmem = (kThreads / 32) * (int)sizeof(float);

KM_HD int quantize_act_tiles(const QuantizeActArgs& a, const StepState& st) { return a.last_only ? 1 : st.n; }

__device__ inline void quantize_act_tile(const QuantizeActArgs& a, const StepState& st, int tile, char* smem) {
  const int src = a.last_only ? st.n - 1 : tile;
  const float* x = a.x + (uint64_t)src * a.cols;
  uint8_t* out = static_cast<uint8_t*>(a.out) + (uint64_t)tile * quant_act_row_bytes(a.cols);
  float amax = 0.0f;
  for (int i = threadIdx.x * 4; i < a.cols; i += kThreads * 4) {
    const float4 v = *reinterpret_cast<const float4*>(x + i);
    amax = fmaxf(amax, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
  }
#pragma unroll
  for (int o = 16; o; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  float* red = reinterpret_cast<float*>(smem);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = amax;
  __syncthreads();
#pragma unroll
  for (int w = 0; w < kThreads / 32; w++) amax = fmaxf(amax, red[w]);
  const float d = amax / 127.0f, inv = amax != 0.0f ? 127.0f / amax : 0.0f;
  if (threadIdx.x == 0) *reinterpret_cast<float*>(out) = d;
  for (int i = threadIdx.x * 4; i < a.cols; i += kThreads * 4) {
    const float4 v = *reinterpret_cast<const float4*>(x + i);
    const uint32_t q = (uint32_t)(uint8_t)quant_i8(v.x, inv) | (uint32_t)(uint8_t)quant_i8(v.y, inv) << 8 |
                       (uint32_t)(uint8_t)quant_i8(v.z, inv) << 16 | (uint32_t)(uint8_t)quant_i8(v.w, inv) << 24;
    *reinterpret_cast<uint32_t*>(out + kQuantActHeader + i) = q;
  }
  __syncthreads();  // red is the next tile's shared memory on the persistent path
}

void launch_quantize_act(const QuantizeActArgs&, const StepState* st, int max_tiles, cudaStream_t);
int quantize_act_max_tiles(const QuantizeActArgs&);  // host: tiles at n = kMaxStepTokens

}  // namespace km::cuda
