// Weight decoding in registers, shared by the GEMV and the GEMM: the weight
// formats as one compile-time tag, the loads (16-byte vectors through the
// read-only path, evicting nothing from L1 where x lives) and the integer
// tricks that turn packed quants into floats without the quarter-rate
// int->float conversion instruction:
//   int8  -> f32: the byte, biased to unsigned, becomes the low mantissa byte
//                 of 2^23 (one byte permute), then one subtraction (exact)
//   e4m3  -> f32: the code's 7 magnitude bits moved under a half's exponent
//                 (value * 2^-8, subnormals included; formats.h's
//                 fp8_e4m3_to_fp16_scaled), the 2^8 folded into the scale
//   NF4   -> int8: byte-permute look-ups in the 16 levels held in 4 registers
// GGUF Q8_0, Q4_0 and Q6_K blocks are 34, 18 and 210 bytes, so their quants
// are only 2-byte aligned: they are read with 2-byte loads (the backend
// converts Q8_0/Q4_0 to INT8/INT4 run rows when speed matters); everything
// else moves 16 bytes a load. The K-quants' decoding is kquant.cuh.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "../common/ptx.cuh"
#include "chooser.cuh"
#include "keymate/formats.h"
#include "keymate/formats_run.h"
#include "keymate/half.h"

namespace km::cuda::mm {

// Every weight format the kernels run: the GGUF types as stored, then the run
// formats (formats_run.h). The list is the one place a format is added; the
// format switches (matmul_impl.cuh, matmul.cu) expand it.
#define KM_WEIGHT_FORMATS(X) \
  X(F32) X(F16) X(BF16) X(Q8_0) X(Q4_0) X(Q4_K) X(Q5_K) X(Q6_K) X(Fp8) X(Int8) X(Int4) X(Nf4) X(W8A8)

#define KM_WFMT_ENUMERATOR(f) f,
enum class WFmt : uint8_t { KM_WEIGHT_FORMATS(KM_WFMT_ENUMERATOR) };
#undef KM_WFMT_ENUMERATOR

// The format a matmul's weights are decoded as (matmul_supports() rules out the rest).
KM_HD WFmt weight_format(const MatmulArgs& a) {
  switch (a.quant.type) {
    case RunType::Fp8: return WFmt::Fp8;
    case RunType::Int8: return WFmt::Int8;
    case RunType::Int4: return WFmt::Int4;
    case RunType::Nf4: return WFmt::Nf4;
    case RunType::W8A8: return WFmt::W8A8;
    case RunType::None: break;
  }
  switch (a.type) {
    case GgmlType::F16: return WFmt::F16;
    case GgmlType::BF16: return WFmt::BF16;
    case GgmlType::Q8_0: return WFmt::Q8_0;
    case GgmlType::Q4_0: return WFmt::Q4_0;
    case GgmlType::Q4_K: return WFmt::Q4_K;
    case GgmlType::Q5_K: return WFmt::Q5_K;
    case GgmlType::Q6_K: return WFmt::Q6_K;
    default: return WFmt::F32;
  }
}

KM_HD constexpr bool is_run(WFmt f) { return f >= WFmt::Fp8; }

// The activations a float format's weights multiply, as the CPU twin rounds
// them (cpu/act_quant.h, as llama.cpp's vec_dot_type): F16 weights take x
// rounded to fp16, BF16 weights to bf16, the others x as it is.
template <WFmt F>
__device__ __forceinline__ float act_round(float x) {
  if constexpr (F == WFmt::F16) return __half2float(__float2half_rn(x));
  else if constexpr (F == WFmt::BF16) return bf16_to_fp32(fp32_to_bf16(x));
  else return x;
}

// Formats whose products are int8 x int8, against activations QuantizeAct
// wrote (as their CPU twins multiply them), and the activations' scale block.
KM_HD constexpr bool int_activations(WFmt f) { return f == WFmt::W8A8 || f == WFmt::Q8_0 || f == WFmt::Q4_0; }
KM_HD constexpr int act_block(WFmt f) { return f == WFmt::W8A8 ? 0 : kQuantActBlock; }

// ---- loads -----------------------------------------------------------------

__device__ __forceinline__ uint4 ld_weight16(const void* p) { return ptx::ld_global_nc_v4_no_allocate(p); }

__device__ __forceinline__ uint32_t ld_weight_u16(const uint8_t* p) {
  return __ldg(reinterpret_cast<const unsigned short*>(p));
}

// Two 2-byte loads as one word (p 2-byte aligned).
__device__ __forceinline__ uint32_t ld_weight_u32_a2(const uint8_t* p) {
  return ld_weight_u16(p) | (ld_weight_u16(p + 2) << 16);
}

__device__ __forceinline__ float half_bits_to_float(uint32_t h) {
  return __half2float(__ushort_as_half((unsigned short)h));
}

// The scale of a run row: per group (fp16, after the quants) for column k, or
// the row's f32 scale when group == 0.
__device__ __forceinline__ float run_scale_at(const MatmulArgs& a, const uint8_t* row, int k) {
  const uint8_t* s = row + run_quant_bytes(a.quant.type, a.cols);
  if (a.quant.group == 0) return __ldg(reinterpret_cast<const float*>(s));
  return half_bits_to_float(ld_weight_u16(s + 2 * (k / a.quant.group)));
}

// ---- word -> 4 floats ------------------------------------------------------------

// Four signed bytes -> floats, exact.
__device__ __forceinline__ void i8x4_to_f32(uint32_t w, float* f) {
  const uint32_t u = w ^ 0x80808080u;
  f[0] = __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7440)) - 8388736.0f;  // 2^23 + 128
  f[1] = __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7441)) - 8388736.0f;
  f[2] = __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7442)) - 8388736.0f;
  f[3] = __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7443)) - 8388736.0f;
}

// Four unsigned bytes (0..255) minus `off` -> floats, exact.
template <int OFF>
__device__ __forceinline__ void u8x4_to_f32(uint32_t w, float* f) {
  constexpr float k = 8388608.0f + OFF;
  f[0] = __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7440)) - k;
  f[1] = __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7441)) - k;
  f[2] = __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7442)) - k;
  f[3] = __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7443)) - k;
}

// Four e4m3 codes -> their values times 2^-8 (kFp8E4M3HalfScale undoes it).
__device__ __forceinline__ void e4m3x4_to_f32_scaled(uint32_t w, float* f) {
  const uint32_t t01 = __byte_perm(w, 0, 0x1404);  // halves: code 0 << 8, code 1 << 8
  const uint32_t t23 = __byte_perm(w, 0, 0x3424);
  const uint32_t h01 = (t01 & 0x80008000u) | ((t01 >> 1) & 0x3f803f80u);
  const uint32_t h23 = (t23 & 0x80008000u) | ((t23 >> 1) & 0x3f803f80u);
  const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&h01));
  const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&h23));
  f[0] = a.x; f[1] = a.y; f[2] = b.x; f[3] = b.y;
}

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

__device__ __forceinline__ void f16x2_to_f32(uint32_t w, float* f) {
  const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&w));
  f[0] = a.x; f[1] = a.y;
}

__device__ __forceinline__ void bf16x2_to_f32(uint32_t w, float* f) {
  f[0] = __uint_as_float(w << 16);
  f[1] = __uint_as_float(w & 0xffff0000u);
}

// The NF4 levels as int8, four to a word, for byte-permute look-ups.
constexpr uint32_t nf4_word(int i) {
  return (uint32_t)(uint8_t)kNf4Levels[4 * i] | (uint32_t)(uint8_t)kNf4Levels[4 * i + 1] << 8 |
         (uint32_t)(uint8_t)kNf4Levels[4 * i + 2] << 16 | (uint32_t)(uint8_t)kNf4Levels[4 * i + 3] << 24;
}
constexpr uint32_t kNf4W0 = nf4_word(0), kNf4W1 = nf4_word(1), kNf4W2 = nf4_word(2), kNf4W3 = nf4_word(3);

// Four nibble indices (one per byte, 0..15) -> four int8 NF4 levels.
__device__ __forceinline__ uint32_t nf4x4_levels(uint32_t v) {
  const uint32_t t = v | (v >> 4);                  // bytes 0 and 2 now hold two indices each
  const uint32_t s = __byte_perm(t, 0, 0x4420) & 0x7777u;  // four 3-bit selectors
  const uint32_t lo = __byte_perm(kNf4W0, kNf4W1, s);      // levels 0..7
  const uint32_t hi = __byte_perm(kNf4W2, kNf4W3, s);      // levels 8..15
  const uint32_t m = ((v >> 3) & 0x01010101u) * 0xffu;     // 0xff where the index is >= 8
  return (hi & m) | (lo & ~m);
}

// Four 4-bit quants (one per byte, 0..15) -> four int8 q - 8, for the
// integer dot products: + 0x78 keeps every byte below 0x100 (no carry into
// the next), and flipping bit 7 turns 0x78..0x87 into -8..7.
__device__ __forceinline__ uint32_t q4x4_to_i8(uint32_t u) { return (u + 0x78787878u) ^ 0x80808080u; }

// 16 bytes of 4-bit quants (run_q4x32 order, as Q4_0's) -> 32 values in
// column order: element j is the low nibble of byte j, element 16 + j the high one.
template <WFmt F>
__device__ __forceinline__ void q4x32_to_f32(const uint32_t* q, float* v) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const uint32_t lo = q[i] & 0x0f0f0f0fu, hi = (q[i] >> 4) & 0x0f0f0f0fu;
    if constexpr (F == WFmt::Nf4) {
      i8x4_to_f32(nf4x4_levels(lo), v + 4 * i);
      i8x4_to_f32(nf4x4_levels(hi), v + 16 + 4 * i);
    } else {  // Int4: u - 8
      u8x4_to_f32<kInt4Offset>(lo, v + 4 * i);
      u8x4_to_f32<kInt4Offset>(hi, v + 16 + 4 * i);
    }
  }
}

}  // namespace km::cuda::mm
