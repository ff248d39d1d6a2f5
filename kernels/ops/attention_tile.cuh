// The device code of attention.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
// Register layout shared by decode and prefill: a lane holds elements lane,
// lane + 32, ... of a head vector (kPerLane of them), so a warp reads 32
// consecutive cache elements per load and a dot product is one warp
// butterfly sum.
#pragma once

#include "common/arch.cuh"

namespace km::cuda {

namespace attention_detail {

constexpr int kPerLane = kMaxHeadDim / kWarp;  // 8

// Online softmax state of one query in one warp (every lane holds the same m, l).
struct Online {
  float m = -INFINITY, l = 0.0f;
  float acc[kPerLane];
  __device__ Online() {
#pragma unroll
    for (int i = 0; i < kPerLane; i++) acc[i] = 0.0f;
  }
  // Adds key with score s and value row v (this lane's elements).
  __device__ __forceinline__ void add(float s, const float (&v)[kPerLane]) {
    if (s > m) {
      const float corr = m == -INFINITY ? 0.0f : expf(m - s);
      l *= corr;
#pragma unroll
      for (int i = 0; i < kPerLane; i++) acc[i] *= corr;
      m = s;
    }
    const float p = expf(s - m);
    l += p;
#pragma unroll
    for (int i = 0; i < kPerLane; i++) acc[i] += p * v[i];
  }
};

__device__ __forceinline__ float* partial_at(const AttentionArgs& a, int t, int h, int s) {
  const int hd = a.kv.head_dim;
  return a.partials + (((int64_t)t * a.n_heads + h) * a.max_splits + s) * (int64_t)(hd + 2);
}

}  // namespace attention_detail

__device__ inline void attn_partial_tile(const AttentionArgs& a, const StepState& st, int tile, char* smem) {
  using namespace attention_detail;
  const int hd = a.kv.head_dim, n_kv = a.kv.n_kv_heads;
  const int group = a.n_heads / n_kv;
  const int splits = attn_splits(st);
  const int s = tile % splits, kvh = (tile / splits) % n_kv, t = tile / splits / n_kv;
  const int lane = threadIdx.x & (kWarp - 1), warp = threadIdx.x / kWarp;
  const int n_keys = st.pos + t + 1;  // causal: token t sees keys 0 .. pos + t
  const int first = a.window > 0 ? max(0, n_keys - a.window) : 0;  // and, in a window, none before this
  const int j0 = s * kAttnSplitKeys, j1 = min(j0 + kAttnSplitKeys, n_keys), jb = max(j0, first);
  float* qs = reinterpret_cast<float*>(smem);  // [group][hd]: the group's queries, read by every warp
  float* red = qs + group * hd;                // [kWarps][hd + 2]: the warps' states, merged per head

  // The previous tile's last reads (after its last barrier) are of `red`; before the next
  // barrier this tile writes only `qs`, a disjoint range. Kept: a barrier per tile is cheap, and
  // only a GPU run could show dropping it is worth leaning on that reading (simt/FINDINGS.md).
  __syncthreads();  // not required: the previous tile reads only red after its last barrier; this one writes only qs before its next
  for (int e = threadIdx.x; e < group * hd; e += kThreads)
    qs[e] = a.q[(int64_t)t * a.ldq + (int64_t)(kvh * group + e / hd) * hd + e % hd];
  __syncthreads();

  // kAttnGroupPass query heads at a time: their online-softmax states are the
  // registers that matter; a larger group reads the split's keys again (from
  // L2: this tile has just read them).
  for (int g0 = 0; g0 < group; g0 += kAttnGroupPass) {
    Online o[kAttnGroupPass];
    for (int j = jb + warp; j < j1; j += kWarps) {
      const uint64_t vec = kv_vector(a.kv, kvh, j);
      float k[kPerLane], v[kPerLane];
#pragma unroll
      for (int i = 0; i < kPerLane; i++) {
        const int c = lane + i * kWarp;
        k[i] = c < hd ? kv_load(a.kv.type, a.kv.k, a.kv.k_scale, vec, hd, c) : 0.0f;
        v[i] = c < hd ? kv_load(a.kv.type, a.kv.v, a.kv.v_scale, vec, hd, c) : 0.0f;
      }
#pragma unroll
      for (int gi = 0; gi < kAttnGroupPass; gi++) {
        const int g = g0 + gi;
        if (g >= group) break;
        float d = 0.0f;
#pragma unroll
        for (int i = 0; i < kPerLane; i++) {
          const int c = lane + i * kWarp;
          d += (c < hd ? qs[g * hd + c] : 0.0f) * k[i];
        }
        o[gi].add(warp_sum(d) * a.scale, v);
      }
    }

    // Merge the warps' states per query head, in warp order, through red.
    // Unrolled over the pass so o[] stays in registers; group is uniform.
#pragma unroll
    for (int gi = 0; gi < kAttnGroupPass; gi++) {
      const int g = g0 + gi;
      if (g >= group) break;
      __syncthreads();  // red is free (previous head)
      float* mine = red + warp * (hd + 2);
      if (lane == 0) {
        mine[0] = o[gi].m;
        mine[1] = o[gi].l;
      }
#pragma unroll
      for (int i = 0; i < kPerLane; i++) {
        const int c = lane + i * kWarp;
        if (c < hd) mine[2 + c] = o[gi].acc[i];
      }
      __syncthreads();
      float m = -INFINITY;
      for (int w = 0; w < kWarps; w++) m = fmaxf(m, red[w * (hd + 2)]);
      float* out = partial_at(a, t, kvh * group + g, s);
      for (int c = threadIdx.x; c < hd + 2; c += kThreads) {
        float sum = 0.0f;
        if (m != -INFINITY && c > 0) {
          for (int w = 0; w < kWarps; w++) {
            const float mw = red[w * (hd + 2)];
            if (mw != -INFINITY) sum += expf(mw - m) * red[w * (hd + 2) + c];
          }
        }
        out[c] = c == 0 ? m : sum;
      }
    }
  }
}

__device__ inline void attn_combine_tile(const AttentionArgs& a, const StepState& st, int tile, char*) {
  using namespace attention_detail;
  const int hd = a.kv.head_dim;
  const int h = tile % a.n_heads, t = tile / a.n_heads;
  const int splits = attn_splits(st);
  float m = -INFINITY;
  for (int s = 0; s < splits; s++) m = fmaxf(m, partial_at(a, t, h, s)[0]);
  float l = 0.0f;
  if (m != -INFINITY)
    for (int s = 0; s < splits; s++) {
      const float* p = partial_at(a, t, h, s);
      if (p[0] != -INFINITY) l += expf(p[0] - m) * p[1];
    }
  const float inv = l == 0.0f ? 0.0f : 1.0f / l;
  float* out = a.out + (int64_t)t * a.ldo + (int64_t)h * hd;
  for (int c = threadIdx.x; c < hd; c += kThreads) {
    float acc = 0.0f;
    if (m != -INFINITY)
      for (int s = 0; s < splits; s++) {
        const float* p = partial_at(a, t, h, s);
        if (p[0] != -INFINITY) acc += expf(p[0] - m) * p[2 + c];
      }
    out[c] = acc * inv;
  }
}

__device__ inline void attn_prefill_tile(const AttentionArgs& a, const StepState& st, int tile, char* smem) {
  using namespace attention_detail;
  const int hd = a.kv.head_dim;
  const int group = a.n_heads / a.kv.n_kv_heads;
  const int h = tile % a.n_heads, t0 = tile / a.n_heads * kPrefillQueries;
  const int kvh = h / group;
  const int lane = threadIdx.x & (kWarp - 1), warp = threadIdx.x / kWarp;
  constexpr int kQueriesPerWarp = kPrefillQueries / kWarps;  // 2
  const int n_keys = st.pos + min(t0 + kPrefillQueries, st.n);  // what the block's last query sees
  const int block_first = a.window > 0 ? max(0, st.pos + t0 - a.window + 1) : 0;  // what its first query sees first
  float* ks = reinterpret_cast<float*>(smem);  // [kPrefillKeys][hd]
  float* vs = ks + kPrefillKeys * hd;          // [kPrefillKeys][hd]

  float q[kQueriesPerWarp][kPerLane];
  int tq[kQueriesPerWarp];
  Online o[kQueriesPerWarp];
#pragma unroll
  for (int r = 0; r < kQueriesPerWarp; r++) {
    tq[r] = t0 + warp * kQueriesPerWarp + r;
#pragma unroll
    for (int i = 0; i < kPerLane; i++) {
      const int c = lane + i * kWarp;
      q[r][i] = tq[r] < st.n && c < hd ? a.q[(int64_t)tq[r] * a.ldq + (int64_t)h * hd + c] : 0.0f;
    }
  }
  for (int j0 = block_first; j0 < n_keys; j0 += kPrefillKeys) {
    __syncthreads();  // the previous chunk (or tile) is consumed
    for (int e = threadIdx.x; e < kPrefillKeys * hd; e += kThreads) {
      const int j = j0 + e / hd, c = e % hd;
      float kx = 0.0f, vx = 0.0f;
      if (j < n_keys) {
        const uint64_t vec = kv_vector(a.kv, kvh, j);
        kx = kv_load(a.kv.type, a.kv.k, a.kv.k_scale, vec, hd, c);
        vx = kv_load(a.kv.type, a.kv.v, a.kv.v_scale, vec, hd, c);
      }
      ks[e] = kx;
      vs[e] = vx;
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kQueriesPerWarp; r++) {
      if (tq[r] >= st.n) continue;
      const int last = min(j0 + kPrefillKeys, st.pos + tq[r] + 1);  // causal
      const int first = a.window > 0 ? max(j0, st.pos + tq[r] - a.window + 1) : j0;  // in the window
      for (int j = first; j < last; j++) {
        const float* kr = ks + (j - j0) * hd;
        const float* vr = vs + (j - j0) * hd;
        float d = 0.0f, v[kPerLane];
#pragma unroll
        for (int i = 0; i < kPerLane; i++) {
          const int c = lane + i * kWarp;
          d += c < hd ? q[r][i] * kr[c] : 0.0f;
          v[i] = c < hd ? vr[c] : 0.0f;
        }
        o[r].add(warp_sum(d) * a.scale, v);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kQueriesPerWarp; r++) {
    if (tq[r] >= st.n) continue;
    const float inv = o[r].l == 0.0f ? 0.0f : 1.0f / o[r].l;
    float* out = a.out + (int64_t)tq[r] * a.ldo + (int64_t)h * hd;
#pragma unroll
    for (int i = 0; i < kPerLane; i++) {
      const int c = lane + i * kWarp;
      if (c < hd) out[c] = o[r].acc[i] * inv;
    }
  }
}

}  // namespace km::cuda
