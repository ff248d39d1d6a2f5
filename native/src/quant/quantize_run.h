// One row of floats <-> one row of a run format (keymate/formats_run.h). The
// quantizer picks each group's scale with scale_search.h; the dequantizer is
// the format's definition in code, the reference every kernel is tested
// against.
#pragma once

#include <cstdint>

#include "keymate/formats_run.h"
#include "keymate/model.h"
#include "quant/scale_search.h"

namespace km::quant {

// Encodes x[0, cols) into `row` (run_row_bytes(q, cols) bytes, padding zeroed).
// cols must be a multiple of kRunColAlign. w: each column's weight in the
// scale search's error [cols] (scale_search.h), or null.
void quantize_run_row(RunQuant q, const float* x, int64_t cols, uint8_t* row, ScaleRule rule,
                      const float* w = nullptr);

// The levels of an integer run type (INT4, NF4, INT8).
LevelSet run_levels(RunType t);

// Stores group g of a row: its scale d and the level indices codes[0, n) of
// its weights, laid out as formats_run.h says (`row` zeroed beforehand).
void put_group(RunQuant q, uint8_t* row, int64_t cols, int64_t g, float d, const uint8_t* codes, int64_t n);

// Decodes a row: y[k] = run_element(q, row, cols, k) for k < cols.
void dequantize_run_row(RunQuant q, const uint8_t* row, int64_t cols, float* y);

// Row `r` of any weight tensor (GGUF type or run format) as floats [t.cols].
void tensor_row(const Tensor& t, int64_t r, float* y);

}  // namespace km::quant
