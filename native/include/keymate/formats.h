// Every block format the engine reads or runs, defined once. The CPU reference
// and the CUDA kernels both include this header, so a layout cannot drift
// between them; the static_asserts pin the byte layout to the file format.
//
// GGUF formats (names and layouts as in the GGUF files llama.cpp writes):
//   Q8_0  32 weights: w = d * q,              q int8
//   Q4_0  32 weights: w = d * (q - 8),         q 4-bit, low nibbles are 0..15, high 16..31
//   Q4_K 256 weights: 8 sub-blocks of 32, 6-bit scales and mins, w = d*sc*q - dmin*m
//   Q6_K 256 weights: 16 sub-blocks of 16, int8 scales, w = d * sc * (q - 32), q 6-bit
#pragma once

#include <cstdint>

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

constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

struct block_q4_K {
  uint16_t d;                      // fp16 super-block scale for the quantized scales
  uint16_t dmin;                   // fp16 super-block scale for the quantized mins
  uint8_t scales[K_SCALE_SIZE];    // 8 scales and 8 mins, 6 bits each
  uint8_t qs[QK_K / 2];            // 4-bit quants
};
static_assert(sizeof(block_q4_K) == 4 + K_SCALE_SIZE + QK_K / 2, "block_q4_K layout");

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
