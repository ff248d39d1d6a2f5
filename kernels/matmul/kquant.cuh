// K-quant super-blocks (Q4_K, Q5_K, Q6_K: formats.h) decoded in registers, for
// the decode GEMV and the prefill GEMM. The weights stay on the device as the
// file stores them, so a Q4_K_M model takes its file's size there (the memory
// plan counts it so), and every product reads 4.5 to 6.6 bits per weight.
//
// Both kernels take a super-block 16 weights at a time, a slice: 16 bytes
// holding their low 4 bits, 16 bytes holding their high bits (Q5_K: 1, Q6_K:
// 2; the same bytes serve several slices at different shifts), and the
// scale (and min) of the sub-block they belong to. Slice r (r = the first
// weight's index in the super-block, a multiple of 16) is at
//   Q4_K, Q5_K  sub-block s = r / 32 (its 6-bit scale and min, formats.h)
//               low bits: qs[32 (r / 64) + (r % 32)], nibble s % 2
//               Q5_K high bit: qh[r % 32], bit s
//   Q6_K        half = r / 128, quarter = (r % 128) / 32
//               low bits: ql[64 half + 32 (quarter % 2) + (r % 32)], nibble quarter / 2
//               high bits: qh[32 half + (r % 32)], bits 2 quarter and 2 quarter + 1
//               int8 scale scales[r / 16]
// A weight is d * sc * q - dmin * m (Q4_K, Q5_K) or d * sc * (q - 32) (Q6_K),
// rounded as the CPU's dequantize_row rounds it (ggml_types.cpp), so the
// kernels multiply the very values the CPU twin decodes.
//
// Q4_K (144 bytes) and Q5_K (176) blocks are 16-byte multiples and load 16
// bytes at a time; Q6_K blocks are 210 bytes, only 2-byte aligned, and load
// with 2-byte loads (see NOTES.md: a repacked Q6_K is the next step if a GPU
// shows those loads cost bandwidth).
#pragma once

#include <cstddef>
#include <type_traits>

#include "dequant.cuh"

namespace km::cuda::mm {

KM_HD constexpr bool is_kquant(WFmt f) { return f == WFmt::Q4_K || f == WFmt::Q5_K || f == WFmt::Q6_K; }

template <WFmt F>
struct KLayout;
template <>
struct KLayout<WFmt::Q4_K> {
  static constexpr int kBytes = sizeof(block_q4_K), kLow = offsetof(block_q4_K, qs), kHigh = 0;
};
template <>
struct KLayout<WFmt::Q5_K> {
  static constexpr int kBytes = sizeof(block_q5_K), kLow = offsetof(block_q5_K, qs), kHigh = offsetof(block_q5_K, qh);
};
template <>
struct KLayout<WFmt::Q6_K> {
  static constexpr int kBytes = sizeof(block_q6_K), kLow = offsetof(block_q6_K, ql), kHigh = offsetof(block_q6_K, qh);
};

// 16 bytes as four words: one vector load where blocks are 16-byte aligned,
// eight 2-byte loads for Q6_K.
template <WFmt F>
__device__ __forceinline__ void ld_k16(const uint8_t* p, uint32_t* w) {
  if constexpr (F == WFmt::Q6_K) {
#pragma unroll
    for (int i = 0; i < 4; i++) w[i] = ld_weight_u32_a2(p + 4 * i);
  } else {
    const uint4 v = ld_weight16(p);
    w[0] = v.x; w[1] = v.y; w[2] = v.z; w[3] = v.w;
  }
}

// The bytes of slice r: where its low and high bits are, and at which shifts.
template <WFmt F>
struct KSlice {
  int low, high;            // byte offsets in the block
  int low_shift, high_shift;

  __device__ __forceinline__ explicit KSlice(int r) {
    if constexpr (F == WFmt::Q6_K) {
      const int half = r >> 7, quarter = (r >> 5) & 3;
      low = KLayout<F>::kLow + 64 * half + 32 * (quarter & 1) + (r & 31);
      high = KLayout<F>::kHigh + 32 * half + (r & 31);
      low_shift = 4 * (quarter >> 1);
      high_shift = 2 * quarter;
    } else {
      low = KLayout<F>::kLow + 32 * (r >> 6) + (r & 31);
      high = KLayout<F>::kHigh + (r & 31);
      low_shift = 4 * ((r >> 5) & 1);
      high_shift = r >> 5;
    }
  }
};

// What a block's slices are scaled by, loaded once per block: Q4_K/Q5_K's
// 16-byte head (d, dmin, the 12 scale bytes), Q6_K's d (its int8 scales are
// read per slice).
template <WFmt F>
struct KScales {
  uint4 head;
  float d6;
  const uint8_t* block;

  __device__ __forceinline__ explicit KScales(const uint8_t* b) : block(b) {
    if constexpr (F == WFmt::Q6_K) d6 = half_bits_to_float(ld_weight_u16(b + offsetof(block_q6_K, d)));
    else head = ld_weight16(b);
  }

  // Slice r's scale and min: w = d * q - m (Q6_K: m = 0 and q already less
  // 32), d and m rounded as the CPU's d * sc and dmin * m.
  __device__ __forceinline__ void at(int r, float* d, float* m) const {
    if constexpr (F == WFmt::Q6_K) {
      const int sc = __ldg(reinterpret_cast<const signed char*>(block + offsetof(block_q6_K, scales) + (r >> 4)));
      *d = d6 * (float)sc;
      *m = 0.0f;
    } else {
      int sc, mn;
      k4_scale_min(k4_scale_words(head.y, head.z, head.w), r >> 5, &sc, &mn);
      *d = half_bits_to_float(head.x & 0xffffu) * (float)sc;
      *m = half_bits_to_float(head.x >> 16) * (float)mn;
    }
  }
};

// The 16 weights of a slice from its loaded words, in column order.
template <WFmt F>
__device__ __forceinline__ void k16_to_f32(const uint32_t* low, const uint32_t* high, int low_shift,
                                           int high_shift, float d, float m, float* v) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    uint32_t q = (low[i] >> low_shift) & 0x0f0f0f0fu;
    if constexpr (F == WFmt::Q5_K) q |= ((high[i] >> high_shift) & 0x01010101u) << 4;
    if constexpr (F == WFmt::Q6_K) q |= ((high[i] >> high_shift) & 0x03030303u) << 4;
    float f[4];
    u8x4_to_f32<F == WFmt::Q6_K ? 32 : 0>(q, f);
#pragma unroll
    for (int j = 0; j < 4; j++) v[4 * i + j] = __fsub_rn(__fmul_rn(d, f[j]), m);  // the CPU's d1 * q - m1
  }
}

// Weight i of a row of F's super-blocks on its own (the embedding op reads
// one row a token): the byte of its slice at its shift, scaled as a slice's.
template <WFmt F>
__device__ __forceinline__ float k_element(const uint8_t* row, int i) {
  const uint8_t* block = row + (uint64_t)(i / QK_K) * KLayout<F>::kBytes;
  const int r = i % QK_K, l = r & 15;
  const KSlice<F> s(r & ~15);
  int q = (block[s.low + l] >> s.low_shift) & 15;
  if constexpr (F == WFmt::Q5_K) q |= ((block[s.high + l] >> s.high_shift) & 1) << 4;
  if constexpr (F == WFmt::Q6_K) q = (q | ((block[s.high + l] >> s.high_shift) & 3) << 4) - 32;
  float d, m;
  KScales<F>(block).at(r, &d, &m);
  return __fsub_rn(__fmul_rn(d, (float)q), m);  // the CPU's d1 * q - m1, never contracted
}

// The GEMV's chunk (gemv.cuh): 32 weights, two slices that share their bytes
// (Q4_K/Q5_K: the low and high nibbles of 16 qs bytes, 32 columns apart;
// Q6_K: 64 apart), eight chunks per super-block.
template <WFmt F>
struct KChunk {
  static constexpr int E = 32;
  static constexpr int kGap = F == WFmt::Q6_K ? 64 : 32;
  uint32_t low[4], high[4];
  float d0, m0, d1, m1;
  int low_shift, high_shift;
  static constexpr float d = 1.0f;  // the scales are applied in decode

  // The first slice of chunk c of its super-block.
  __device__ __forceinline__ static int first_slice(int c) {
    c &= 7;
    return F == WFmt::Q6_K ? 128 * (c >> 2) + 32 * ((c >> 1) & 1) + 16 * (c & 1) : 64 * (c >> 1) + 16 * (c & 1);
  }

  // The row column of value j (0..31) of chunk c.
  __device__ __forceinline__ static int col(int c, int j) {
    return (c >> 3) * QK_K + first_slice(c) + (j < 16 ? j : kGap + j - 16);
  }

  __device__ __forceinline__ void load(const MatmulArgs&, const uint8_t* row, int c) {
    const uint8_t* block = row + (uint64_t)(c >> 3) * KLayout<F>::kBytes;
    const int r = first_slice(c);
    const KSlice<F> s(r);
    ld_k16<F>(block + s.low, low);
    if constexpr (F != WFmt::Q4_K) ld_k16<F>(block + s.high, high);
    low_shift = s.low_shift;
    high_shift = s.high_shift;
    const KScales<F> sc(block);
    sc.at(r, &d0, &m0);
    sc.at(r + kGap, &d1, &m1);
  }

  // Q4_K/Q5_K: the second slice is the high nibble, the next sub-block's
  // bit; Q6_K: the high nibble, the quarter two on (two bits up).
  __device__ __forceinline__ void decode(float* v) const {
    k16_to_f32<F>(low, high, low_shift, high_shift, d0, m0, v);
    k16_to_f32<F>(low, high, low_shift + 4, high_shift + (F == WFmt::Q6_K ? 4 : 1), d1, m1, v + 16);
  }
};

// The GEMM's A operand (gemm.cuh's GemmA interface): one slice, columns
// [k, k + 16) of a row.
template <WFmt F>
struct KGemmA {
  uint32_t low[4], high[4];
  float d, m;
  int low_shift, high_shift;

  __device__ __forceinline__ void load(const MatmulArgs&, const uint8_t* row, int k) {
#pragma unroll
    for (int i = 0; i < 4; i++) low[i] = high[i] = 0;
    d = m = 0.0f;
    low_shift = high_shift = 0;
    if (row == nullptr) return;
    const uint8_t* block = row + (uint64_t)(k / QK_K) * KLayout<F>::kBytes;
    const int r = k % QK_K;
    const KSlice<F> s(r);
    ld_k16<F>(block + s.low, low);
    if constexpr (F != WFmt::Q4_K) ld_k16<F>(block + s.high, high);
    low_shift = s.low_shift;
    high_shift = s.high_shift;
    KScales<F>(block).at(r, &d, &m);
  }

  __device__ __forceinline__ void to_half(int, uint32_t* h) const {
    float v[16];
    k16_to_f32<F>(low, high, low_shift, high_shift, d, m, v);
#pragma unroll
    for (int i = 0; i < 8; i++) h[i] = pack_half2(v[2 * i], v[2 * i + 1]);
  }
};

}  // namespace km::cuda::mm
