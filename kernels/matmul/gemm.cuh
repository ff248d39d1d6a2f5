// Prefill GEMM on tensor cores: y = W x for more tokens than the GEMV takes,
// for the formats that multiply float activations (the integer formats run
// gemm_int.cuh).
//
// A tile is kGemmRows weight rows x kGemmTokens tokens (gated: kGemmRows/2
// gate rows and the matching up rows, so one thread's epilogue sees both).
// Each k step of kGemmK columns:
//   - every thread decodes 16 weights of one row (dequant.cuh, kquant.cuh, the
//     group scale applied in f32) to f16 and stores them in shared memory; every thread
//     converts 8 activations of one token to f16
//   - 8 warps as 4 (rows) x 2 (tokens), 32 x 32 outputs each, run
//     mma.sync m16n8k16 f16 x f16 + f32 (sm_75: two m16n8k8, its largest
//     f16 shape), fragments read with 32-bit shared loads from rows padded to
//     kGemmLd halves (80 bytes: the 8 rows of a fragment fall in 8 distinct
//     bank quads, so no conflicts)
//   - the next step's global loads are issued before this step's mma, into
//     registers, and two shared stages let one barrier per step suffice
// The f32 accumulators are then staged in shared memory (token-major), so the
// epilogue (scales, SiLU*up, residual) reads gate and up side by side and the
// writes to y are coalesced.
//
// Why FP8 weights do not run mma.sync e4m3 on sm_89/sm_90 (written without a
// GPU to measure on): that instruction needs the activations in e4m3 too.
// e4m3 keeps 3 mantissa bits, a relative rounding error up to 2^-4 per
// activation (about 2% rms), on top of the ~2% the FP8 weights already carry:
// the activation error alone is 40x what f16 activations add (2^-11), and
// LLM activations have outlier channels 100x the median, so a per-row scale
// set by the outlier pushes typical values toward e4m3's subnormals and loses
// more. The CPU twin multiplies FP8 weights with f32 activations, so the
// test tolerance for e4m3 x e4m3 would have to be loose enough to hide real
// bugs. The gain is bounded too: the prefill of one key press (<= 256 tokens)
// reads the weights from DRAM a few times and is not purely tensor-bound on
// the RTX 4060 target. So FP8 runs the f16 path everywhere; an e4m3 variant
// belongs in kernels/dev/ first, measured against this one on both counts.
#pragma once

#include <cuda_fp16.h>

#include "../common/ptx.cuh"
#include "dequant.cuh"
#include "gemv.cuh"
#include "kquant.cuh"

namespace km::cuda::mm {

constexpr int kGemmLd = kGemmK + 8;      // halves per shared row (see above)
constexpr int kGemmCLd = kGemmRows + 4;  // floats per staged token row: 8*(2c) + g spans all banks
constexpr int kGemmStageBytes = (kGemmRows + kGemmTokens) * kGemmLd * 2;
constexpr int kGemmSmem =
    2 * kGemmStageBytes > kGemmTokens * kGemmCLd * 4 ? 2 * kGemmStageBytes : kGemmTokens * kGemmCLd * 4;
static_assert(kGemmSmem <= kTileSmem, "GEMM tile must fit a tile's shared memory");
static_assert(kGemmRows * 2 == kThreads && kGemmK == 32, "A loads: two threads x 16 columns per row");
static_assert(kGemmTokens * 4 == kThreads, "B loads: four threads x 8 columns per token");
static_assert(kThreads == 256 && kGemmRows == 128 && kGemmTokens == 64, "warp layout 4 x 2 of 32 x 32");

__device__ __forceinline__ void mma_f16(float* c, const uint32_t* a, const uint32_t* b) {
  KM_IF_ARCH_AT_LEAST(800) {
    ptx::mma_m16n8k16_f32_f16(c, a, b);
  } else {
    // Turing: k16 = two k8 steps; the k16 A fragment's registers 0,1 are columns
    // 0-7 and 2,3 columns 8-15, B's register 0 rows 0-7 and 1 rows 8-15.
    ptx::mma_m16n8k8_f32_f16(c, a[0], a[1], b[0]);
    ptx::mma_m16n8k8_f32_f16(c, a[2], a[3], b[1]);
  }
}

// 16 weights of one row, as loaded (raw) and as f16 for shared memory.
template <WFmt F>
struct GemmA {
  uint32_t q[8];
  float d;

  // Columns [k, k + 16) of `row` (k a multiple of 16); row == nullptr gives zeros.
  __device__ __forceinline__ void load(const MatmulArgs& a, const uint8_t* row, int k) {
    d = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; i++) q[i] = 0;
    if (row == nullptr) return;
    if constexpr (F == WFmt::F16 || F == WFmt::BF16) {
      const uint4 v0 = ld_weight16(row + 2 * (uint64_t)k), v1 = ld_weight16(row + 2 * (uint64_t)k + 16);
      q[0] = v0.x; q[1] = v0.y; q[2] = v0.z; q[3] = v0.w;
      q[4] = v1.x; q[5] = v1.y; q[6] = v1.z; q[7] = v1.w;
      d = 1.0f;
    } else {
      constexpr bool four_bit = F == WFmt::Int4 || F == WFmt::Nf4;  // a 32-column chunk in 16 bytes
      const uint64_t off = four_bit ? (uint64_t)(k / 32) * 16 : (uint64_t)k;
      const uint4 v = ld_weight16(row + off);
      q[0] = v.x; q[1] = v.y; q[2] = v.z; q[3] = v.w;
      d = run_scale_at(a, row, k);
      if constexpr (F == WFmt::Fp8) d *= kFp8E4M3HalfScale;
    }
  }

  // The 16 weights times d, as 8 half2 words in column order.
  __device__ __forceinline__ void to_half(int k, uint32_t* h) const {
    if constexpr (F == WFmt::F16) {
#pragma unroll
      for (int i = 0; i < 8; i++) h[i] = q[i];
      return;
    } else {
      float v[16];
      if constexpr (F == WFmt::BF16) {
#pragma unroll
        for (int i = 0; i < 8; i++) bf16x2_to_f32(q[i], v + 2 * i);
      } else if constexpr (F == WFmt::Fp8) {
#pragma unroll
        for (int i = 0; i < 4; i++) e4m3x4_to_f32_scaled(q[i], v + 4 * i);
      } else if constexpr (F == WFmt::Int8) {
#pragma unroll
        for (int i = 0; i < 4; i++) i8x4_to_f32(q[i], v + 4 * i);
      } else {  // 4-bit: columns k..k+15 are the low (k % 32 == 0) or high nibbles
        const int sh = (k % 32) ? 4 : 0;
#pragma unroll
        for (int i = 0; i < 4; i++) {
          const uint32_t u = (q[i] >> sh) & 0x0f0f0f0fu;
          if constexpr (F == WFmt::Nf4) i8x4_to_f32(nf4x4_levels(u), v + 4 * i);
          else u8x4_to_f32<kInt4Offset>(u, v + 4 * i);
        }
      }
#pragma unroll
      for (int i = 0; i < 8; i++) h[i] = pack_half2(v[2 * i] * d, v[2 * i + 1] * d);
    }
  }
};

// The A operand of format F: K-quants decode their super-block slices (kquant.cuh).
template <WFmt F>
using GemmAOf = std::conditional_t<is_kquant(F), KGemmA<F>, GemmA<F>>;

// 8 activations of one token, f32 as loaded.
struct GemmB {
  float4 x0, x1;

  __device__ __forceinline__ void load(const MatmulArgs& a, int tok, int n, int k) {
    x0 = x1 = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (tok < n) {
      const float* p = a.x + (uint64_t)tok * a.cols + k;
      x0 = *reinterpret_cast<const float4*>(p);
      x1 = *reinterpret_cast<const float4*>(p + 4);
    }
  }

  // BF16 weights: x rounded to bf16 first, as the CPU twin multiplies it
  // (exact in f16 from there, within f16's range).
  template <WFmt F>
  __device__ __forceinline__ uint4 to_half() const {
    return make_uint4(pack_half2(act_round<F>(x0.x), act_round<F>(x0.y)),
                      pack_half2(act_round<F>(x0.z), act_round<F>(x0.w)),
                      pack_half2(act_round<F>(x1.x), act_round<F>(x1.y)),
                      pack_half2(act_round<F>(x1.z), act_round<F>(x1.w)));
  }
};

__device__ __forceinline__ uint32_t lds32(const __half* p) { return *reinterpret_cast<const uint32_t*>(p); }

// Where a GEMM tile sits and what this thread does in it, the same for the f16
// and the integer GEMM: outputs o0.. (per of them) for tokens t0..; warp (wm,
// wn) of the 4 x 2 layout, lane (g, c) of its fragments; this thread loads A
// row ar, columns ak..ak+15 of a k step (arow: that weight row, null past the
// matrix; a gated epilogue puts the up rows after the gate rows), and B token bt,
// columns bk..bk+7.
struct GemmTile {
  int n, out, per, o0, t0;
  bool gate;
  int tid, g, c, wm, wn;
  int ar, ak, bt, bk;
  const uint8_t* arow;

  __device__ __forceinline__ GemmTile(const MatmulArgs& a, const StepState& st, int tile) {
    n = matmul_tokens(a, st);
    out = matmul_out_rows(a);
    gate = gated(a.epilogue);
    per = gemm_out_per_tile(a);
    const int tiles_o = (out + per - 1) / per;
    o0 = (tile % tiles_o) * per;
    t0 = (tile / tiles_o) * kGemmTokens;
    tid = threadIdx.x;
    const int warp = tid >> 5, lane = tid & 31;
    g = lane >> 2;
    c = lane & 3;
    wm = warp & 3;
    wn = warp >> 2;
    ar = tid >> 1;
    ak = (tid & 1) * 16;
    bt = tid >> 2;
    bk = (tid & 3) * 8;
    const int r = gate ? (ar < per ? o0 + ar : out + o0 + ar - per) : o0 + ar;
    const bool ok = gate ? o0 + (ar < per ? ar : ar - per) < out : r < out;
    arow = ok ? static_cast<const uint8_t*>(a.w) + (uint64_t)r * a.row_bytes : nullptr;
  }
};

// The end of every GEMM tile (this file's and gemm_int.cuh's): the warps'
// accumulators (acc[mt][nt][e]: rows wm*32 + mt*16 + g (+8 for e >= 2),
// tokens wn*32 + nt*8 + 2c (+1 for odd e)) staged token-major in shared
// memory, so the epilogue reads gate and up side by side and writes y
// coalesced. `scale(o, tok, v, u)` adjusts an output and its up value first
// (W8A8: d_w * d_a). Barriers: the stages are free before they become the
// staging area, the staging is whole before it is read, and it is read before
// it becomes the next tile's stages on the persistent path.
template <typename Scale>
__device__ __forceinline__ void gemm_epilogue(const MatmulArgs& a, const GemmTile& T, const float (&acc)[2][4][4],
                                              char* smem, Scale scale) {
  const int n = T.n, out = T.out, per = T.per, o0 = T.o0, t0 = T.t0, tid = T.tid;
  const int g = T.g, c = T.c, wm = T.wm, wn = T.wn;
  const bool gate = T.gate;
  __syncthreads();
  float* Cs = reinterpret_cast<float*>(smem);
#pragma unroll
  for (int mt = 0; mt < 2; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++) {
      const int m = wm * 32 + mt * 16 + g, t = wn * 32 + nt * 8 + 2 * c;
      Cs[t * kGemmCLd + m] = acc[mt][nt][0];
      Cs[(t + 1) * kGemmCLd + m] = acc[mt][nt][1];
      Cs[t * kGemmCLd + m + 8] = acc[mt][nt][2];
      Cs[(t + 1) * kGemmCLd + m + 8] = acc[mt][nt][3];
    }
  __syncthreads();
  for (int e = tid; e < per * kGemmTokens; e += kThreads) {
    const int i = e % per, t = e / per;
    const int o = o0 + i, tok = t0 + t;
    if (o >= out || tok >= n) continue;
    float v = Cs[t * kGemmCLd + i];
    float u = gate ? Cs[t * kGemmCLd + i + per] : 0.0f;
    scale(o, tok, v, u);
    if (gate) v = gate_mul(a.epilogue, v, u);
    matmul_put(a, a.y + (uint64_t)tok * matmul_ldy(a) + o, v);
  }
  __syncthreads();
}

template <WFmt F>
__device__ void gemm_tile(const MatmulArgs& a, const StepState& st, int tile, char* smem) {
  static_assert(!int_activations(F), "integer formats run gemm_int.cuh");
  const GemmTile T(a, st, tile);
  const int n = T.n, t0 = T.t0, g = T.g, c = T.c, wm = T.wm, wn = T.wn;
  const int ar = T.ar, ak = T.ak, bt = T.bt, bk = T.bk;
  const uint8_t* const arow = T.arow;

  // Stage s: A at smem + s * kGemmStageBytes, B right after it (pointer
  // arithmetic, not an array of pointers a run-time index would put in local memory).
  __half* const stage0 = reinterpret_cast<__half*>(smem);
  constexpr int kStageHalves = kGemmStageBytes / 2;

  float acc[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

  GemmAOf<F> ra;
  GemmB rb;
  ra.load(a, arow, ak);
  rb.load(a, t0 + bt, n, bk);
  const int ksteps = a.cols / kGemmK;
  for (int ks = 0; ks < ksteps; ks++) {
    __half* const A = stage0 + (ks & 1) * kStageHalves;
    __half* const B = A + kGemmRows * kGemmLd;
    {
      uint32_t h[8];
      ra.to_half(ks * kGemmK + ak, h);
      uint4* pa = reinterpret_cast<uint4*>(A + ar * kGemmLd + ak);
      pa[0] = make_uint4(h[0], h[1], h[2], h[3]);
      pa[1] = make_uint4(h[4], h[5], h[6], h[7]);
      *reinterpret_cast<uint4*>(B + bt * kGemmLd + bk) = rb.to_half<F>();
    }
    __syncthreads();
    if (ks + 1 < ksteps) {
      ra.load(a, arow, (ks + 1) * kGemmK + ak);
      rb.load(a, t0 + bt, n, (ks + 1) * kGemmK + bk);
    }
#pragma unroll
    for (int kk = 0; kk < kGemmK; kk += 16) {
      uint32_t af[2][4], bf[4][2];
#pragma unroll
      for (int mt = 0; mt < 2; mt++) {
        const __half* p = A + (wm * 32 + mt * 16 + g) * kGemmLd + kk + 2 * c;
        af[mt][0] = lds32(p);
        af[mt][1] = lds32(p + 8 * kGemmLd);
        af[mt][2] = lds32(p + 8);
        af[mt][3] = lds32(p + 8 * kGemmLd + 8);
      }
#pragma unroll
      for (int nt = 0; nt < 4; nt++) {
        const __half* p = B + (wn * 32 + nt * 8 + g) * kGemmLd + kk + 2 * c;
        bf[nt][0] = lds32(p);
        bf[nt][1] = lds32(p + 8);
      }
#pragma unroll
      for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) mma_f16(acc[mt][nt], af[mt], bf[nt]);
    }
  }
  gemm_epilogue(a, T, acc, smem, [](int, int, float&, float&) {});
}

}  // namespace km::cuda::mm
