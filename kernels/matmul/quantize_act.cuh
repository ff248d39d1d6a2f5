// QuantizeAct: the preparatory op of the integer matmuls. Each activation row
// (one token) is quantized exactly as the CPU twin does (cpu/act_quant.h):
//   block 0   (W8A8)        one scale per row, quantize_q8row: d = amax / 127,
//                           q = quant_i8(x, 127 / amax)
//   block 32  (Q8_0, Q4_0)  one scale per 32 columns, quantize_q8a: the same
//                           rule per block, d then rounded to fp16 precision
// amax is a max, so no reduction order can change it: quants and scales are
// bit-identical to the CPU's, and so are the int32 sums the matmul forms from
// them. One tile per token row; the output layout is matmul_args.h's
// (scales, then 16-byte aligned quants), in the matmul's scratch.
#pragma once

#include <cuda_runtime.h>

#include "../common/op.cuh"
#include "keymate/half.h"
#include "matmul_args.h"

namespace km::cuda {

// Shared memory one tile uses: the per-warp maxima (per-row scale only).
constexpr int kQuantizeActSmem = (kThreads / 32) * (int)sizeof(float);

KM_HD int quantize_act_tiles(const QuantizeActArgs& a, const StepState& st) { return a.last_only ? 1 : st.n; }

__device__ __forceinline__ uint32_t quant_i8x4(float4 v, float inv) {
  return (uint32_t)(uint8_t)quant_i8(v.x, inv) | (uint32_t)(uint8_t)quant_i8(v.y, inv) << 8 |
         (uint32_t)(uint8_t)quant_i8(v.z, inv) << 16 | (uint32_t)(uint8_t)quant_i8(v.w, inv) << 24;
}

__device__ __forceinline__ float abs_max4(float4 v) {
  return fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
}

// Per 32-column block: a lane takes 4 columns, so 8 lanes hold a block and
// find its amax among themselves; no shared memory, no block barrier. Every
// lane of a warp runs every iteration (lanes past the row contribute 0), so
// the shuffles always see the whole warp.
__device__ __forceinline__ void quantize_act_blocks(const QuantizeActArgs& a, const float* x, uint8_t* out) {
  float* scales = reinterpret_cast<float*>(out);
  int8_t* q = reinterpret_cast<int8_t*>(out + quant_act_scale_bytes(a.cols, a.block));
  const int lane = threadIdx.x & 31;
  for (int w0 = (threadIdx.x >> 5) * 128; w0 < a.cols; w0 += kThreads * 4) {
    const int i = w0 + 4 * lane;
    const bool in = i < a.cols;
    const float4 v = in ? *reinterpret_cast<const float4*>(x + i) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    float amax = abs_max4(v);
#pragma unroll
    for (int o = 4; o; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    if (!in) continue;
    const float inv = amax != 0.0f ? 127.0f / amax : 0.0f;
    *reinterpret_cast<uint32_t*>(q + i) = quant_i8x4(v, inv);
    if ((lane & 7) == 0) scales[i / kQuantActBlock] = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
  }
}

// One scale for the row: warp maxima, then the block's through shared memory.
__device__ __forceinline__ void quantize_act_row(const QuantizeActArgs& a, const float* x, uint8_t* out, char* smem) {
  float amax = 0.0f;
  for (int i = threadIdx.x * 4; i < a.cols; i += kThreads * 4)
    amax = fmaxf(amax, abs_max4(*reinterpret_cast<const float4*>(x + i)));
#pragma unroll
  for (int o = 16; o; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  float* red = reinterpret_cast<float*>(smem);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = amax;
  __syncthreads();
#pragma unroll
  for (int w = 0; w < kThreads / 32; w++) amax = fmaxf(amax, red[w]);
  const float d = amax / 127.0f, inv = amax != 0.0f ? 127.0f / amax : 0.0f;
  if (threadIdx.x == 0) *reinterpret_cast<float*>(out) = d;
  uint8_t* q = out + quant_act_scale_bytes(a.cols, 0);
  for (int i = threadIdx.x * 4; i < a.cols; i += kThreads * 4)
    *reinterpret_cast<uint32_t*>(q + i) = quant_i8x4(*reinterpret_cast<const float4*>(x + i), inv);
  __syncthreads();  // red is the next tile's shared memory on the persistent path
}

__device__ inline void quantize_act_tile(const QuantizeActArgs& a, const StepState& st, int tile, char* smem) {
  const int src = a.last_only ? st.n - 1 : tile;
  const float* x = a.x + (uint64_t)src * a.cols;
  uint8_t* out = static_cast<uint8_t*>(a.out) + (uint64_t)tile * quant_act_row_bytes(a.cols, a.block);
  if (a.block) quantize_act_blocks(a, x, out);
  else quantize_act_row(a, x, out, smem);
}

void launch_quantize_act(const QuantizeActArgs&, const StepState* st, int max_tiles, cudaStream_t);
int quantize_act_max_tiles(const QuantizeActArgs&);  // host: tiles at n = kMaxStepTokens

}  // namespace km::cuda
