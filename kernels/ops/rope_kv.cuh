// RopeKv: after the fused q|k|v projection, per token: the qwen2 biases, the
// head norms (Qwen3, Gemma 3: RMSNorm of each q and k head), RoPE (normal or
// NeoX, linear freq scale, frequency factors, LongRoPE's magnitude, over the
// first rope_dims of a head; the layer's own rotation, or none) on q and k,
// q rotated in place, k and v written into the paged cache in its format,
// quantized on write (kv_paged.cuh). One tile per token, one warp per head;
// a head norm and INT8's amax take warp reductions.
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
  const float* q_norm;        // [head_dim] head norm weights (qk_norm), or null
  const float* k_norm;
  float eps;                  // the head norms' epsilon
  int32_t n_heads;
  int32_t rope_dims;          // rotated dimensions of a head (even, <= head_dim)
  uint8_t rotate;             // 0: this layer does not rotate (SmolLM3's every fourth)
  float theta_scale;          // rope base^(-2/rope_dims), float pow as on the CPU
  float freq_scale;           // linear scaling
  float attn_factor;          // on cos and sin (LongRoPE), 1 otherwise
  const float* freq_factors;  // [rope_dims/2] Llama-3 or LongRoPE factors, or null
  uint8_t neox;               // pairs (i, i + rope_dims/2) instead of (2i, 2i+1)
  KvLayer kv;                 // n_kv_heads and head_dim come from here
};

__host__ __device__ inline int rope_kv_tiles(const RopeKvArgs&, const StepState& st) { return st.n; }
__device__ inline void rope_kv_tile(const RopeKvArgs& a, const StepState& st, int tile, char* smem);
void launch_rope_kv(const RopeKvArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/rope_kv_tile.cuh"
