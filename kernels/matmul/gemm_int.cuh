// Prefill GEMM on integer tensor cores, for the formats whose products are
// int8 x int8 (int_activations(): W8A8, Q8_0, Q4_0), against the activations
// QuantizeAct wrote. The arithmetic is the CPU twin's, exactly:
//   W8A8        one int32 sum per row and token over the whole row, then
//               isum * (d_w * d_a) in the epilogue
//   Q8_0, Q4_0  one int32 sum per 32-column block, then s += isum * (d_w * d_a)
//               in f32, block after block in column order (cpu mat_q8_0)
// so every output equals the CPU's scalar kernel bit for bit. The f16 path
// (gemm.cuh) could not: f16 activations are not the CPU's int8 ones, and f32
// accumulation of integer products is inexact once a sum passes 2^24.
//
// The tile is gemm.cuh's (kGemmRows x kGemmTokens, 8 warps as 4 x 2 of 32 x
// 32, the next step's global loads in registers during this step's mma, two
// shared stages, the outputs staged token-major for the epilogue) with one k
// step of kGemmK = 32 columns: one GGUF block, one m16n8k32 per fragment pair.
//   - A: a thread decodes 16 weights of one row to int8 (Q4_0: q - 8); B: 8
//     activation quants of one token; both to shared rows of kGemmIntLd
//     bytes (48 = 12 words: the 8 rows of a fragment land in 8 distinct bank
//     quads), with the step's block scales beside them (Q8_0, Q4_0)
//   - mma.sync m16n8k32 s8.s8.s32 on sm_80 and later; on sm_75 the same
//     product as four m8n8k16, Turing's integer shape
#pragma once

#include "../common/ptx.cuh"
#include "dequant.cuh"
#include "gemm.cuh"

namespace km::cuda::mm {

constexpr int kGemmIntLd = kGemmK + 16;
constexpr int kGemmIntStageBytes = (kGemmRows + kGemmTokens) * (kGemmIntLd + 4);  // quants, then the scales
constexpr int kGemmIntSmem = 2 * kGemmIntStageBytes > kGemmTokens * kGemmCLd * 4 ? 2 * kGemmIntStageBytes
                                                                                  : kGemmTokens * kGemmCLd * 4;
static_assert(kGemmIntSmem <= kGemmSmem, "the integer GEMM fits the shared memory the chooser gives a GEMM");
static_assert(kGemmK == kQuantActBlock, "a k step is one GGUF block, one scale per row and token");

// D += A x B for a 16 x 8 tile with k = 32, s8 in, s32 out (PTX fragment layouts).
__device__ __forceinline__ void mma_s8(int* c, const uint32_t* a, const uint32_t* b) {
  KM_IF_ARCH_AT_LEAST(800) {
    ptx::mma_m16n8k32_s32_s8(c, a, b);
  } else {
    // m16n8k32's a0/a2 are rows 0-7 at k 0-15 / 16-31, a1/a3 rows 8-15; b0/b1
    // k 0-15 / 16-31; c0,c1 rows 0-7 and c2,c3 rows 8-15: four m8n8k16 fragments.
    ptx::mma_m8n8k16_s32_s8(c, a[0], b[0]);
    ptx::mma_m8n8k16_s32_s8(c, a[2], b[1]);
    ptx::mma_m8n8k16_s32_s8(c + 2, a[1], b[0]);
    ptx::mma_m8n8k16_s32_s8(c + 2, a[3], b[1]);
  }
}

// 16 weights of one row as int8, and the block's scale (W8A8: 1, its row
// scale is the epilogue's).
template <WFmt F>
struct GemmIntA {
  uint32_t q[4];
  float d;

  // Columns [k, k + 16) of `row` (k a multiple of 16); row == nullptr gives zeros.
  __device__ __forceinline__ void load(const uint8_t* row, int k) {
    d = 0.0f;
    q[0] = q[1] = q[2] = q[3] = 0;
    if (row == nullptr) return;
    if constexpr (F == WFmt::W8A8) {
      const uint4 v = ld_weight16(row + k);
      q[0] = v.x; q[1] = v.y; q[2] = v.z; q[3] = v.w;
      d = 1.0f;
    } else {
      constexpr int bb = F == WFmt::Q8_0 ? (int)sizeof(block_q8_0) : (int)sizeof(block_q4_0);
      const uint8_t* b = row + (uint64_t)(k / 32) * bb;
      d = half_bits_to_float(ld_weight_u16(b));
      const uint8_t* qs = b + 2 + (F == WFmt::Q8_0 ? (k % 32) : 0);  // Q4_0: all 16 bytes, a nibble half
#pragma unroll
      for (int i = 0; i < 4; i++) q[i] = ld_weight_u32_a2(qs + 4 * i);
      if constexpr (F == WFmt::Q4_0) {
        const int sh = (k % 32) ? 4 : 0;  // columns 16..31 are the high nibbles
#pragma unroll
        for (int i = 0; i < 4; i++) q[i] = q4x4_to_i8((q[i] >> sh) & 0x0f0f0f0fu);
      }
    }
  }
};

template <WFmt F>
__device__ void gemm_int_tile(const MatmulArgs& a, const StepState& st, int tile, char* smem) {
  static_assert(int_activations(F), "the integer GEMM multiplies int8 activations");
  constexpr bool kBlockScales = F != WFmt::W8A8;
  const GemmTile T(a, st, tile);
  const int n = T.n, out = T.out, t0 = T.t0, g = T.g, c = T.c, wm = T.wm, wn = T.wn;
  const bool gate = T.gate;
  const uint64_t arow_bytes = quant_act_row_bytes(a.cols, act_block(F));
  const uint64_t qoff = quant_act_scale_bytes(a.cols, act_block(F));
  const uint8_t* act = static_cast<const uint8_t*>(a.scratch);

  const int ar = T.ar, ak = T.ak, bt = T.bt, bk = T.bk;
  const uint8_t* const arow = T.arow;
  const uint8_t* brow = t0 + bt < n ? act + (uint64_t)(t0 + bt) * arow_bytes : nullptr;

  // Stage s at smem + s * kGemmIntStageBytes: A quants, B quants, A scales, B scales.
  constexpr int kAScales = (kGemmRows + kGemmTokens) * kGemmIntLd;
  auto stage = [&](int s) { return reinterpret_cast<uint8_t*>(smem) + s * kGemmIntStageBytes; };

  int iacc[2][4][4];
  float facc[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) iacc[i][j][e] = 0, facc[i][j][e] = 0.0f;

  GemmIntA<F> ra;
  uint2 rb = make_uint2(0, 0);
  float rbd = 0.0f;
  auto load_b = [&](int k) {
    rb = brow ? *reinterpret_cast<const uint2*>(brow + qoff + k) : make_uint2(0, 0);
    if (kBlockScales) rbd = brow ? reinterpret_cast<const float*>(brow)[k / kQuantActBlock] : 0.0f;
  };
  ra.load(arow, ak);
  load_b(bk);
  const int ksteps = a.cols / kGemmK;
  for (int ks = 0; ks < ksteps; ks++) {
    uint8_t* const A = stage(ks & 1);
    uint8_t* const B = A + kGemmRows * kGemmIntLd;
    float* const As = reinterpret_cast<float*>(A + kAScales);
    float* const Bs = As + kGemmRows;
    *reinterpret_cast<uint4*>(A + ar * kGemmIntLd + ak) = make_uint4(ra.q[0], ra.q[1], ra.q[2], ra.q[3]);
    *reinterpret_cast<uint2*>(B + bt * kGemmIntLd + bk) = rb;
    if (kBlockScales && ak == 0) As[ar] = ra.d;
    if (kBlockScales && bk == 0) Bs[bt] = rbd;
    __syncthreads();
    if (ks + 1 < ksteps) {
      ra.load(arow, (ks + 1) * kGemmK + ak);
      load_b((ks + 1) * kGemmK + bk);
    }
    uint32_t af[2][4], bf[4][2];
#pragma unroll
    for (int mt = 0; mt < 2; mt++) {
      const uint8_t* p = A + (wm * 32 + mt * 16 + g) * kGemmIntLd + 4 * c;
      af[mt][0] = *reinterpret_cast<const uint32_t*>(p);
      af[mt][1] = *reinterpret_cast<const uint32_t*>(p + 8 * kGemmIntLd);
      af[mt][2] = *reinterpret_cast<const uint32_t*>(p + 16);
      af[mt][3] = *reinterpret_cast<const uint32_t*>(p + 8 * kGemmIntLd + 16);
    }
#pragma unroll
    for (int nt = 0; nt < 4; nt++) {
      const uint8_t* p = B + (wn * 32 + nt * 8 + g) * kGemmIntLd + 4 * c;
      bf[nt][0] = *reinterpret_cast<const uint32_t*>(p);
      bf[nt][1] = *reinterpret_cast<const uint32_t*>(p + 16);
    }
    if constexpr (kBlockScales) {
      // This thread's rows g, g + 8 of each mt and tokens 2c, 2c + 1 of each nt.
      float dw[2][2], da[4][2];
#pragma unroll
      for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) dw[mt][h] = As[wm * 32 + mt * 16 + g + 8 * h];
#pragma unroll
      for (int nt = 0; nt < 4; nt++)
#pragma unroll
        for (int j = 0; j < 2; j++) da[nt][j] = Bs[wn * 32 + nt * 8 + 2 * c + j];
#pragma unroll
      for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
          int blk[4] = {0, 0, 0, 0};
          mma_s8(blk, af[mt], bf[nt]);
#pragma unroll
          for (int e = 0; e < 4; e++)  // the CPU's s += isum * (d_w * d_a), never contracted
            facc[mt][nt][e] = __fadd_rn(facc[mt][nt][e],
                                        __fmul_rn((float)blk[e], __fmul_rn(dw[mt][e >> 1], da[nt][e & 1])));
        }
    } else {
#pragma unroll
      for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) mma_s8(iacc[mt][nt], af[mt], bf[nt]);
    }
  }
  float res[2][4][4];
#pragma unroll
  for (int mt = 0; mt < 2; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) res[mt][nt][e] = kBlockScales ? facc[mt][nt][e] : (float)iacc[mt][nt][e];
  const uint8_t* w = static_cast<const uint8_t*>(a.w);
  gemm_epilogue(a, T, res, smem, [&](int o, int tok, float& v, float& u) {
    if constexpr (F == WFmt::W8A8) {  // isum * (d_w * d_a), as gemv_output
      const float da = *reinterpret_cast<const float*>(act + (uint64_t)tok * arow_bytes);
      v *= run_scale_at(a, w + (uint64_t)o * a.row_bytes, 0) * da;
      if (gate) u *= run_scale_at(a, w + (uint64_t)(out + o) * a.row_bytes, 0) * da;
    }
  });
}

}  // namespace km::cuda::mm
