// The matmul chooser: which kernel a matrix product runs, by weight format,
// compute capability and batch size. Kernels hold no policy; every threshold
// is here, named, with the reason for its value. Decided on the device per
// step (n comes from StepState), so one program serves decode and prefill.
//
//   n <= kGemvMaxTokens, or last_only       decode GEMV (gemv.cuh): a warp per
//                                           output row, weights streamed once
//   n >  kGemvMaxTokens, f16-able weights   prefill GEMM (gemm.cuh): mma.sync
//                                           on tensor cores, weights decoded to
//                                           f16 in shared memory
//   F32 weights, any n                      GEMV, token groups of kGemvMaxTokens:
//                                           f32 weights exist only in tiny models,
//                                           where rounding them to f16 would cost
//                                           greedy parity with the CPU for no speed
//
// Compute capability picks the tensor-core instruction at compile time
// (gemm.cuh): m16n8k16 on sm_80 and later, two m16n8k8 on sm_75 (Turing has
// no k16 shape). FP8 weights run the f16 path on every architecture, including
// sm_89/sm_90 where mma.sync e4m3 exists; the reasoning (no GPU was at hand to
// measure) is in gemm.cuh.
#pragma once

#include "../common/op.cuh"
#include "matmul_args.h"

namespace km::cuda {

// Up to this many tokens a step runs the GEMV. Each extra token re-reads x
// (4 bytes per column) from L1 for every weight element: at 4 tokens an FP8
// weight byte costs 16 bytes of L1 reads, about the L1 bandwidth per byte of
// DRAM bandwidth on H100 and Ada (~64-128 B/clk/SM against ~15 B/clk/SM), so
// past 4 the GEMV stops being DRAM-bound while the GEMM's 16-row tensor-core
// tiles waste little at 5-8 tokens. Measure on the GPU and retune here.
constexpr int kGemvMaxTokens = 4;

// GEMV: one warp per output row (gated: per output, both of its rows).
constexpr int kGemvWarps = kThreads / 32;
// 16-byte chunks each lane has in flight before it uses the first: 4 x 16 B x
// 32 lanes x 8 warps x 4+ tiles per SM is > 64 KB per SM outstanding, several
// times what Little's law asks of HBM3 at ~3.3 TB/s / 132 SMs and ~600 ns.
constexpr int kGemvUnroll = 4;

// GEMM tile: kGemmRows weight rows x kGemmTokens tokens, k steps of kGemmK.
// 128 x 64 with 8 warps as 4 x 2 gives each warp 32 x 32 outputs (8 mma per
// k16 step) and keeps two f16 stages (30 KB) plus the f32 staging of the
// outputs (33 KB, reusing the stages) inside kTileSmem (48 KB).
constexpr int kGemmRows = 128;
constexpr int kGemmTokens = 64;
constexpr int kGemmK = 32;

// Outputs per token: a gated epilogue pairs row i (gate) with row h + i (up).
KM_HD int matmul_out_rows(const MatmulArgs& a) {
  return gated(a.epilogue) ? a.rows / 2 : a.rows;
}

// Floats from one token's outputs to the next in y.
KM_HD int matmul_ldy(const MatmulArgs& a) { return a.ldy ? a.ldy : matmul_out_rows(a); }

// Token rows this step multiplies.
KM_HD int matmul_tokens(const MatmulArgs& a, const StepState& st) { return a.last_only ? 1 : st.n; }

// Whether the weights may take the tensor-core path at all (see above for F32).
KM_HD bool matmul_gemm_capable(const MatmulArgs& a) {
  return !a.last_only && !(a.quant.none() && a.type == GgmlType::F32);
}

KM_HD bool matmul_use_gemm(const MatmulArgs& a, int n) {
  return n > kGemvMaxTokens && matmul_gemm_capable(a);
}

// GEMM outputs per tile: a gated epilogue spends half the tile's rows on the up rows.
KM_HD int gemm_out_per_tile(const MatmulArgs& a) {
  return gated(a.epilogue) ? kGemmRows / 2 : kGemmRows;
}

}  // namespace km::cuda
