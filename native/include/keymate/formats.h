// Every block format the engine reads or runs, defined once. The CPU reference
// and the CUDA kernels both include this header, so a layout cannot drift
// between them; the static_asserts pin the byte layout to the file format.
//
// GGUF formats (names and layouts as in the GGUF files llama.cpp writes):
//   Q8_0  32 weights: w = d * q,              q int8
//   Q4_0  32 weights: w = d * (q - 8),         q 4-bit, low nibbles are 0..15, high 16..31
//   Q4_K 256 weights: 8 sub-blocks of 32, 6-bit scales and mins, w = d*sc*q - dmin*m
//   Q5_K 256 weights: Q4_K's scales and mins, q 5-bit (a fifth bit per weight in qh)
//   Q6_K 256 weights: 16 sub-blocks of 16, int8 scales, w = d * sc * (q - 32), q 6-bit
// Also read from files and converted at load (ggml_types.h's ggml_type_held_as):
//   Q5_0 to Q8_0; Q4_1, Q5_1 (32 weights), Q2_K, Q3_K (256 weights) to f32.
#pragma once

#include <cstdint>

#include "keymate/half.h"  // KM_HD

namespace km {

constexpr int QK8_0 = 32;
struct block_q8_0 {
  uint16_t d;        // fp16 scale
  int8_t qs[QK8_0];  // quants
};
static_assert(sizeof(block_q8_0) == 2 + QK8_0, "block_q8_0 layout");

constexpr int QK4_0 = 32;
struct block_q4_0 {
  uint16_t d;             // fp16 scale
  uint8_t qs[QK4_0 / 2];  // element j in low nibble of qs[j], element j+16 in high nibble
};
static_assert(sizeof(block_q4_0) == 2 + QK4_0 / 2, "block_q4_0 layout");

constexpr int QK4_1 = 32;
struct block_q4_1 {
  uint16_t d;             // fp16 scale
  uint16_t m;             // fp16 minimum: w = d * q + m
  uint8_t qs[QK4_1 / 2];  // nibbles as in block_q4_0
};
static_assert(sizeof(block_q4_1) == 4 + QK4_1 / 2, "block_q4_1 layout");

constexpr int QK5_0 = 32;
struct block_q5_0 {
  uint16_t d;             // fp16 scale: w = d * (q - 16)
  uint8_t qh[4];          // bit 4 of element j is bit j of this little-endian u32
  uint8_t qs[QK5_0 / 2];  // low 4 bits, nibbles as in block_q4_0
};
static_assert(sizeof(block_q5_0) == 2 + 4 + QK5_0 / 2, "block_q5_0 layout");

constexpr int QK5_1 = 32;
struct block_q5_1 {
  uint16_t d;             // fp16 scale: w = d * q + m
  uint16_t m;             // fp16 minimum
  uint8_t qh[4];          // as in block_q5_0
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 4 + 4 + QK5_1 / 2, "block_q5_1 layout");

constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

struct block_q4_K {
  uint16_t d;                      // fp16 super-block scale for the quantized scales
  uint16_t dmin;                   // fp16 super-block scale for the quantized mins
  uint8_t scales[K_SCALE_SIZE];    // 8 scales and 8 mins, 6 bits each
  uint8_t qs[QK_K / 2];            // 4-bit quants
};
static_assert(sizeof(block_q4_K) == 4 + K_SCALE_SIZE + QK_K / 2, "block_q4_K layout");

// Q4_K and Q5_K pack 8 6-bit scales and 8 6-bit mins into 12 bytes: scales
// and mins 0..3 are the low 6 bits of bytes 0..3 and 4..7; 4..7 are a nibble
// of bytes 8..11 (low: scale, high: min) under the top 2 bits of bytes 0..7.
// Here the 12 bytes are three little-endian words, and the result four words
// of one 6-bit value per byte, so the CPU and the GPU unpack them with whole-word
// moves and no per-byte branches.
struct K4ScaleWords {
  uint32_t sc_lo, sc_hi, m_lo, m_hi;  // scales 0..3, scales 4..7, mins 0..3, mins 4..7
};

KM_HD K4ScaleWords k4_scale_words(uint32_t w0, uint32_t w1, uint32_t w2) {
  const uint32_t low6 = 0x3f3f3f3fu, low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
  return {w0 & low6, (w2 & low4) | (((w0 >> 6) & low2) << 4), w1 & low6,
          ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4)};
}

// The scale and min of sub-block j (0..7).
KM_HD void k4_scale_min(const K4ScaleWords& k, int j, int* sc, int* m) {
  const int sh = 8 * (j & 3);
  *sc = (int)(((j < 4 ? k.sc_lo : k.sc_hi) >> sh) & 0xff);
  *m = (int)(((j < 4 ? k.m_lo : k.m_hi) >> sh) & 0xff);
}

struct block_q2_K {
  uint8_t scales[QK_K / 16];  // 16 sub-blocks: low nibble scale, high nibble min
  uint8_t qs[QK_K / 4];       // 2-bit quants
  uint16_t d;                 // fp16 super-block scale for the scales
  uint16_t dmin;              // fp16 super-block scale for the mins
};
static_assert(sizeof(block_q2_K) == QK_K / 16 + QK_K / 4 + 4, "block_q2_K layout");

struct block_q3_K {
  uint8_t hmask[QK_K / 8];        // high bit of the 3-bit quants (clear means -4)
  uint8_t qs[QK_K / 4];           // low 2 bits
  uint8_t scales[K_SCALE_SIZE];   // 16 6-bit scales, offset by 32
  uint16_t d;                     // fp16 super-block scale
};
static_assert(sizeof(block_q3_K) == QK_K / 8 + QK_K / 4 + K_SCALE_SIZE + 2, "block_q3_K layout");

struct block_q5_K {
  uint16_t d;                     // as block_q4_K, plus one high bit per quant
  uint16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];           // bit 4 of the quants
  uint8_t qs[QK_K / 2];           // low 4 bits
};
static_assert(sizeof(block_q5_K) == 4 + K_SCALE_SIZE + QK_K / 8 + QK_K / 2, "block_q5_K layout");

struct block_q6_K {
  uint8_t ql[QK_K / 2];      // low 4 bits of the quants
  uint8_t qh[QK_K / 4];      // high 2 bits
  int8_t scales[QK_K / 16];  // 8-bit scales of the 16-element sub-blocks
  uint16_t d;                // fp16 super-block scale
};
static_assert(sizeof(block_q6_K) == QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, "block_q6_K layout");

// Activations quantized for integer dot products against Q8_0/Q4_0 weights:
// same geometry as block_q8_0, but the scale is kept as float so the product
// d_w * d_a is formed without an extra rounding; `s` caches d * sum(qs), which
// Q4_0 needs for its -8 offset.
struct block_q8_0x {
  float d;
  float s;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0x) == 8 + QK8_0, "block_q8_0x layout");

}  // namespace km
