// FP8 <-> float, bit-exact, usable from host and device code (like half.h).
//
//   e4m3 ("e4m3fn" in OCP FP8): 1 sign, 4 exponent (bias 7), 3 mantissa bits.
//        No infinities; S.1111.111 is NaN; largest finite 448; smallest
//        subnormal 2^-9. Weights and the KV cache.
//   e5m2: 1 sign, 5 exponent (bias 15), 2 mantissa bits, IEEE-like: S.11111.00
//        is infinity, S.11111.xx NaN; largest finite 57344; smallest
//        subnormal 2^-16. It is the top byte of an IEEE half.
//
// Encoding rounds to nearest, ties to even, and saturates: a finite value
// beyond the largest finite and an infinity become the largest finite of that
// sign. That is CUDA's __NV_SATFINITE conversion, so a kernel may use the
// hardware instruction and agree bit for bit. NaN stays NaN (sign kept), -0
// stays -0, and magnitudes at or below half the smallest subnormal become
// zero of their sign. Everything is integer arithmetic on the float's bits,
// so no rounding mode or flush-to-zero setting can change a result.
#pragma once

#include <cstdint>

#include "keymate/half.h"

namespace km {

constexpr uint8_t kFp8E4M3Max = 0x7e;  // 448
constexpr uint8_t kFp8E4M3Nan = 0x7f;
constexpr uint8_t kFp8E5M2Max = 0x7b;  // 57344
constexpr uint8_t kFp8E5M2Inf = 0x7c;
constexpr uint8_t kFp8E5M2Nan = 0x7f;
constexpr float kFp8E4M3MaxValue = 448.0f;
constexpr float kFp8E5M2MaxValue = 57344.0f;

namespace fp8_detail {

// m / 2^s rounded to nearest even, for m < 2^31 and s >= 1.
KM_HD uint32_t shift_rne(uint32_t m, uint32_t s) {
  if (s >= 32) return 0;  // m < 2^31 <= 2^(s-1): below one half
  const uint32_t q = m >> s, rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
  return q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
}

// The unsigned code of a finite, non-negative float given by its bits `x`,
// for a format with MAN mantissa bits and exponent bias BIAS. It may exceed
// the format's largest finite code; the caller saturates.
template <int MAN, int BIAS>
KM_HD uint32_t magnitude(uint32_t x) {
  const int e = (int)(x >> 23);  // biased float exponent
  if (e == 0) return 0;          // float subnormals: far below half of any fp8 subnormal
  if (e - 127 + BIAS >= 1) {
    // Normal result: round the exponent|mantissa bits to MAN mantissa bits (a
    // carry rolls into the exponent, which is right), then rebias.
    return shift_rne(x, 23 - MAN) - ((uint32_t)(127 - BIAS) << MAN);
  }
  // Subnormal result: value = m * 2^(e - 150), the code counts units of the
  // smallest subnormal 2^(1 - BIAS - MAN). A result of 2^MAN is the smallest
  // normal's code, as it should be.
  const uint32_t m = (x & 0x7fffffu) | 0x800000u;
  return shift_rne(m, (uint32_t)(151 - BIAS - MAN - e));
}

}  // namespace fp8_detail

KM_HD uint8_t fp32_to_fp8_e4m3(float f) {
  uint32_t x = float_to_bits(f);
  const uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return sign | kFp8E4M3Nan;
  if (x == 0x7f800000u) return sign | kFp8E4M3Max;
  const uint32_t c = fp8_detail::magnitude<3, 7>(x);
  return (uint8_t)(sign | (c > kFp8E4M3Max ? kFp8E4M3Max : c));
}

KM_HD float fp8_e4m3_to_fp32(uint8_t c) {
  const uint32_t sign = (uint32_t)(c & 0x80u) << 24;
  const uint32_t e = (c >> 3) & 0xfu, m = c & 7u;
  if (e == 0xfu && m == 7u) return bits_to_float(sign | 0x7fc00000u);
  if (e == 0) {
    const float v = (float)m * 0.001953125f;  // m * 2^-9, exact
    return sign ? -v : v;
  }
  return bits_to_float(sign | ((e + 120u) << 23) | (m << 20));
}

KM_HD uint8_t fp32_to_fp8_e5m2(float f) {
  uint32_t x = float_to_bits(f);
  const uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return sign | kFp8E5M2Nan;
  if (x == 0x7f800000u) return sign | kFp8E5M2Max;
  const uint32_t c = fp8_detail::magnitude<2, 15>(x);
  return (uint8_t)(sign | (c > kFp8E5M2Max ? kFp8E5M2Max : c));
}

// Exact: an e5m2 code is the top byte of a half.
KM_HD float fp8_e5m2_to_fp32(uint8_t c) { return fp16_to_fp32((uint16_t)((uint16_t)c << 8)); }

// The half whose value is an e4m3 code's value times 2^-8: the code's
// exponent and mantissa bits moved into a half's, subnormals included (both
// formats' subnormals line up under this shift). SIMD and GPU code widen
// e4m3 this way and fold the 2^8 into the scale. NaN codes give 480 * 2^-8;
// quantizers never write NaN.
KM_HD uint16_t fp8_e4m3_to_fp16_scaled(uint8_t c) {
  return (uint16_t)(((uint16_t)(c & 0x80u) << 8) | ((uint16_t)(c & 0x7fu) << 7));
}
constexpr float kFp8E4M3HalfScale = 256.0f;  // fp16_to_fp32(fp8_e4m3_to_fp16_scaled(c)) * 256 == value

}  // namespace km
