// IEEE half and bfloat16 <-> float, bit-exact, usable from host and device code.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define KM_HD __host__ __device__ inline
#else
#define KM_HD inline
#endif

namespace km {

KM_HD float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
KM_HD uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// Exact: every half is a float.
KM_HD float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t man = h & 0x3ff;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (man << 13));  // inf / nan
  if (exp != 0) return bits_to_float(sign | ((exp + 112) << 23) | (man << 13));
  if (man == 0) return bits_to_float(sign);  // signed zero
  // subnormal half: value = man * 2^-24
  float f = (float)man * 5.9604644775390625e-8f;
  return sign ? -f : f;
}

// Round to nearest even, saturating to inf on overflow (as IEEE conversion does).
KM_HD uint16_t fp32_to_fp16(float f) {
  uint32_t x = float_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00 | ((x >> 13) & 0x3ff));  // nan stays nan
  if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);                        // rounds to inf
  if (x < 0x38800000u) {                                                         // subnormal or zero
    // add 0.5 ulp of the half subnormal grid via float arithmetic (exact RNE)
    float v = bits_to_float(x) + 0.5f;
    return (uint16_t)(sign | (float_to_bits(v) - 0x3f000000u));
  }
  const uint32_t mant_odd = (x >> 13) & 1;
  x += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round to nearest even
  return (uint16_t)(sign | (x >> 13));
}

KM_HD float bf16_to_fp32(uint16_t h) { return bits_to_float((uint32_t)h << 16); }

KM_HD uint16_t fp32_to_bf16(float f) {
  uint32_t x = float_to_bits(f);
  if ((x & 0x7fffffff) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);  // quiet nan
  return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

}  // namespace km
