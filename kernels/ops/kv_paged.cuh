// The paged KV cache as the kernels see it. Per layer, K and V each live in
// pages of kKvPageTokens tokens:
//   quants  [page][n_kv_heads][kKvPageTokens][head_dim]   elements of kv_elem_bytes(type)
//   scales  [page][n_kv_heads][kKvPageTokens]             fp16, INT8 only
// and a page table (shared by every layer) maps a sequence's logical page
// t / kKvPageTokens to its physical page. Within a page the tokens of one
// head are contiguous, so a run of keys is one contiguous read, as in the
// CPU layout (keymate/formats_run.h); only the page boundary is an indirection.
// Element encodings and the quantize-on-write rules are exactly the CPU's
// (formats_run.h, native/src/cpu/kv_cache.cpp), so the two caches hold the
// same bits for the same inputs. FP8 is decoded with integer arithmetic
// (fp8.h), which every architecture from sm_75 runs.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "keymate/formats_run.h"

namespace km::cuda {

constexpr int kKvPageTokens = 64;
constexpr int kMaxHeadDim = 256;   // head sizes the attention kernels take (a multiple of 32)
constexpr int kMaxGroup = 8;       // query heads per KV head the decode kernel takes

struct KvLayer {
  KvType type;
  uint8_t* k;                 // quants, layout above
  uint8_t* v;
  uint16_t* k_scale;          // INT8: scales, layout above; else null
  uint16_t* v_scale;
  const int32_t* page_table;  // [context / kKvPageTokens] logical -> physical page
  int32_t n_kv_heads, head_dim, context;
};

// Index of the head vector (head h, token t): quants at that * head_dim
// elements, its scale at that index.
__device__ __forceinline__ uint64_t kv_vector(const KvLayer& c, int h, int t) {
  const int page = c.page_table[t / kKvPageTokens];
  return ((uint64_t)page * c.n_kv_heads + h) * kKvPageTokens + (uint64_t)(t % kKvPageTokens);
}

// Element i of vector `vec` in `base` (K or V quants) as f32.
__device__ __forceinline__ float kv_load(KvType type, const uint8_t* base, const uint16_t* scales, uint64_t vec,
                                         int head_dim, int i) {
  const uint64_t e = vec * (uint64_t)head_dim + (uint64_t)i;
  switch (type) {
    case KvType::F16: return __half2float(__ushort_as_half(reinterpret_cast<const uint16_t*>(base)[e]));
    case KvType::Int8: return __half2float(__ushort_as_half(scales[vec])) * (float)(int8_t)base[e];
    case KvType::Fp8E4M3: return fp8_e4m3_to_fp32(base[e]);
    case KvType::Fp8E5M2: return __half2float(__ushort_as_half((uint16_t)((uint16_t)base[e] << 8)));
  }
  return 0.0f;
}

// Stores element i of a vector; INT8 takes 1/d of the vector (its scale is
// written separately, once per vector).
__device__ __forceinline__ void kv_store(KvType type, uint8_t* base, uint64_t vec, int head_dim, int i, float x,
                                         float inv_d) {
  const uint64_t e = vec * (uint64_t)head_dim + (uint64_t)i;
  switch (type) {
    case KvType::F16: reinterpret_cast<uint16_t*>(base)[e] = fp32_to_fp16(x); return;
    case KvType::Int8: base[e] = (uint8_t)quant_i8(x, inv_d); return;
    case KvType::Fp8E4M3: base[e] = fp32_to_fp8_e4m3(x); return;
    case KvType::Fp8E5M2: base[e] = fp32_to_fp8_e5m2(x); return;
  }
}

}  // namespace km::cuda
