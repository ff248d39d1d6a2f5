// The launch path's kernel for an op of the tile convention (common/op.cuh):
// block b runs tile b, blocks past the step's tile count return at once.
// KM_OP_KERNEL(op, OpArgs, smem) defines op_kernel and launch_op from op_tiles and op_tile.
#pragma once

#include <cuda_runtime.h>

#include "common/check.cuh"
#include "common/op.cuh"

#define KM_OP_KERNEL(op, Args, smem_bytes)                                                            \
  __global__ void __launch_bounds__(::km::cuda::kThreads) op##_kernel(const Args a,                     \
                                                                      const ::km::cuda::StepState* st) { \
    extern __shared__ __align__(16) char km_smem[];                                                  \
    const int tiles = op##_tiles(a, *st);                                                             \
    for (int t = blockIdx.x; t < tiles; t += gridDim.x) op##_tile(a, *st, t, km_smem);                \
  }                                                                                                  \
  void launch_##op(const Args& a, const ::km::cuda::StepState* st, int max_tiles, cudaStream_t stream) { \
    if (max_tiles <= 0) return;                                                                      \
    op##_kernel<<<max_tiles, ::km::cuda::kThreads, (smem_bytes), stream>>>(a, st);                   \
    CUDA_CHECK_LAUNCH();                                                                             \
  }
