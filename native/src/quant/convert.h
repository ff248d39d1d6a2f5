// Conversion at load: every weight matrix of a loaded model, whatever GGUF
// type the file holds, decoded to floats row by row and re-encoded in the
// chosen format into buffers the model owns (in memory; no second file).
//
// Policy, as llama.cpp's quantizer has it, so that formats compare at the
// bits they really cost:
//   - a matrix whose rows are not a multiple of 32 columns cannot be grouped
//     and is held in f16 (stories260K's ffn_down, 172 columns; llama.cpp
//     falls back to f16 for the same tensors);
//   - with the 4-bit formats the output matrix (the logits) is held in INT8
//     with the same group size, as llama.cpp holds it at 6-8 bits: every
//     token's distribution passes through it, and it is one matrix of many;
//   - a tied embedding is converted once, as the output matrix;
//   - vectors (norms, biases) stay f32.
#pragma once

#include "keymate/model.h"
#include "quant/scale_search.h"
#include "quant/weight_formats.h"

namespace km::quant {

struct ConvertOptions {
  int threads = 0;  // 0 = hardware threads
  ScaleRule rule = ScaleRule::Search;
};

// Converts m's matrices in place (native: nothing happens).
void convert_weights(Model& m, const WeightFormat& f, const ConvertOptions& o);

// What a matrix of `cols` columns becomes under format f (`is_output`: the
// output matrix). kind F16/Native with quant none, or Run with its quant.
struct TensorPlan {
  WeightKind kind;
  RunQuant quant;
};
TensorPlan plan_tensor(const WeightFormat& f, int64_t cols, bool is_output);

}  // namespace km::quant
