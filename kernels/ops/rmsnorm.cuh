// RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, one tile per token row. The sum
// of squares is taken in double as the CPU does (native/src/cpu/
// kernels_scalar.cpp), then the same float operations in the same order, so
// y matches the CPU to the last bit in all but the rarest cases. The residual
// add that precedes a norm lives in the matmul epilogue (Epilogue::Residual);
// a post-norm (Gemma 3: the block's output normed before the residual add)
// is this op with add_to: add_to += y, y itself not kept.
#pragma once

#include <cuda_runtime.h>

#include "common/op.cuh"

namespace km::cuda {

struct RmsNormArgs {
  const float* x;     // [n][dim]
  const float* w;     // [dim]
  float* y;           // [n][dim]; with last_only only row n-1 is written; unused with add_to
  float* add_to;      // [n][dim] or null: add_to += y instead of writing y (a post-norm and its residual)
  int32_t dim;
  float eps;
  uint8_t last_only;  // normalize row n-1 only (before last-token logits)
};

__host__ __device__ inline int rmsnorm_tiles(const RmsNormArgs& a, const StepState& st) {
  return a.last_only ? 1 : st.n;
}
__device__ inline void rmsnorm_tile(const RmsNormArgs& a, const StepState& st, int tile, char* smem);
void launch_rmsnorm(const RmsNormArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/rmsnorm_tile.cuh"
