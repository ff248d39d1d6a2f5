// Activations as the CPU matmul kernels want them. Each weight type names the
// form its input rows are converted to once per row-batch (as llama.cpp's
// vec_dot_type does), so every dot product against it is all-integer or a
// plain float FMA:
//   F32  weights: float rows as they are
//   F16  weights: floats rounded to fp16 (kept as float: no conversion in the
//                 inner loop; the rounding matches llama.cpp's F16 path)
//   BF16 weights: floats rounded to bf16, likewise
//   Q8_0/Q4_0:    block_q8a, 32 int8 per float scale, with the integer sum
//                 that the packed kernels need for their offset trick
//   Q4_K/Q6_K:    block_q8k, 256 int8 per float scale, with 16-element sums
//                 that the mins (Q4_K) and the -32 offset (Q6_K) need
//   run formats (keymate/formats_run.h): INT8, INT4 and NF4 take block_q8a
//                 like Q8_0; FP8 takes f32 rows; W8A8 takes a Q8Row: the
//                 whole row quantized with one scale (per token), as the
//                 format defines
// These are CPU-private forms of activations, not file formats, so they live
// here rather than in keymate/formats.h.
#pragma once

#include <cstdint>

#include "keymate/formats_run.h"
#include "keymate/ggml_types.h"

namespace km::cpu {

constexpr int QA = 32;   // block_q8a elements
constexpr int QKA = 256; // block_q8k elements

struct block_q8a {
  float d;        // scale: x ~= d * qs; rounded to fp16 precision, as llama.cpp's Q8_0 activations are
  int32_t sum;    // sum of qs
  int8_t qs[QA];  // in [-127, 127]
};
static_assert(sizeof(block_q8a) == 8 + QA, "block_q8a layout");

struct block_q8k {
  float d;
  int16_t bsums[QKA / 16];  // sums of each 16 consecutive qs
  int8_t qs[QKA];           // in [-127, 127]
};
static_assert(sizeof(block_q8k) == 4 + 2 * (QKA / 16) + QKA, "block_q8k layout");

// A Q8Row activation row: the f32 scale d at byte 0, the int8 quants (x ~= d * q)
// from byte kQ8RowHeader on, so they start 32-byte aligned.
constexpr int kQ8RowHeader = 32;

enum class ActFormat : uint8_t { F32, F16, BF16, Q8, Q8K, Q8Row };

// The activation form for a weight type; the type must run as stored
// (ggml_type_runs_as_stored). A run format, when given, decides instead of the type.
ActFormat act_format_for(GgmlType t);
ActFormat act_format_for(GgmlType t, RunQuant q);
// Bytes one activation row of `cols` elements takes in `f` (floats for F32/F16/BF16).
uint64_t act_row_bytes(ActFormat f, int64_t cols);


// Scalar reference conversions. The SIMD versions (kernels_*.cpp) give the
// same results: q = round-to-nearest-even(x * 127 / amax), scale = amax / 127
// (block_q8a: then rounded to fp16 precision, which keeps integer and scale
// parts equal to llama.cpp's, whose Q8_0 blocks store the scale as fp16).
void quantize_q8a_scalar(const float* x, block_q8a* y, int64_t n);
void quantize_q8k_scalar(const float* x, block_q8k* y, int64_t n);
// Q8Row: d = amax / 127, q = quant_i8(x, 127 / amax) (formats_run.h, W8A8).
void quantize_q8row_scalar(const float* x, uint8_t* row, int64_t n);
void round_f16_scalar(const float* x, float* y, int64_t n);
void round_bf16_scalar(const float* x, float* y, int64_t n);

}  // namespace km::cpu
