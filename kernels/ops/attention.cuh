// Causal GQA attention (optionally in a sliding window) over the paged cache, three ops chosen on the device
// by the step's token count (so one program serves decode and prefill):
//   AttnPartial  n <= kAttnDecodeMaxTokens: tiles (token, KV head, split);
//                a split is kAttnSplitKeys keys; each tile handles every
//                query head of its KV head (the queries in shared memory, the
//                keys read once for up to kAttnGroupPass heads) and writes,
//                per query head, its running max m, sum l and unnormalised
//                output acc[head_dim]
//   AttnCombine  n <= kAttnDecodeMaxTokens: tiles (token, query head); merges
//                the splits in split order (m = max m_s, out = sum e^(m_s-m)
//                acc_s / sum e^(m_s-m) l_s), so the result does not depend
//                on which tile ran first
//   AttnPrefill  n > kAttnDecodeMaxTokens: tiles (query head, block of
//                kPrefillQueries tokens); key chunks of kPrefillKeys are
//                widened to f32 in shared memory and shared by the block's
//                queries, an online softmax per query, one warp per query
// Scores, softmax and accumulation are f32 whatever the cache holds, as on
// the CPU (native/src/cpu/attention.cpp). Dot products are warp butterfly
// sums: fixed order, bit-identical run after run.
#pragma once

#include <cuda_runtime.h>

#include "common/op.cuh"
#include "ops/kv_paged.cuh"

namespace km::cuda {

constexpr int kAttnDecodeMaxTokens = 4;  // above: the prefill kernel
constexpr int kAttnSplitKeys = 256;      // keys per decode split
constexpr int kPrefillQueries = 16;      // queries per prefill tile (2 per warp)
constexpr int kPrefillKeys = 16;         // keys per shared-memory chunk
// Query heads a decode warp carries through the keys at once. Each costs
// kMaxHeadDim / 32 + 2 registers of online-softmax state; all of a group of 8
// at once took 224 registers (one block per SM) and made the persistent
// kernel, capped at 128, spill. Groups above this read the split twice.
constexpr int kAttnGroupPass = 4;

struct AttentionArgs {
  const float* q;     // query of token t, head h at q + t * ldq + h * head_dim (rotated)
  int32_t ldq;
  KvLayer kv;
  int32_t n_heads;
  float scale;        // Config::attn_scale (1 / sqrt(head_dim) for most)
  int32_t window;     // sliding window: token p sees keys after p - window; 0: every earlier key
  float* out;         // [n][n_heads * head_dim], row stride ldo
  int32_t ldo;
  float* partials;    // [kAttnDecodeMaxTokens][n_heads][max_splits][head_dim + 2]
  int32_t max_splits; // ceil(context / kAttnSplitKeys)
};

// Floats of the partials buffer.
inline uint64_t attention_partial_floats(int n_heads, int head_dim, int context) {
  const int splits = (context + kAttnSplitKeys - 1) / kAttnSplitKeys;
  return (uint64_t)kAttnDecodeMaxTokens * n_heads * splits * (uint64_t)(head_dim + 2);
}

__host__ __device__ inline int attn_splits(const StepState& st) {
  return (st.pos + st.n + kAttnSplitKeys - 1) / kAttnSplitKeys;
}
__host__ __device__ inline int attn_partial_tiles(const AttentionArgs& a, const StepState& st) {
  return st.n <= kAttnDecodeMaxTokens ? st.n * a.kv.n_kv_heads * attn_splits(st) : 0;
}
__host__ __device__ inline int attn_combine_tiles(const AttentionArgs& a, const StepState& st) {
  return st.n <= kAttnDecodeMaxTokens ? st.n * a.n_heads : 0;
}
__host__ __device__ inline int attn_prefill_tiles(const AttentionArgs& a, const StepState& st) {
  return st.n > kAttnDecodeMaxTokens ? a.n_heads * ((st.n + kPrefillQueries - 1) / kPrefillQueries) : 0;
}
// Tiles needed at the largest step (the launch grid; the persistent kernel's loop bound).
inline int attn_partial_max_tiles(const AttentionArgs& a) {
  return kAttnDecodeMaxTokens * a.kv.n_kv_heads * a.max_splits;
}
inline int attn_combine_max_tiles(const AttentionArgs& a) { return kAttnDecodeMaxTokens * a.n_heads; }
inline int attn_prefill_max_tiles(const AttentionArgs& a) {
  return a.n_heads * ((kMaxStepTokens + kPrefillQueries - 1) / kPrefillQueries);
}
constexpr int attn_prefill_smem(int head_dim) { return 2 * kPrefillKeys * head_dim * (int)sizeof(float); }
// The group's queries [group][head_dim], then the warps' states [kWarps][head_dim + 2].
constexpr int attn_partial_smem(int head_dim, int group) {
  return (group * head_dim + (kThreads / 32) * (head_dim + 2)) * (int)sizeof(float);
}

__device__ inline void attn_partial_tile(const AttentionArgs& a, const StepState& st, int tile, char* smem);
__device__ inline void attn_combine_tile(const AttentionArgs& a, const StepState& st, int tile, char* smem);
__device__ inline void attn_prefill_tile(const AttentionArgs& a, const StepState& st, int tile, char* smem);
void launch_attn_partial(const AttentionArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);
void launch_attn_combine(const AttentionArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);
void launch_attn_prefill(const AttentionArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/attention_tile.cuh"
