// Float rows -> stored tensor types, the inverse of dequantize_row
// (ggml_types.h). Round-to-nearest with the arithmetic of llama.cpp's reference
// quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref), so a row quantized
// here has the same bytes as one llama-quantize would write from the same
// floats. Used by synthetic models (synth.cpp) and by the F16 conversion at
// load (convert.cpp); the run formats the engine converts to are
// quant/quantize_run.h.
#pragma once

#include <cstdint>

#include "keymate/ggml_types.h"

namespace km {

// True for the types quantize_row can write: f32, f16, bf16, q8_0, q4_0.
bool can_quantize(GgmlType t);

// Encodes n floats (a multiple of the type's block size) into dst, which holds
// ggml_row_bytes(t, n) bytes. Throws km::Error for other types.
void quantize_row(GgmlType t, const float* src, void* dst, int64_t n);

}  // namespace km
