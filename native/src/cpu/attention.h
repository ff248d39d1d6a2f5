// Causal grouped-query attention (optionally in a sliding window) over the KV cache (fp16, int8 or fp8; see
// kv_cache.h), for a batch of queries at consecutive positions, in the manner
// of llama.cpp's tiled CPU flash attention: keys are visited in tiles of
// kKeyTile, each tile widened from the cache format to f32 once and shared by every query that reads it (all query
// heads of a KV head x a tile of tokens); scores in f32, an online softmax
// (running max and sum, earlier outputs rescaled when the max grows), values
// accumulated in f32 and divided by the sum at the end. Scratch stays
// bounded by the tile sizes whatever the context length.
//
// Work items are (KV head, token tile) pairs shared out by work_share.h:
// later tokens of a prefill see more keys, and a thread done early takes
// items from the others, which keeps the threads balanced. Each output is
// computed by one thread in a fixed order.
#pragma once

#include <cstdint>

#include "cpu/kernels.h"
#include "cpu/kv_cache.h"
#include "cpu/matmul.h"
#include "cpu/thread_pool.h"

namespace km::cpu {

constexpr int kKeyTile = 64;    // keys per tile
constexpr int kQueryTile = 8;   // tokens per work item

struct AttentionArgs {
  const float* q = nullptr;  // query of token t, head h at q + t * ldq + h * head_dim
  int64_t ldq = 0;
  KvType kv = KvType::F16;
  const void* k = nullptr;  // layer cache [n_kv_heads][context][head_dim] of kv_elem_bytes(kv)
  const void* v = nullptr;
  const uint16_t* k_scale = nullptr;  // INT8: [n_kv_heads][context] fp16 scales
  const uint16_t* v_scale = nullptr;
  int context = 0;
  int n = 0, pos = 0;  // tokens pos .. pos+n-1
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float scale = 1.f;
  int window = 0;  // sliding window: a query at p sees keys after p - window; 0: every earlier key
  float* out = nullptr;  // [n][n_heads * head_dim], row stride ldo
  int64_t ldo = 0;
  float* scratch = nullptr;  // attention_scratch_floats() per thread
};

// Floats of scratch one thread needs.
int64_t attention_scratch_floats(int n_heads, int n_kv_heads, int head_dim);

// Runs on every thread of a pool run; ends without a barrier.
void attention_phase(int ith, int nth, const Kernels& k, const AttentionArgs& a, WorkSlot* share);

}  // namespace km::cpu
