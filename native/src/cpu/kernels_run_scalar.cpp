// Scalar kernels for the run formats (keymate/formats_run.h): the oracle the
// SIMD kernels (kernels_run_avx2.cpp) and, later, the CUDA kernels are
// checked against. Each output is
//   INT8/INT4/NF4:  sum over groups g of d_w[g] * sum over 32-blocks b of g of
//                   d_a[b] * isum_b   (isum_b exact: int8 levels x int8 activations)
//   FP8:            sum over groups g of d_w[g] * sum_k e4m3(code_k) * x_k
//   W8A8:           d_w * d_a * isum  (one exact int32 sum per row and token)
// so every SIMD kernel reproduces the integer parts bit for bit and differs
// only in the order of its float additions.
#include <cstring>
#include <vector>

#include "cpu/kernels.h"
#include "keymate/formats_run.h"

namespace km::cpu {
namespace {

inline void put(float* y, float v, bool accumulate) { *y = accumulate ? *y + v : v; }

// The scales of one row as floats (per-row formats: one).
void row_scales(const MatPart& w, const uint8_t* row, float* d) {
  const int64_t groups = run_groups(w.quant, w.cols);
  for (int64_t g = 0; g < groups; g++) d[g] = run_scale(w.quant, row, w.cols, g);
}

// The integer weight of element k (INT8: q, INT4: nibble - 8, NF4: its level).
inline int weight_level(RunType t, const uint8_t* row, int64_t k) {
  if (t == RunType::Int8 || t == RunType::W8A8) return (int8_t)row[k];
  const uint8_t b = row[k / 32 * 16 + (k % 32) % 16];
  const int u = (k % 32) < 16 ? (b & 15) : (b >> 4);
  return t == RunType::Int4 ? u - kInt4Offset : nf4_level(u);
}

void mat_levels(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                bool acc) {
  const RunType t = w.quant.type;
  const int64_t gsize = w.quant.group ? w.quant.group : w.cols;
  std::vector<float> d((size_t)run_groups(w.quant, w.cols));
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = w.data + r * w.stride;
    row_scales(w, row, d.data());
    for (int tk = 0; tk < n; tk++) {
      const block_q8a* ab = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)tk * a.stride);
      float s = 0;
      for (int64_t g = 0; g * gsize < w.cols; g++) {
        float gs = 0;
        const int64_t end = (g + 1) * gsize < w.cols ? (g + 1) * gsize : w.cols;
        for (int64_t b = g * gsize / QA; b < end / QA; b++) {
          int32_t isum = 0;
          for (int j = 0; j < QA; j++) isum += weight_level(t, row, b * QA + j) * ab[b].qs[j];
          gs += (float)isum * ab[b].d;
        }
        s += gs * d[(size_t)g];
      }
      put(y + tk * ldy + r, s, acc);
    }
  }
}

void mat_fp8(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t gsize = w.quant.group ? w.quant.group : w.cols;
  std::vector<float> d((size_t)run_groups(w.quant, w.cols));
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = w.data + r * w.stride;
    row_scales(w, row, d.data());
    for (int tk = 0; tk < n; tk++) {
      const float* x = reinterpret_cast<const float*>(a.data + (uint64_t)tk * a.stride);
      float s = 0;
      for (int64_t g = 0; g * gsize < w.cols; g++) {
        float gs = 0;
        const int64_t end = (g + 1) * gsize < w.cols ? (g + 1) * gsize : w.cols;
        for (int64_t k = g * gsize; k < end; k++) gs += fp8_e4m3_to_fp32(row[k]) * x[k];
        s += gs * d[(size_t)g];
      }
      put(y + tk * ldy + r, s, acc);
    }
  }
}

void mat_w8a8(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = w.data + r * w.stride;
    const float dw = run_scale(w.quant, row, w.cols, 0);
    for (int tk = 0; tk < n; tk++) {
      const uint8_t* ar = a.data + (uint64_t)tk * a.stride;
      float da;
      std::memcpy(&da, ar, 4);
      const int8_t* qa = reinterpret_cast<const int8_t*>(ar + kQ8RowHeader);
      int64_t isum = 0;
      for (int64_t k = 0; k < w.cols; k++) isum += (int8_t)row[k] * qa[k];
      put(y + tk * ldy + r, (float)isum * (dw * da), acc);
    }
  }
}

}  // namespace

void add_run_kernels_scalar(Kernels& k) {
  k.mat_run_fp8 = mat_fp8;
  k.mat_run_int8 = mat_levels;
  k.mat_run_int4 = mat_levels;
  k.mat_run_nf4 = mat_levels;
  k.mat_run_w8a8 = mat_w8a8;
}

}  // namespace km::cpu
