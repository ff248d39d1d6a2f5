// The SIMT harness's stand-in for <cuda_bf16.h>: bfloat16 storage with the
// round-to-nearest-even conversion of keymate/half.h.
#pragma once

#include "keymate/half.h"
#include "simt/types.h"

struct __nv_bfloat16 {
  unsigned short __x;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) : __x(km::fp32_to_bf16(f)) {}
  operator float() const { return km::bf16_to_fp32(__x); }
};
struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};

inline float __bfloat162float(__nv_bfloat16 h) { return km::bf16_to_fp32(h.__x); }
inline __nv_bfloat16 __float2bfloat16(float f) { __nv_bfloat16 h; h.__x = km::fp32_to_bf16(f); return h; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { __nv_bfloat16 h; h.__x = u; return h; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return float2{__bfloat162float(h.x), __bfloat162float(h.y)}; }
inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
  return __nv_bfloat162{__float2bfloat16(lo), __float2bfloat16(hi)};
}
