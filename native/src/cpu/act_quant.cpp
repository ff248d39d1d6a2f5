// Scalar activation conversions; see act_quant.h.
#include "cpu/act_quant.h"

#include <cmath>
#include <cstring>

#include "keymate/error.h"
#include "keymate/half.h"

namespace km::cpu {

ActFormat act_format_for(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return ActFormat::F32;
    case GgmlType::F16: return ActFormat::F16;
    case GgmlType::BF16: return ActFormat::BF16;
    case GgmlType::Q8_0:
    case GgmlType::Q4_0: return ActFormat::Q8;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return ActFormat::Q8K;
    default: break;
  }
  fail("cpu backend: no kernel for weight type %s", ggml_type_info(t).name ? ggml_type_info(t).name : "?");
}

ActFormat act_format_for(GgmlType t, RunQuant q) {
  switch (q.type) {
    case RunType::None: return act_format_for(t);
    case RunType::Fp8: return ActFormat::F32;
    case RunType::W8A8: return ActFormat::Q8Row;
    case RunType::Int8: case RunType::Int4: case RunType::Nf4: return ActFormat::Q8;
  }
  return ActFormat::F32;
}

uint64_t act_row_bytes(ActFormat f, int64_t cols) {
  switch (f) {
    case ActFormat::F32: case ActFormat::F16: case ActFormat::BF16: return 4 * (uint64_t)cols;
    case ActFormat::Q8: return (uint64_t)cols / QA * sizeof(block_q8a);
    case ActFormat::Q8K: return (uint64_t)cols / QKA * sizeof(block_q8k);
    case ActFormat::Q8Row: return kQ8RowHeader + (uint64_t)cols;
  }
  return 0;
}

void quantize_q8a_scalar(const float* x, block_q8a* y, int64_t n) {
  for (int64_t b = 0; b < n / QA; b++, x += QA) {
    float amax = 0;
    for (int j = 0; j < QA; j++) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (int j = 0; j < QA; j++) {
      const int q = (int)std::nearbyint(x[j] * id);
      y[b].qs[j] = (int8_t)q;
      sum += q;
    }
    y[b].d = fp16_to_fp32(fp32_to_fp16(d));
    y[b].sum = sum;
  }
}

void quantize_q8k_scalar(const float* x, block_q8k* y, int64_t n) {
  for (int64_t b = 0; b < n / QKA; b++, x += QKA) {
    float amax = 0;
    for (int j = 0; j < QKA; j++) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    for (int g = 0; g < QKA / 16; g++) {
      int sum = 0;
      for (int j = 16 * g; j < 16 * g + 16; j++) {
        const int q = (int)std::nearbyint(x[j] * id);
        y[b].qs[j] = (int8_t)q;
        sum += q;
      }
      y[b].bsums[g] = (int16_t)sum;
    }
    y[b].d = d;
  }
}

void quantize_q8row_scalar(const float* x, uint8_t* row, int64_t n) {
  float amax = 0;
  for (int64_t i = 0; i < n; i++) amax = std::fmax(amax, std::fabs(x[i]));
  const float d = amax / 127.0f, inv = amax != 0 ? 127.0f / amax : 0.0f;
  std::memcpy(row, &d, 4);
  int8_t* q = reinterpret_cast<int8_t*>(row + kQ8RowHeader);
  for (int64_t i = 0; i < n; i++) q[i] = quant_i8(x[i], inv);
}

void round_f16_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = fp16_to_fp32(fp32_to_fp16(x[i]));
}

void round_bf16_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = bf16_to_fp32(fp32_to_bf16(x[i]));
}

}  // namespace km::cpu
