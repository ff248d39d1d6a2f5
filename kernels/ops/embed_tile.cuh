// The device code of embed.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
#pragma once

#include <cstddef>

#include "keymate/formats.h"
#include "keymate/half.h"

namespace km::cuda {

namespace embed_detail {

// Weight i of a row of K-quant super-blocks, read a byte at a time (Q6_K
// blocks are only 2-byte aligned), rounded as ggml_types.cpp's dequantizers.
__device__ inline float kquant_element(GgmlType t, const uint8_t* row, int i) {
  const int r = i % QK_K;
  if (t == GgmlType::Q6_K) {
    const uint8_t* b = row + (uint64_t)(i / QK_K) * sizeof(block_q6_K);
    const int half = r >> 7, quarter = (r >> 5) & 3, l = r & 31;
    const int low = (b[offsetof(block_q6_K, ql) + 64 * half + 32 * (quarter & 1) + l] >> (4 * (quarter >> 1))) & 15;
    const int high = (b[offsetof(block_q6_K, qh) + 32 * half + l] >> (2 * quarter)) & 3;
    const float d = fp16_to_fp32((uint16_t)(b[offsetof(block_q6_K, d)] | b[offsetof(block_q6_K, d) + 1] << 8));
    const int8_t sc = (int8_t)b[offsetof(block_q6_K, scales) + (r >> 4)];
    return d * sc * (float)((low | high << 4) - 32);
  }
  const bool q5 = t == GgmlType::Q5_K;
  const uint8_t* b = row + (uint64_t)(i / QK_K) * (q5 ? sizeof(block_q5_K) : sizeof(block_q4_K));
  const uint8_t* qs = b + (q5 ? offsetof(block_q5_K, qs) : offsetof(block_q4_K, qs));
  const int sub = r >> 5;
  int q = (qs[32 * (r >> 6) + (r & 31)] >> (4 * (sub & 1))) & 15;
  if (q5) q |= ((b[offsetof(block_q5_K, qh) + (r & 31)] >> sub) & 1) << 4;
  auto word = [&](int k) {
    const uint8_t* p = b + offsetof(block_q4_K, scales) + 4 * k;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  };
  int sc, mn;
  k4_scale_min(k4_scale_words(word(0), word(1), word(2)), sub, &sc, &mn);
  const float d = fp16_to_fp32((uint16_t)(b[0] | b[1] << 8)), dmin = fp16_to_fp32((uint16_t)(b[2] | b[3] << 8));
  return __fsub_rn(__fmul_rn(d * (float)sc, (float)q), dmin * (float)mn);  // never contracted into an fma
}

// Element i of a row, as the CPU's dequantize_row / dequantize_run_row compute it.
__device__ inline float row_element(const EmbedArgs& a, const uint8_t* row, int i) {
  if (!a.quant.none()) return run_element(a.quant, row, a.dim, i);
  switch (a.type) {
    case GgmlType::F32: return reinterpret_cast<const float*>(row)[i];
    case GgmlType::F16: return fp16_to_fp32(reinterpret_cast<const uint16_t*>(row)[i]);
    case GgmlType::BF16: return bf16_to_fp32(reinterpret_cast<const uint16_t*>(row)[i]);
    case GgmlType::Q8_0: {
      const block_q8_0* b = reinterpret_cast<const block_q8_0*>(row) + i / QK8_0;
      return (float)b->qs[i % QK8_0] * fp16_to_fp32(b->d);
    }
    case GgmlType::Q4_0: {
      const block_q4_0* b = reinterpret_cast<const block_q4_0*>(row) + i / QK4_0;
      const int j = i % QK4_0;
      const int u = j < QK4_0 / 2 ? (b->qs[j] & 15) : (b->qs[j - QK4_0 / 2] >> 4);
      return (float)(u - 8) * fp16_to_fp32(b->d);
    }
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return kquant_element(a.type, row, i);
    default: return 0.0f;  // not uploaded in this type (embed_supports)
  }
}

}  // namespace embed_detail

__device__ inline void embed_tile(const EmbedArgs& a, const StepState& st, int tile, char*) {
  using namespace embed_detail;
  const int tok = st.tokens[tile];
  float* x = a.x + (int64_t)tile * a.dim;
  const bool ok = tok >= 0 && tok < a.vocab;
  const uint8_t* row = static_cast<const uint8_t*>(a.table) + (ok ? (uint64_t)tok * a.row_bytes : 0);
  // Scaled after the element is whole, as the CPU does (cpu_backend.cpp's embed).
  for (int i = threadIdx.x; i < a.dim; i += kThreads) x[i] = ok ? row_element(a, row, i) * a.scale : 0.0f;
}

}  // namespace km::cuda
