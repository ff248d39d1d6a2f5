// Unpacking K-quant super-blocks into plain integers: the scalar kernels and
// the SIMD kernels' setup both use these, so the bit layout is written once.
#pragma once

#include <cstdint>
#include <cstring>

#include "keymate/formats.h"

namespace km::cpu {

// Q4_K: the 6-bit scale and min of sub-block j (0..7). The first four live in
// the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); the last four are a
// nibble of bytes 8..11 plus the top 2 bits of bytes 0..7.
inline void q4k_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// All 8 scales and 8 mins of a Q4_K block at once, by whole-word bit moves
// (the same result as q4k_scale_min for j = 0..7).
inline void q4k_scales_mins(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
  const uint32_t sc_lo = w[0] & low6;                                       // scales 0..3
  const uint32_t sc_hi = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);       // scales 4..7
  const uint32_t m_lo = w[1] & low6;                                        // mins 0..3
  const uint32_t m_hi = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);  // mins 4..7
  std::memcpy(sc, &sc_lo, 4);
  std::memcpy(sc + 4, &sc_hi, 4);
  std::memcpy(m, &m_lo, 4);
  std::memcpy(m + 4, &m_hi, 4);
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
