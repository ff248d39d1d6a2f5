// The device code of embed.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
#pragma once

#include "../matmul/kquant.cuh"
#include "keymate/formats.h"
#include "keymate/half.h"

namespace km::cuda {

namespace embed_detail {

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
    case GgmlType::Q4_K: return mm::k_element<mm::WFmt::Q4_K>(row, i);
    case GgmlType::Q5_K: return mm::k_element<mm::WFmt::Q5_K>(row, i);
    case GgmlType::Q6_K: return mm::k_element<mm::WFmt::Q6_K>(row, i);
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
