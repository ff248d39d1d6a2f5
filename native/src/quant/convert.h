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

#include <vector>

#include "keymate/model.h"
#include "quant/scale_search.h"
#include "quant/weight_formats.h"

namespace km::quant {

struct Importance;

struct ConvertOptions {
  int threads = 0;  // 0 = hardware threads
  ScaleRule rule = ScaleRule::Search;
  // Per-column importance (importance.h): each matrix that has an entry is
  // quantized with column_weights() of it in the scale search's error.
  const Importance* importance = nullptr;
};

// The weights a matrix's columns get in the scale search's error, from their
// mean x^2: normalised to mean 1, then mixed with kImportanceFloor of the
// uniform weight, so no column is left out by a calibration text that
// happened not to excite it. Empty `mean` gives empty weights (unweighted).
constexpr float kImportanceFloor = 0.1f;
std::vector<float> column_weights(const std::vector<float>& mean);

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
