// Decode GEMV: y = W x for a few tokens (n <= kGemvMaxTokens, chooser.cuh).
// Memory-bound: the weights are read once, so everything serves streaming them
// at full bandwidth.
//   - a tile is kGemvWarps output rows, one warp each (gated: the warp reads
//     the gate row and the up row of its output)
//   - a lane takes 16-byte chunks of the row, lane-consecutive, so a warp reads
//     512 contiguous bytes per load instruction; kGemvUnroll chunks are loaded
//     before the first is used, so several loads are in flight per lane
//   - quants are decoded in registers (dequant.cuh) and multiplied with f32
//     activations read as float4 through L1 (every warp of the tile reads the
//     same x), rounded as the CPU twin rounds them for F16 and BF16 weights
//     (act_round); group scales multiply each chunk's partial sum, per-row
//     scales the final sum
//   - the integer formats multiply their int8 quants with the int8
//     activations QuantizeAct wrote (dp4a), as the CPU does: W8A8 one exact
//     int32 sum per row and token, Q8_0 and Q4_0 one per 32-column block,
//     times the two blocks' scales
//   - a warp-shuffle butterfly sums the lanes: fixed order, same result in
//     every lane, no atomics
// More tokens than kGemvMaxTokens (F32 weights in prefill) loop over token
// groups, re-reading the row from cache.
#pragma once

#include "dequant.cuh"
#include "kquant.cuh"

namespace km::cuda::mm {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ int warp_sum_int(int v) {
#pragma unroll
  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// What one lane loads for one chunk, and how many columns a chunk covers.
template <WFmt F>
struct GemvChunk {
  static constexpr int E = F == WFmt::F32 ? 4 : F == WFmt::F16 || F == WFmt::BF16 ? 8
                         : F == WFmt::Fp8 || F == WFmt::Int8 || F == WFmt::W8A8 ? 16 : 32;
  uint32_t q[F == WFmt::Q8_0 ? 8 : 4];
  float d;  // the chunk's group or block scale (1 when the row has one scale)

  __device__ __forceinline__ void load(const MatmulArgs& a, const uint8_t* row, int c) {
    if constexpr (F == WFmt::Q8_0) {
      const uint8_t* b = row + (uint64_t)c * sizeof(block_q8_0);
      d = half_bits_to_float(ld_weight_u16(b));
#pragma unroll
      for (int i = 0; i < 8; i++) q[i] = ld_weight_u32_a2(b + 2 + 4 * i);
    } else if constexpr (F == WFmt::Q4_0) {
      const uint8_t* b = row + (uint64_t)c * sizeof(block_q4_0);
      d = half_bits_to_float(ld_weight_u16(b));
#pragma unroll
      for (int i = 0; i < 4; i++) q[i] = ld_weight_u32_a2(b + 2 + 4 * i);
    } else {
      const uint4 v = ld_weight16(row + (uint64_t)c * 16);
      q[0] = v.x; q[1] = v.y; q[2] = v.z; q[3] = v.w;
      if constexpr (is_run(F) && F != WFmt::W8A8) {
        // FP8's decode leaves out a factor (kFp8E4M3HalfScale) that goes with
        // the scale: here with a group's, in gemv_row_scale with a row's, never both.
        d = a.quant.group ? run_scale_at(a, row, c * E) * (F == WFmt::Fp8 ? kFp8E4M3HalfScale : 1.0f) : 1.0f;
      } else {
        d = 1.0f;
      }
    }
  }

  // The row column of value j (0..E-1) of chunk c: a chunk's columns are contiguous.
  __device__ __forceinline__ static int col(int c, int j) { return c * E + j; }

  // The integer formats: the chunk's int8 weights (Q4_0: q - 8) times the E
  // int8 activations at xq, one exact int32 sum.
  __device__ __forceinline__ int int_dot(const uint8_t* xq) const {
    static_assert(int_activations(F), "integer dot product of a float format");
    const uint4 x0 = *reinterpret_cast<const uint4*>(xq);
    int s = 0;
    if constexpr (F == WFmt::W8A8) {
      s = __dp4a((int)q[0], (int)x0.x, s);
      s = __dp4a((int)q[1], (int)x0.y, s);
      s = __dp4a((int)q[2], (int)x0.z, s);
      s = __dp4a((int)q[3], (int)x0.w, s);
    } else {
      const uint4 x1 = *reinterpret_cast<const uint4*>(xq + 16);
      const uint32_t xs[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
#pragma unroll
      for (int i = 0; i < 8; i++) {
        // Q4_0: byte j's low nibble is column j, its high nibble column 16 + j.
        const uint32_t w = F == WFmt::Q8_0 ? q[i] : q4x4_to_i8((q[i & 3] >> (i & 4)) & 0x0f0f0f0fu);
        s = __dp4a((int)w, (int)xs[i], s);
      }
    }
    return s;
  }

  // The chunk's E values, before the scale d.
  __device__ __forceinline__ void decode(float* v) const {
    if constexpr (F == WFmt::F32) {
#pragma unroll
      for (int i = 0; i < 4; i++) v[i] = __uint_as_float(q[i]);
    } else if constexpr (F == WFmt::F16) {
#pragma unroll
      for (int i = 0; i < 4; i++) f16x2_to_f32(q[i], v + 2 * i);
    } else if constexpr (F == WFmt::BF16) {
#pragma unroll
      for (int i = 0; i < 4; i++) bf16x2_to_f32(q[i], v + 2 * i);
    } else if constexpr (F == WFmt::Fp8) {
#pragma unroll
      for (int i = 0; i < 4; i++) e4m3x4_to_f32_scaled(q[i], v + 4 * i);
    } else if constexpr (F == WFmt::Int8) {
#pragma unroll
      for (int i = 0; i < E / 4; i++) i8x4_to_f32(q[i], v + 4 * i);
    } else {
      static_assert(F == WFmt::Int4 || F == WFmt::Nf4, "the integer formats take int_dot");
      q4x32_to_f32<F>(q, v);
    }
  }
};

// The chunk of format F: K-quants take two 16-column slices of a super-block (kquant.cuh).
template <WFmt F>
using GemvChunkOf = std::conditional_t<is_kquant(F), KChunk<F>, GemvChunk<F>>;

// The per-row scale applied to the finished sum (1 for group-scaled and GGUF rows).
template <WFmt F>
__device__ __forceinline__ float gemv_row_scale(const MatmulArgs& a, const uint8_t* row) {
  if constexpr (is_run(F)) {
    if (a.quant.group == 0) {
      const float d = run_scale_at(a, row, 0);
      return F == WFmt::Fp8 ? d * kFp8E4M3HalfScale : d;
    }
  }
  return 1.0f;
}

// acc[t] = sum_k row[k] * x_t[k] for t < nt, before the row scale, summed
// over the warp (every lane holds the total). x_t = x + t * cols; the integer
// formats read act rows (quant_act_row_bytes apart) instead of x.
template <WFmt F, int NT>
__device__ __forceinline__ void gemv_row_dot(const MatmulArgs& a, const uint8_t* row, const float* x,
                                             const uint8_t* act, int nt, float* acc) {
  using C = GemvChunkOf<F>;
  // Several tokens' x would hold registers for every chunk in flight: fewer chunks then.
  constexpr int U = NT == 1 ? kGemvUnroll : 2;
  const int lane = threadIdx.x & 31;
  const int chunks = a.cols / C::E;
  if constexpr (int_activations(F)) {
    const uint64_t arow = quant_act_row_bytes(a.cols, act_block(F));
    const uint64_t qoff = quant_act_scale_bytes(a.cols, act_block(F));
    int isum[NT];    // W8A8: the whole row's exact sum
    float fsum[NT];  // Q8_0, Q4_0: block sums times their scales
#pragma unroll
    for (int t = 0; t < NT; t++) isum[t] = 0, fsum[t] = 0.0f;
    for (int c0 = 0; c0 < chunks; c0 += 32 * U) {
      C ch[U];
#pragma unroll
      for (int u = 0; u < U; u++) {
        const int c = c0 + u * 32 + lane;
        if (c < chunks) ch[u].load(a, row, c);
      }
#pragma unroll
      for (int u = 0; u < U; u++) {
        const int c = c0 + u * 32 + lane;
        if (c >= chunks) continue;
#pragma unroll
        for (int t = 0; t < NT; t++) {
          if (t >= nt) continue;
          const uint8_t* xr = act + t * arow;
          const int s = ch[u].int_dot(xr + qoff + (uint64_t)c * C::E);
          if constexpr (F == WFmt::W8A8) {
            isum[t] += s;
          } else {  // the CPU's s += isum * (d_w * d_a), never contracted
            const float da = reinterpret_cast<const float*>(xr)[c];
            fsum[t] = __fadd_rn(fsum[t], __fmul_rn((float)s, __fmul_rn(ch[u].d, da)));
          }
        }
      }
    }
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = F == WFmt::W8A8 ? (float)warp_sum_int(isum[t]) : warp_sum(fsum[t]);
  } else {
    float sum[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) sum[t] = 0.0f;
    for (int c0 = 0; c0 < chunks; c0 += 32 * U) {
      C ch[U];
#pragma unroll
      for (int u = 0; u < U; u++) {
        const int c = c0 + u * 32 + lane;
        if (c < chunks) ch[u].load(a, row, c);
      }
#pragma unroll
      for (int u = 0; u < U; u++) {
        const int c = c0 + u * 32 + lane;
        if (c >= chunks) continue;
        float v[C::E];
        ch[u].decode(v);
#pragma unroll
        for (int t = 0; t < NT; t++) {
          if (t >= nt) continue;
          const float* xt = x + (uint64_t)t * a.cols;
          float s = 0.0f;
#pragma unroll
          for (int j = 0; j < C::E; j += 4) {
            const float4 xv = *reinterpret_cast<const float4*>(xt + C::col(c, j));
            s = fmaf(v[j], act_round<F>(xv.x), s);
            s = fmaf(v[j + 1], act_round<F>(xv.y), s);
            s = fmaf(v[j + 2], act_round<F>(xv.z), s);
            s = fmaf(v[j + 3], act_round<F>(xv.w), s);
          }
          sum[t] = fmaf(ch[u].d, s, sum[t]);
        }
      }
    }
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = warp_sum(sum[t]);
  }
}

// act(g) * u for a gated epilogue, the CPU's swiglu / geglu (cpu/kernels.h):
// SiLU, or GELU's tanh form as x / (1 + exp(-2 sqrt(2/pi) x (1 + 0.044715 x^2)))
// with ggml's ends (0 at x <= -10, x at x >= 10).
__device__ __forceinline__ float gate_mul(Epilogue e, float g, float u) {
  if (e == Epilogue::SiluMul) return g / (1.0f + expf(-g)) * u;
  float gelu;
  if (g <= -10.0f) gelu = 0.0f;
  else if (g >= 10.0f) gelu = g;
  else gelu = g / (1.0f + expf(-2.0f * 0.79788456080286535588f * g * (1.0f + 0.044715f * g * g)));
  return gelu * u;
}

// __fadd_rn: never contracted with the product before it into an fma, so the
// result cannot depend on how the compiler inlined this tile (launch kernel
// or the persistent kernel's call).
__device__ __forceinline__ void matmul_put(const MatmulArgs& a, float* y, float v) {
  if (a.epilogue == Epilogue::Residual) v = __fadd_rn(v, *y);
  *y = v;
}

// One output row for tokens [0, n), NT at a time: NT = 1 is the decode step
// (registers for one token's x only, so more warps fit per SM), NT =
// kGemvMaxTokens the rest.
template <WFmt F, int NT>
__device__ __forceinline__ void gemv_output(const MatmulArgs& a, int o, int n, const float* x, const uint8_t* row0,
                                            const uint8_t* row1, float d0, float d1) {
  const int lane = threadIdx.x & 31;
  const int ldy = matmul_ldy(a);
  const bool gate = gated(a.epilogue);
  const uint8_t* act = static_cast<const uint8_t*>(a.scratch);  // integer formats: last_only's row is row 0
  const uint64_t arow = quant_act_row_bytes(a.cols, act_block(F));
  for (int t0 = 0; t0 < n; t0 += NT) {
    const int nt = min(n - t0, NT);
    float g[NT], u[NT];
    gemv_row_dot<F, NT>(a, row0, x + (uint64_t)t0 * a.cols, act + t0 * arow, nt, g);
    if (gate) gemv_row_dot<F, NT>(a, row1, x + (uint64_t)t0 * a.cols, act + t0 * arow, nt, u);
#pragma unroll
    for (int t = 0; t < NT; t++) {
      if (t >= nt || lane != t) continue;
      // W8A8 as the CPU computes it: isum * (d_w * d_a); others: sum * d_row.
      const float da = F == WFmt::W8A8 ? *reinterpret_cast<const float*>(act + (t0 + t) * arow) : 1.0f;
      float v = g[t] * (d0 * da);
      if (gate) v = gate_mul(a.epilogue, v, u[t] * (d1 * da));
      matmul_put(a, a.y + (uint64_t)(t0 + t) * ldy + o, v);
    }
  }
}

template <WFmt F>
__device__ void gemv_tile(const MatmulArgs& a, const StepState& st, int tile) {
  const int out = matmul_out_rows(a);
  const int o = tile * kGemvWarps + (int)(threadIdx.x >> 5);
  if (o >= out) return;  // no barrier follows: the GEMV uses no shared memory
  const int n = matmul_tokens(a, st);
  const bool gate = gated(a.epilogue);
  const uint8_t* w = static_cast<const uint8_t*>(a.w);
  const uint8_t* row0 = w + (uint64_t)o * a.row_bytes;
  const uint8_t* row1 = gate ? w + (uint64_t)(o + out) * a.row_bytes : row0;
  const float* x = a.x + (a.last_only ? (uint64_t)(st.n - 1) * a.cols : 0);
  const float d0 = gemv_row_scale<F>(a, row0), d1 = gate ? gemv_row_scale<F>(a, row1) : 1.0f;
  if (n == 1) gemv_output<F, 1>(a, o, n, x, row0, row1, d0, d1);
  else gemv_output<F, kGemvMaxTokens>(a, o, n, x, row0, row1, d0, d1);
}

}  // namespace km::cuda::mm
