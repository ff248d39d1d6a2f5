// Reference quantizers, one block at a time, in plain scalar code: they run
// once per weight when a model is made, never per token.
#include "quant/quantize_gguf.h"

#include <cmath>
#include <cstring>

#include "keymate/error.h"
#include "keymate/formats.h"
#include "keymate/half.h"

namespace km {

namespace {

// The same bytes on every machine: x * id + 8.5 must not become one fused
// multiply-add where the compiler may use FMA (GCC contracts across
// statements by default; clang only within one, hence the separate steps).
#if defined(__GNUC__) && !defined(__clang__)
#define KM_NO_FP_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define KM_NO_FP_CONTRACT
#endif

// Q8_0: d = amax / 127, q = round(x / d) computed as x * (1/d), like llama.cpp.
void quantize_q8_0(const float* x, block_q8_0* y, int64_t nb) {
  for (int64_t b = 0; b < nb; b++, x += QK8_0) {
    float amax = 0.f;
    for (int j = 0; j < QK8_0; j++) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < QK8_0; j++) y[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

// Q4_0: the value of largest magnitude (with its sign) maps to -8, so
// d = max / -8 and q = min(15, trunc(x / d + 8.5)), like llama.cpp.
KM_NO_FP_CONTRACT void quantize_q4_0(const float* x, block_q4_0* y, int64_t nb) {
  for (int64_t b = 0; b < nb; b++, x += QK4_0) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < QK4_0; j++) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < QK4_0 / 2; j++) {
      const float x0 = x[j] * id;
      const float x1 = x[j + QK4_0 / 2] * id;
      const int lo = static_cast<int8_t>(x0 + 8.5f);
      const int hi = static_cast<int8_t>(x1 + 8.5f);
      y[b].qs[j] = static_cast<uint8_t>((lo < 15 ? lo : 15) | ((hi < 15 ? hi : 15) << 4));
    }
  }
}

}  // namespace

bool can_quantize(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 || t == GgmlType::Q8_0 ||
         t == GgmlType::Q4_0;
}

void quantize_row(GgmlType t, const float* src, void* dst, int64_t n) {
  const GgmlTypeInfo info = ggml_type_info(t);
  if (!can_quantize(t))
    fail("quantize: cannot write tensors of type %s (f32, f16, bf16, q8_0 and q4_0 can be written)",
         info.name ? info.name : "unknown");
  if (n < 0 || n % info.block_elems != 0)
    fail("quantize: row of %lld elements is not a multiple of the %s block size %u",
         static_cast<long long>(n), info.name, info.block_elems);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; i++) d[i] = fp32_to_fp16(src[i]);
      break;
    }
    case GgmlType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; i++) d[i] = fp32_to_bf16(src[i]);
      break;
    }
    case GgmlType::Q8_0:
      quantize_q8_0(src, static_cast<block_q8_0*>(dst), n / QK8_0);
      break;
    case GgmlType::Q4_0:
      quantize_q4_0(src, static_cast<block_q4_0*>(dst), n / QK4_0);
      break;
    default:
      break;
  }
}

}  // namespace km
