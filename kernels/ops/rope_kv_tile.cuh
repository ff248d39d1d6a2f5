// The device code of rope_kv.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
#pragma once

#include "common/arch.cuh"

namespace km::cuda {

namespace rope_kv_detail {

constexpr int kMaxPairsPerLane = kMaxHeadDim / 2 / kWarp;  // 4

// Angle of pair i at position p, built as the CPU builds it: theta = p, then
// multiplied by theta_scale once per pair before i; cos and sin times the
// attention factor (cpu/rope.cpp).
__device__ __forceinline__ void rope_cs(const RopeKvArgs& a, int p, int i, float& c, float& s) {
  float theta = (float)p;
  for (int k = 0; k < i; k++) theta *= a.theta_scale;
  const float ff = a.freq_factors ? a.freq_factors[i] : 1.0f;
  const float t = a.freq_scale * (theta / ff);
  c = cosf(t) * a.attn_factor;
  s = sinf(t) * a.attn_factor;
}

// The head's elements as hd/2 pairs: pairs below rope_dims/2 are the rotated
// ones, (2i, 2i+1) or (i, i + rope_dims/2) for NeoX; the rest pair up the
// dimensions past rope_dims, which are not rotated.
__device__ __forceinline__ void pair_index(const RopeKvArgs& a, int i, int& e0, int& e1) {
  const int rd = a.rope_dims;
  if (i < rd / 2) {
    e0 = a.neox ? i : 2 * i;
    e1 = a.neox ? i + rd / 2 : 2 * i + 1;
  } else {
    e0 = rd + 2 * (i - rd / 2);
    e1 = e0 + 1;
  }
}

// Biases, then the head norm (when norm), then (when rotate) RoPE, on the
// pairs of one head vector this lane owns (pairs lane, lane + 32, ...), into
// v0/v1. The norm sums the f32 squares in double, as the CPU's rms_norm.
__device__ __forceinline__ void load_head(const RopeKvArgs& a, const float* x, const float* bias, const float* norm,
                                          int pos, bool rotate, float (&v0)[kMaxPairsPerLane],
                                          float (&v1)[kMaxPairsPerLane]) {
  const int hd = a.kv.head_dim, lane = threadIdx.x & (kWarp - 1);
  double ss = 0;
#pragma unroll
  for (int k = 0; k < kMaxPairsPerLane; k++) {
    const int i = lane + k * kWarp;
    v0[k] = v1[k] = 0.0f;
    if (i >= hd / 2) continue;
    int e0, e1;
    pair_index(a, i, e0, e1);
    float x0 = x[e0], x1 = x[e1];
    if (bias) {
      x0 += bias[e0];
      x1 += bias[e1];
    }
    v0[k] = x0;
    v1[k] = x1;
    if (norm) ss += (double)(x0 * x0) + (double)(x1 * x1);
  }
  float scale = 1.0f;
  if (norm) {
#pragma unroll
    for (int o = kWarp / 2; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    scale = 1.0f / sqrtf((float)(ss / (double)hd) + a.eps);
  }
  const bool rotating = rotate && a.rotate;
  if (!norm && !rotating) return;
#pragma unroll
  for (int k = 0; k < kMaxPairsPerLane; k++) {
    const int i = lane + k * kWarp;
    if (i >= hd / 2) continue;
    if (norm) {
      int e0, e1;
      pair_index(a, i, e0, e1);
      v0[k] = v0[k] * scale * norm[e0];
      v1[k] = v1[k] * scale * norm[e1];
    }
    if (rotating && i < a.rope_dims / 2) {
      float c, s;
      rope_cs(a, pos, i, c, s);
      const float r0 = v0[k] * c - v1[k] * s, r1 = v0[k] * s + v1[k] * c;
      v0[k] = r0;
      v1[k] = r1;
    }
  }
}

// Writes a head vector held as pairs into the cache at vector `vec`.
__device__ __forceinline__ void store_head(const RopeKvArgs& a, uint8_t* base, uint16_t* scales, uint64_t vec,
                                           const float (&v0)[kMaxPairsPerLane], const float (&v1)[kMaxPairsPerLane]) {
  const int hd = a.kv.head_dim, lane = threadIdx.x & (kWarp - 1);
  float inv = 0.0f;
  if (a.kv.type == KvType::Int8) {
    float amax = 0.0f;
#pragma unroll
    for (int k = 0; k < kMaxPairsPerLane; k++) amax = fmaxf(amax, fmaxf(fabsf(v0[k]), fabsf(v1[k])));
    amax = warp_max(amax);
    const uint16_t h = kv_int8_scale(amax);
    const float d = fp16_to_fp32(h);
    inv = d != 0.0f ? 1.0f / d : 0.0f;
    if (lane == 0) scales[vec] = h;
  }
#pragma unroll
  for (int k = 0; k < kMaxPairsPerLane; k++) {
    const int i = lane + k * kWarp;
    if (i >= hd / 2) continue;
    int e0, e1;
    pair_index(a, i, e0, e1);
    kv_store(a.kv.type, base, vec, hd, e0, v0[k], inv);
    kv_store(a.kv.type, base, vec, hd, e1, v1[k], inv);
  }
}

}  // namespace rope_kv_detail

__device__ inline void rope_kv_tile(const RopeKvArgs& a, const StepState& st, int tile, char*) {
  using namespace rope_kv_detail;
  const int hd = a.kv.head_dim, n_kv = a.kv.n_kv_heads;
  const int pos = st.pos + tile;
  const int lane = threadIdx.x & (kWarp - 1);
  float* row = a.qkv + (int64_t)tile * a.ld;
  const int q_dim = a.n_heads * hd, kv_dim = n_kv * hd;
  float v0[kMaxPairsPerLane], v1[kMaxPairsPerLane];
  for (int h = threadIdx.x / kWarp; h < a.n_heads + n_kv; h += kWarps) {
    if (h < a.n_heads) {
      float* q = row + (int64_t)h * hd;
      load_head(a, q, a.bq ? a.bq + (int64_t)h * hd : nullptr, a.q_norm, pos, true, v0, v1);
#pragma unroll
      for (int k = 0; k < kMaxPairsPerLane; k++) {
        const int i = lane + k * kWarp;
        if (i >= hd / 2) continue;
        int e0, e1;
        pair_index(a, i, e0, e1);
        q[e0] = v0[k];
        q[e1] = v1[k];
      }
    } else {
      const int kh = h - a.n_heads;
      const uint64_t vec = kv_vector(a.kv, kh, pos);
      load_head(a, row + q_dim + (int64_t)kh * hd, a.bk ? a.bk + (int64_t)kh * hd : nullptr, a.k_norm, pos, true, v0,
                v1);
      store_head(a, a.kv.k, a.kv.k_scale, vec, v0, v1);
      load_head(a, row + q_dim + kv_dim + (int64_t)kh * hd, a.bv ? a.bv + (int64_t)kh * hd : nullptr, nullptr, pos,
                false, v0, v1);
      store_head(a, a.kv.v, a.kv.v_scale, vec, v0, v1);
    }
  }
}

}  // namespace km::cuda
