// Embed: the rows of token_embd for the step's tokens, widened to f32 into
// x [n][dim]. One tile per token; the row is decoded in the weight's own
// type (F32, F16, BF16, Q8_0, Q4_0 or any run format), with the arithmetic
// of the CPU's dequantize_row, so x holds the same bits as on the CPU.
// Other types are converted at upload (see embed_supports).
#pragma once

#include <cuda_runtime.h>

#include "common/op.cuh"
#include "keymate/formats_run.h"
#include "keymate/ggml_types.h"

namespace km::cuda {

struct EmbedArgs {
  const void* table;   // [vocab] rows, row_bytes apart
  uint64_t row_bytes;
  int32_t dim;
  int32_t vocab;       // rows; a token outside [0, vocab) gives a zero row
  GgmlType type;       // when quant.none()
  RunQuant quant;
  float* x;            // [n][dim]
  float scale;         // every element times this (Gemma: sqrt(dim)); 1 otherwise
};

bool embed_supports(GgmlType type, RunQuant quant);  // host
__host__ __device__ inline int embed_tiles(const EmbedArgs&, const StepState& st) { return st.n; }
__device__ inline void embed_tile(const EmbedArgs& a, const StepState& st, int tile, char* smem);
void launch_embed(const EmbedArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/embed_tile.cuh"
