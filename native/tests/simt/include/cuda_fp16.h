// The SIMT harness's stand-in for <cuda_fp16.h>: __half and __half2 as 16-bit
// storage with IEEE round-to-nearest-even conversions (keymate/half.h, the
// engine's own bit-exact ones), which is what the GPU's cvt.rn does.
#pragma once

#include <cstdint>

#include "keymate/half.h"
#include "simt/types.h"

struct __half {
  unsigned short __x;
  __half() = default;
  __half(float f) : __x(km::fp32_to_fp16(f)) {}
  operator float() const { return km::fp16_to_fp32(__x); }
};
struct alignas(4) __half2 {
  __half x, y;
};
typedef __half half;
typedef __half2 half2;

inline __half __ushort_as_half(unsigned short u) { __half h; h.__x = u; return h; }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline float __half2float(__half h) { return km::fp16_to_fp32(h.__x); }
inline __half __float2half(float f) { return __ushort_as_half(km::fp32_to_fp16(f)); }
inline __half __float2half_rn(float f) { return __float2half(f); }
inline __half2 __floats2half2_rn(float lo, float hi) { return __half2{__float2half(lo), __float2half(hi)}; }
inline __half2 __float2half2_rn(float f) { return __floats2half2_rn(f, f); }
inline float2 __half22float2(__half2 h) { return float2{__half2float(h.x), __half2float(h.y)}; }
inline float __low2float(__half2 h) { return __half2float(h.x); }
inline float __high2float(__half2 h) { return __half2float(h.y); }
inline __half2 __halves2half2(__half lo, __half hi) { return __half2{lo, hi}; }
