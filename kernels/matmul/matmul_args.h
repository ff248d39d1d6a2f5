// The arguments of a matrix product, in plain C++ (no CUDA header), so host
// code that only fills them in (the backend's program builder, the test and
// bench harness) can include them from a .cpp file. matmul.cuh, the op's
// interface, includes this; the two together are the shared CUDA plan's
// matmul.cuh.
#pragma once

#include <cstdint>

#include "keymate/formats_run.h"
#include "keymate/ggml_types.h"
#include "keymate/half.h"  // KM_HD

namespace km::cuda {

enum class Epilogue : uint8_t {
  Store,     // y = W x
  Residual,  // y += W x            (wo and down: the residual add in the epilogue)
  SiluMul,   // W = [gate | up] (2*h rows): y[i] = silu(gate_i . x) * (up_i . x), y has h entries
  GeluMul,   // the same with GELU's tanh form (Gemma), as the CPU's geglu (cpu/kernels.h)
};

// Whether an epilogue pairs gate row i with up row h + i (the gated FFN).
KM_HD bool gated(Epilogue e) { return e == Epilogue::SiluMul || e == Epilogue::GeluMul; }

struct MatmulArgs {
  const void* w;        // rows one after another, row_bytes apart (GGUF rows, or run rows per formats_run.h)
  uint64_t row_bytes;
  int32_t rows, cols;   // rows = output rows (gated: 2*h)
  GgmlType type;        // when quant.none()
  RunQuant quant;       // run format when !quant.none()
  const float* x;       // [n][cols] f32 activations (n = StepState::n, or 1 when last_only)
  float* y;             // [n][ldy] f32, out = rows (gated: rows/2) of each row written
  int32_t ldy;          // floats from one token's y to the next; 0 = out. A matrix
                        // of several parts whose formats differ (q, k, v of a
                        // Q4_K_M file) runs one product per part into a shared y
  Epilogue epilogue;
  bool last_only;       // logits of the last token only: x row n-1, writes one row of y
  void* scratch;        // device scratch (activation quantization etc.), matmul_scratch_bytes() bytes
};

// The preparatory op of the integer formats (kernels/matmul/quantize_act.cuh):
// quantizes the activation rows the matmul reads, per token, into that
// matmul's scratch, in the form the CPU twin multiplies (cpu/act_quant.h):
//   block 0   one f32 scale per row (W8A8, the CPU's Q8Row)
//   block 32  one scale per 32 columns, rounded to fp16 precision (Q8_0 and
//             Q4_0 weights, the CPU's block_q8a, as llama.cpp's Q8_0 activations)
struct QuantizeActArgs {
  const float* x;       // [n][cols] f32, as the matmul's x
  int32_t cols;
  int32_t block;        // 0 or kQuantActBlock (above)
  bool last_only;       // as the matmul's: only row n-1, written as row 0
  void* out;            // the matmul's scratch: row t at t * quant_act_row_bytes(cols, block)
};

constexpr int kQuantActBlock = 32;

// One quantized activation row: the f32 scales from byte 0 (one, or one per
// block), padded to 16 bytes, then the int8 quants (x ~= d * q), padded to 16
// bytes, so every row, its scales and its quants are 16-byte aligned for
// vector loads.
constexpr uint64_t quant_act_scale_bytes(int64_t cols, int block) {
  return ((block ? (uint64_t)cols / block : 1) * 4 + 15) / 16 * 16;
}
constexpr uint64_t quant_act_row_bytes(int64_t cols, int block) {
  return quant_act_scale_bytes(cols, block) + ((uint64_t)cols + 15) / 16 * 16;
}

}  // namespace km::cuda
