// The tensor types a GGUF file can hold, with their block geometry. Numbering is
// the file format's (ggml's), so these values are read straight from disk.
// Block layouts live in formats.h; decoding in ggml_types.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace km {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct GgmlTypeInfo {
  const char* name;  // "f32", "q8_0", ... as llama.cpp prints them; nullptr if unknown
  uint32_t block_elems;  // elements per block (1 for plain types)
  uint32_t block_bytes;  // bytes per block
  bool decodable;        // the engine can dequantize it (dequantize_row works)
};

// Info for any 32-bit value; unknown values get name == nullptr.
GgmlTypeInfo ggml_type_info(uint32_t type);
inline GgmlTypeInfo ggml_type_info(GgmlType t) { return ggml_type_info(static_cast<uint32_t>(t)); }

// Bytes taken by one row of n elements; n must be a multiple of block_elems.
inline uint64_t ggml_row_bytes(GgmlType t, uint64_t n) {
  GgmlTypeInfo i = ggml_type_info(t);
  return n / i.block_elems * i.block_bytes;
}

// The matrix types the engine multiplies as stored, on the CPU and the GPU
// alike; a matrix of another type is converted at load (model.cpp, to the
// type below), and the memory plan counts it so.
bool ggml_type_runs_as_stored(GgmlType t);

// The type a matrix of type t is held in after load: t itself where it runs
// as stored; Q8_0 for Q5_0 (exactly: its 5-bit quants less 16 are int8 under
// the same fp16 scale, so llama-quantize's fallback for rows that are not
// whole Q4_K super-blocks, such as Gemma 3's 1152 columns, keeps Q8_0's
// speed at 34 bytes per 32 weights instead of f32's 128); F32 otherwise.
GgmlType ggml_type_held_as(GgmlType t);

// Q5_0 blocks as the Q8_0 blocks of the same values (n a multiple of 32).
void q5_0_to_q8_0(const void* src, void* dst, int64_t n);

// Decode n elements (a multiple of the block size) of type t at src into floats.
// Exactly llama.cpp's dequantization (same arithmetic, same rounding).
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

}  // namespace km
