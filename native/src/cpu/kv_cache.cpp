// KV cache formats on the CPU; see kv_cache.h. F16 goes through the kernel
// table's SIMD conversions; FP8 widens through a 256-entry table (one load per
// element, no arithmetic); INT8 is a multiply per element, which compilers
// vectorise.
#include "cpu/kv_cache.h"

#include <cmath>

namespace km::cpu {

namespace {

struct Fp8Tables {
  float e4m3[256], e5m2[256];
  Fp8Tables() {
    for (int c = 0; c < 256; c++) {
      e4m3[c] = fp8_e4m3_to_fp32((uint8_t)c);
      e5m2[c] = fp8_e5m2_to_fp32((uint8_t)c);
    }
  }
};

const Fp8Tables& fp8_tables() {
  static const Fp8Tables t;
  return t;
}

}  // namespace

uint64_t kv_quant_bytes(KvType t, int n_kv_heads, int context, int head_dim) {
  return (uint64_t)n_kv_heads * (uint64_t)context * (uint64_t)head_dim * kv_elem_bytes(t);
}

uint64_t kv_scale_bytes(KvType t, int n_kv_heads, int context) {
  return kv_has_scales(t) ? (uint64_t)n_kv_heads * (uint64_t)context * sizeof(uint16_t) : 0;
}

void kv_store(const Kernels& k, KvType t, const float* x, int hd, uint8_t* q, uint16_t* scale) {
  switch (t) {
    case KvType::F16: k.to_f16(x, reinterpret_cast<uint16_t*>(q), hd); return;
    case KvType::Fp8E4M3:
      for (int i = 0; i < hd; i++) q[i] = fp32_to_fp8_e4m3(x[i]);
      return;
    case KvType::Fp8E5M2:
      for (int i = 0; i < hd; i++) q[i] = fp32_to_fp8_e5m2(x[i]);
      return;
    case KvType::Int8: {
      float amax = 0;
      for (int i = 0; i < hd; i++) amax = std::fmax(amax, std::fabs(x[i]));
      const uint16_t h = kv_int8_scale(amax);
      const float d = fp16_to_fp32(h);
      const float inv = d != 0.0f ? 1.0f / d : 0.0f;
      for (int i = 0; i < hd; i++) q[i] = (uint8_t)quant_i8(x[i], inv);
      *scale = h;
      return;
    }
  }
}

void kv_load(const Kernels& k, KvType t, const uint8_t* q, const uint16_t* scales, int n, int hd, float* out) {
  const int64_t total = (int64_t)n * hd;
  switch (t) {
    case KvType::F16: k.to_f32(reinterpret_cast<const uint16_t*>(q), out, (int)total); return;
    case KvType::Fp8E4M3:
    case KvType::Fp8E5M2: {
      const float* lut = t == KvType::Fp8E4M3 ? fp8_tables().e4m3 : fp8_tables().e5m2;
      for (int64_t i = 0; i < total; i++) out[i] = lut[q[i]];
      return;
    }
    case KvType::Int8:
      for (int j = 0; j < n; j++) {
        const float d = fp16_to_fp32(scales[j]);
        const int8_t* qj = reinterpret_cast<const int8_t*>(q) + (int64_t)j * hd;
        float* o = out + (int64_t)j * hd;
        for (int i = 0; i < hd; i++) o[i] = d * (float)qj[i];
      }
      return;
  }
}

}  // namespace km::cpu
