// The CPU kernel table: one set of function pointers per SIMD level, chosen
// once when the backend is made (two-level dispatch: the op picks the entry by
// weight type and layout, the table was picked by the processor). Each SIMD
// entry has a scalar twin with the same contract; tests compare them.
#pragma once

#include <cstdint>

#include "cpu/act_quant.h"
#include "cpu/matrix.h"
#include "cpu/simd.h"

namespace km::cpu {

// GELU's tanh approximation: sqrt(2/pi) and the cubic's coefficient.
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluCoef = 0.044715f;

// An activation batch in the form a matrix wants: row t at data + t * stride.
struct ActView {
  ActFormat format = ActFormat::F32;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;
};

// y[t * ldy + r] (+)= sum_k W[r][k] * a[t][k] for rows [r0, r1) of the part and
// tokens [0, n). For packed layouts r0 is a multiple of 8. `y` points at the
// part's first output (out_offset already applied).
using MatKernel = void (*)(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y,
                           int64_t ldy, bool accumulate);

struct Kernels {
  Simd simd = Simd::Scalar;

  // Activation conversion of one row of n elements (n a multiple of the block).
  void (*quantize_q8a)(const float* x, block_q8a* y, int64_t n) = nullptr;
  void (*quantize_q8k)(const float* x, block_q8k* y, int64_t n) = nullptr;
  void (*quantize_q8row)(const float* x, uint8_t* row, int64_t n) = nullptr;
  void (*round_f16)(const float* x, float* y, int64_t n) = nullptr;
  void (*round_bf16)(const float* x, float* y, int64_t n) = nullptr;

  // Matrix kernels by weight type (file layout) and by packed layout.
  MatKernel mat_f32 = nullptr, mat_f16 = nullptr, mat_bf16 = nullptr;
  MatKernel mat_q8_0 = nullptr, mat_q4_0 = nullptr, mat_q4_k = nullptr, mat_q5_k = nullptr, mat_q6_k = nullptr;
  MatKernel mat_q8_packed = nullptr, mat_q8_packed_u = nullptr, mat_q4_packed = nullptr;
  // Run formats (formats_run.h), file-like rows (kernels_run_*.cpp).
  MatKernel mat_run_fp8 = nullptr, mat_run_int8 = nullptr, mat_run_int4 = nullptr, mat_run_nf4 = nullptr,
            mat_run_w8a8 = nullptr;
  MatKernel mat_nf4_packed = nullptr;  // NF4 in the Q4Packed byte layout (SIMD levels only)
  MatKernel mat_q4k_packed = nullptr;  // Q4_K in Q4KPacked groups (VNNI only)
  MatKernel mat_q6k_packed = nullptr;  // Q6_K in Q6KPacked groups (VNNI only)

  // Attention over a tile of keys widened to f32 (rows hd apart):
  //   scores: s[i * lds + j] = scale * dot(q_i, k_j) for queries i < nq, keys j < nk
  //   values: o[i * ldo + :] += sum_j p[i * ldp + j] * v_j
  void (*attn_scores)(const float* q, int64_t ldq, int nq, const float* k, int nk, int hd, float scale, float* s,
                      int64_t lds) = nullptr;
  void (*attn_values)(const float* p, int64_t ldp, int nq, const float* v, int nk, int hd, float* o,
                      int64_t ldo) = nullptr;
  void (*to_f16)(const float* x, uint16_t* y, int n) = nullptr;  // round to nearest even
  void (*to_f32)(const uint16_t* x, float* y, int n) = nullptr;  // exact
  // x[i] = exp(x[i] - max); returns the sum (f32 accumulation).
  float (*exp_sum)(float* x, int n, float max) = nullptr;
  // RMSNorm as llama.cpp computes it: squares in f32 summed in f64,
  // y = (x * (1 / sqrt(mean + eps))) * w.
  void (*rms_norm)(const float* x, const float* w, float eps, int64_t n, float* y) = nullptr;
  // y[i] = silu(g[i]) * u[i], silu(x) = x / (1 + exp(-x)).
  void (*swiglu)(const float* g, const float* u, float* y, int n) = nullptr;
  // y[i] = gelu(g[i]) * u[i], GELU's tanh approximation
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed as the equal
  // x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))); 0 at x <= -10 and x at
  // x >= 10, as ggml's.
  void (*geglu)(const float* g, const float* u, float* y, int n) = nullptr;

  MatKernel mat(const MatPart& p) const;  // never null for a part CpuMatrix built
};

const Kernels& kernels_for(Simd s);

// The per-level tables (kernels_scalar.cpp, kernels_avx2.cpp, kernels_vnni.cpp).
Kernels scalar_kernels();
Kernels avx2_kernels();  // on non-x86 builds these two return scalar_kernels()
Kernels vnni_kernels();
// Fill in the run-format entries (kernels_run_scalar.cpp, kernels_run_avx2.cpp).
void add_run_kernels_scalar(Kernels& k);
void add_run_kernels_avx2(Kernels& k);  // a no-op on non-x86 builds

}  // namespace km::cpu
