// RopeKv: after the fused q|k|v projection, per token: the qwen2 biases,
// RoPE (normal or NeoX, linear freq scale, Llama-3 frequency factors) on q
// and k, q rotated in place, k and v written into the paged cache in its
// format, quantized on write (kv_paged.cuh). One tile per token, one warp per
// head; INT8 takes the head vector's amax with a warp reduction.
// Angles follow the CPU exactly (native/src/cpu/rope.cpp): theta_i built by
// repeated float multiplication by theta_scale, which the host computes with
// the same pow() the CPU uses, so only cos/sin may differ in the last ulp.
#pragma once

#include <cuda_runtime.h>

#include "common/op.cuh"
#include "ops/kv_paged.cuh"

namespace km::cuda {

struct RopeKvArgs {
  float* qkv;                 // [n][ld]: q [n_heads*hd] | k [n_kv*hd] | v [n_kv*hd]
  int32_t ld;
  const float* bq;            // [n_heads*hd] biases (qwen2) or null
  const float* bk;            // [n_kv*hd] or null
  const float* bv;
  int32_t n_heads;
  float theta_scale;          // rope_theta^(-2/head_dim), float pow as on the CPU
  float freq_scale;           // linear scaling
  const float* freq_factors;  // [head_dim/2] Llama-3 factors, or null
  uint8_t neox;               // pairs (i, i + hd/2) instead of (2i, 2i+1)
  KvLayer kv;                 // n_kv_heads and head_dim come from here
};

__host__ __device__ inline int rope_kv_tiles(const RopeKvArgs&, const StepState& st) { return st.n; }
__device__ inline void rope_kv_tile(const RopeKvArgs& a, const StepState& st, int tile, char* smem);
void launch_rope_kv(const RopeKvArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/rope_kv_tile.cuh"
