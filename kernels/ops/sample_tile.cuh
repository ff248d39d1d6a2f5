// The device code of sample.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
#pragma once

#include <climits>

#include "common/arch.cuh"
#include "keymate/sample_rule.h"

namespace km::cuda {

namespace sample_detail {

// The host sampler's order and NaN rule (keymate/sample_rule.h).
using sample_rule::before;
using sample_rule::logit_of;

// Sorts n (a power of two) (logit, id) pairs in shared memory into `before`
// order; bitonic, so the result depends on the data only.
__device__ inline void bitonic_sort(float* v, int* id, int n) {
  for (int k = 2; k <= n; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      __syncthreads();
      for (int i = threadIdx.x; i < n; i += kThreads) {
        const int p = i ^ j;
        if (p <= i) continue;
        const bool up = (i & k) == 0;  // this run ends up in `before` order
        if (before(v[p], id[p], v[i], id[i]) == up) {
          const float tv = v[i];
          v[i] = v[p];
          v[p] = tv;
          const int ti = id[i];
          id[i] = id[p];
          id[p] = ti;
        }
      }
    }
  __syncthreads();
}

// The best (logit, id) over the block; every thread gets it. `red` holds
// 2 * kWarps words.
__device__ inline void block_best(float& v, int& id, char* red) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, id, o);
    if (before(ov, oi, v, id)) {
      v = ov;
      id = oi;
    }
  }
  float* rv = reinterpret_cast<float*>(red);
  int* ri = reinterpret_cast<int*>(red) + kWarps;
  __syncthreads();
  if ((threadIdx.x & (kWarp - 1)) == 0) {
    rv[threadIdx.x / kWarp] = v;
    ri[threadIdx.x / kWarp] = id;
  }
  __syncthreads();
  v = rv[0];
  id = ri[0];
  for (int w = 1; w < kWarps; w++)
    if (before(rv[w], ri[w], v, id)) {
      v = rv[w];
      id = ri[w];
    }
}

}  // namespace sample_detail

__device__ inline void sample_partial_tile(const SampleArgs& a, const StepState& st, int tile, char* smem) {
  using namespace sample_detail;
  const int base = tile * kSampleChunk;
  const int n = min(kSampleChunk, a.vocab - base);
  float* cv = a.cand_logit + (int64_t)tile * kSampleMaxK;
  int* ci = a.cand_id + (int64_t)tile * kSampleMaxK;
  if (st.temperature <= 0.0f) {
    float v = -INFINITY;
    int id = INT_MAX;
    for (int i = threadIdx.x; i < n; i += kThreads) {
      const float x = logit_of(a.logits[base + i]);
      if (before(x, base + i, v, id)) {
        v = x;
        id = base + i;
      }
    }
    block_best(v, id, smem);
    if (threadIdx.x == 0) {
      cv[0] = v;
      ci[0] = id;
    }
    return;
  }
  float* v = reinterpret_cast<float*>(smem);
  int* id = reinterpret_cast<int*>(smem) + kSampleChunk;
  // The previous tile's last reads are v[i], id[i] (i < kSampleMaxK) by thread i; this tile's
  // first writes, before the sort's first barrier, are v[i], id[i] by thread i mod kThreads:
  // each thread rewrites only what it read itself. Kept, as in attention_tile.cuh.
  static_assert(kSampleMaxK <= kThreads, "the copy-out below must read v[i] in thread i");
  __syncthreads();  // not required: each thread rewrites only the elements it read last (simt/FINDINGS.md)
  for (int i = threadIdx.x; i < kSampleChunk; i += kThreads) {
    v[i] = i < n ? logit_of(a.logits[base + i]) : -INFINITY;
    id[i] = i < n ? base + i : INT_MAX;
  }
  bitonic_sort(v, id, kSampleChunk);
  for (int i = threadIdx.x; i < kSampleMaxK; i += kThreads) {
    cv[i] = v[i];
    ci[i] = id[i];
  }
}

__device__ inline void sample_final_tile(const SampleArgs& a, const StepState& st, int, char* smem) {
  using namespace sample_detail;
  const int chunks = (a.vocab + kSampleChunk - 1) / kSampleChunk;
  if (st.temperature <= 0.0f) {
    float v = -INFINITY;
    int id = INT_MAX;
    for (int c = threadIdx.x; c < chunks; c += kThreads)
      if (before(a.cand_logit[(int64_t)c * kSampleMaxK], a.cand_id[(int64_t)c * kSampleMaxK], v, id)) {
        v = a.cand_logit[(int64_t)c * kSampleMaxK];
        id = a.cand_id[(int64_t)c * kSampleMaxK];
      }
    block_best(v, id, smem);
    if (threadIdx.x == 0) *a.out = id == INT_MAX ? 0 : id;  // every logit NaN: token 0, as argmax()
    return;
  }
  // Candidates, then (in chain) k probabilities: 2 * kSampleMerge words max.
  float* v = reinterpret_cast<float*>(smem);
  int* id = reinterpret_cast<int*>(smem) + kSampleMerge;
  const int total = chunks * kSampleMaxK;
  int m = 1;
  while (m < total) m <<= 1;
  __syncthreads();
  for (int i = threadIdx.x; i < m; i += kThreads) {
    const int c = i / kSampleMaxK, r = i % kSampleMaxK;
    // A chunk shorter than kSampleMaxK left -inf / INT_MAX padding: sorted last.
    const bool real = i < total && c * kSampleChunk + r < a.vocab;
    v[i] = real ? a.cand_logit[i] : -INFINITY;
    id[i] = real ? a.cand_id[i] : INT_MAX;
  }
  bitonic_sort(v, id, m);
  if (threadIdx.x == 0) {
    // The host's very chain. Its k probabilities go in v[k, 2k): past the
    // candidates it reads, before the ids (k <= kSampleMaxK, ids start at kSampleMerge).
    const int k = min(st.top_k, a.vocab);
    *a.out = id[sample_rule::chain(v, k, st.top_p, st.min_p, st.temperature, st.uniform, v + k)];
  }
}

}  // namespace km::cuda
