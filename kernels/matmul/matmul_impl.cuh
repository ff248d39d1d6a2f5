// The device side of matmul.cuh: the op's tile count and its tile function,
// which asks the chooser for GEMV or GEMM and the weight format for the
// template to run. Included by matmul.cuh only.
#pragma once

#include "chooser.cuh"
#include "gemm.cuh"
#include "gemm_int.cuh"
#include "gemv.cuh"

namespace km::cuda {

KM_HD int matmul_tiles(const MatmulArgs& a, const StepState& st) {
  const int n = matmul_tokens(a, st);
  const int out = matmul_out_rows(a);
  if (!matmul_use_gemm(a, n)) return (out + kGemvWarps - 1) / kGemvWarps;
  const int per = gemm_out_per_tile(a);
  return (out + per - 1) / per * ((n + kGemmTokens - 1) / kGemmTokens);
}

namespace mm {

// One tile for weights of format F: the chooser's GEMV or GEMM for this step.
template <WFmt F>
__device__ inline void matmul_tile_as(const MatmulArgs& a, const StepState& st, int tile, char* smem) {
  if constexpr (F != WFmt::F32) {  // the chooser keeps F32 on the GEMV
    if (matmul_use_gemm(a, matmul_tokens(a, st))) {
      if constexpr (int_activations(F)) return gemm_int_tile<F>(a, st, tile, smem);
      else return gemm_tile<F>(a, st, tile, smem);
    }
  }
  gemv_tile<F>(a, st, tile);
}

// The same, as a call: in the format switch below, inlining every format's
// GEMV and GEMM into one body made the register allocator spill heavily
// (hundreds of bytes per thread); as separate functions each format keeps the
// allocation it has alone, for the price of a call per tile.
template <WFmt F>
__device__ __noinline__ void matmul_tile_call(const MatmulArgs& a, const StepState& st, int tile, char* smem) {
  matmul_tile_as<F>(a, st, tile, smem);
}

}  // namespace mm

__device__ inline void matmul_tile(const MatmulArgs& a, const StepState& st, int tile, char* smem) {
  using mm::WFmt;
#define KM_MATMUL_TILE_CASE(f) \
  case WFmt::f: return mm::matmul_tile_call<WFmt::f>(a, st, tile, smem);
  switch (mm::weight_format(a)) { KM_WEIGHT_FORMATS(KM_MATMUL_TILE_CASE) }
#undef KM_MATMUL_TILE_CASE
}

}  // namespace km::cuda
