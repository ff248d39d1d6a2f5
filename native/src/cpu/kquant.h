// Unpacking K-quant super-blocks into plain integers: the scalar kernels and
// the SIMD kernels' setup both use these, so the bit layout is written once.
#pragma once

#include <cstdint>
#include <cstring>

#include "keymate/formats.h"

namespace km::cpu {

// Q4_K/Q5_K: the 12 packed scale bytes of a block as formats.h's words.
inline K4ScaleWords q4k_scale_words(const uint8_t* s) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  return k4_scale_words(w[0], w[1], w[2]);
}

// The 6-bit scale and min of sub-block j (0..7).
inline void q4k_scale_min(const uint8_t* s, int j, int* sc, int* m) { k4_scale_min(q4k_scale_words(s), j, sc, m); }

// All 8 scales and 8 mins of a block at once.
inline void q4k_scales_mins(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  const K4ScaleWords k = q4k_scale_words(s);
  std::memcpy(sc, &k.sc_lo, 4);
  std::memcpy(sc + 4, &k.sc_hi, 4);
  std::memcpy(m, &k.m_lo, 4);
  std::memcpy(m + 4, &k.m_hi, 4);
}

// Q4_K quants in element order (0..15): sub-block 2p is the low nibbles of
// qs[32p .. 32p+31], sub-block 2p+1 their high nibbles.
inline void q4k_unpack(const block_q4_K& b, uint8_t q[QK_K]) {
  for (int p = 0; p < 4; p++)
    for (int l = 0; l < 32; l++) {
      q[64 * p + l] = b.qs[32 * p + l] & 0xF;
      q[64 * p + 32 + l] = b.qs[32 * p + l] >> 4;
    }
}

// Q5_K quants in element order (0..31): Q4_K's nibbles plus bit 4 from qh,
// where bit j of qh[l] belongs to element 32j + l.
inline void q5k_unpack(const block_q5_K& b, uint8_t q[QK_K]) {
  for (int p = 0; p < 4; p++)
    for (int l = 0; l < 32; l++) {
      q[64 * p + l] = (uint8_t)((b.qs[32 * p + l] & 0xF) | (((b.qh[l] >> (2 * p)) & 1) << 4));
      q[64 * p + 32 + l] = (uint8_t)((b.qs[32 * p + l] >> 4) | (((b.qh[l] >> (2 * p + 1)) & 1) << 4));
    }
}

// Q6_K quants in element order (0..63, offset 32 not yet removed). Each half
// of 128 elements takes 64 bytes of ql and 32 of qh: element l (0..31) of
// quarter k comes from nibble k/2 of ql[l + 32*(k%2)] and bits 2k..2k+1 of qh[l].
inline void q6k_unpack(const block_q6_K& b, uint8_t q[QK_K]) {
  for (int h = 0; h < 2; h++) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    uint8_t* o = q + 128 * h;
    for (int l = 0; l < 32; l++) {
      o[l] = (uint8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
      o[l + 32] = (uint8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
      o[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      o[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
}

}  // namespace km::cpu
