// The scalar kernels: portable C++, written for clarity. They are the oracle
// the SIMD kernels are tested against and the path for processors without
// AVX2. The integer parts (int8 dot products, offsets, K-quant scales) are
// exact, so SIMD kernels must reproduce them bit for bit; only the order of
// the float accumulation may differ.
#include <cmath>
#include <cstring>

#include "cpu/kernels.h"
#include "cpu/kquant.h"
#include "keymate/formats.h"
#include "keymate/half.h"

namespace km::cpu {
namespace {

inline void put(float* y, float v, bool accumulate) { *y = accumulate ? *y + v : v; }

inline const float* act_row(const ActView& a, int t) {
  return reinterpret_cast<const float*>(a.data + (uint64_t)t * a.stride);
}

template <typename Load>
void mat_float_rows(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                    bool acc, Load load) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* wr = w.data + r * w.stride;
    for (int t = 0; t < n; t++) {
      const float* x = act_row(a, t);
      float s = 0;
      for (int64_t k = 0; k < w.cols; k++) s += load(wr, k) * x[k];
      put(y + t * ldy + r, s, acc);
    }
  }
}

void mat_f32(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float_rows(w, r0, r1, a, n, y, ldy, acc,
                 [](const uint8_t* p, int64_t k) { return reinterpret_cast<const float*>(p)[k]; });
}

void mat_f16(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float_rows(w, r0, r1, a, n, y, ldy, acc,
                 [](const uint8_t* p, int64_t k) { return fp16_to_fp32(reinterpret_cast<const uint16_t*>(p)[k]); });
}

void mat_bf16(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float_rows(w, r0, r1, a, n, y, ldy, acc,
                 [](const uint8_t* p, int64_t k) { return bf16_to_fp32(reinterpret_cast<const uint16_t*>(p)[k]); });
}

void mat_q8_0(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t nb = w.cols / QK8_0;
  for (int64_t r = r0; r < r1; r++) {
    const block_q8_0* wb = reinterpret_cast<const block_q8_0*>(w.data + r * w.stride);
    for (int t = 0; t < n; t++) {
      const block_q8a* ab = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)t * a.stride);
      float s = 0;
      for (int64_t b = 0; b < nb; b++) {
        int32_t isum = 0;
        for (int j = 0; j < QK8_0; j++) isum += wb[b].qs[j] * ab[b].qs[j];
        s += (float)isum * (fp16_to_fp32(wb[b].d) * ab[b].d);
      }
      put(y + t * ldy + r, s, acc);
    }
  }
}

void mat_q4_0(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t nb = w.cols / QK4_0;
  for (int64_t r = r0; r < r1; r++) {
    const block_q4_0* wb = reinterpret_cast<const block_q4_0*>(w.data + r * w.stride);
    for (int t = 0; t < n; t++) {
      const block_q8a* ab = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)t * a.stride);
      float s = 0;
      for (int64_t b = 0; b < nb; b++) {
        int32_t isum = -8 * ab[b].sum;  // w = d * (q - 8)
        for (int j = 0; j < QK4_0 / 2; j++) {
          isum += (wb[b].qs[j] & 0xF) * ab[b].qs[j];
          isum += (wb[b].qs[j] >> 4) * ab[b].qs[j + QK4_0 / 2];
        }
        s += (float)isum * (fp16_to_fp32(wb[b].d) * ab[b].d);
      }
      put(y + t * ldy + r, s, acc);
    }
  }
}

// Q4_K and Q5_K: w = d * sc_j * q - dmin * m_j per sub-block j of 32.
template <typename Block, void (*Unpack)(const Block&, uint8_t*)>
void mat_k4(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t nb = w.cols / QK_K;
  uint8_t q[QK_K];
  for (int64_t r = r0; r < r1; r++) {
    const Block* wb = reinterpret_cast<const Block*>(w.data + r * w.stride);
    for (int t = 0; t < n; t++) {
      const block_q8k* ab = reinterpret_cast<const block_q8k*>(a.data + (uint64_t)t * a.stride);
      float s = 0;
      for (int64_t b = 0; b < nb; b++) {
        Unpack(wb[b], q);
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
          int sc, m;
          q4k_scale_min(wb[b].scales, j, &sc, &m);
          int32_t dot = 0;
          for (int l = 0; l < 32; l++) dot += q[32 * j + l] * ab[b].qs[32 * j + l];
          isum += sc * dot;
          msum += m * (ab[b].bsums[2 * j] + ab[b].bsums[2 * j + 1]);
        }
        const float d = fp16_to_fp32(wb[b].d) * ab[b].d, dmin = fp16_to_fp32(wb[b].dmin) * ab[b].d;
        s += d * (float)isum - dmin * (float)msum;
      }
      put(y + t * ldy + r, s, acc);
    }
  }
}

void mat_q4_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_k4<block_q4_K, q4k_unpack>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q5_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_k4<block_q5_K, q5k_unpack>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q6_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t nb = w.cols / QK_K;
  uint8_t q[QK_K];
  for (int64_t r = r0; r < r1; r++) {
    const block_q6_K* wb = reinterpret_cast<const block_q6_K*>(w.data + r * w.stride);
    for (int t = 0; t < n; t++) {
      const block_q8k* ab = reinterpret_cast<const block_q8k*>(a.data + (uint64_t)t * a.stride);
      float s = 0;
      for (int64_t b = 0; b < nb; b++) {
        q6k_unpack(wb[b], q);
        int32_t isum = 0;
        for (int j = 0; j < 16; j++) {
          int32_t dot = -32 * ab[b].bsums[j];  // w = d * sc * (q - 32)
          for (int l = 0; l < 16; l++) dot += q[16 * j + l] * ab[b].qs[16 * j + l];
          isum += wb[b].scales[j] * dot;
        }
        s += (fp16_to_fp32(wb[b].d) * ab[b].d) * (float)isum;
      }
      put(y + t * ldy + r, s, acc);
    }
  }
}

void attn_scores(const float* q, int64_t ldq, int nq, const float* k, int nk, int hd, float scale, float* s,
                 int64_t lds) {
  for (int i = 0; i < nq; i++)
    for (int j = 0; j < nk; j++) {
      float d = 0;
      for (int c = 0; c < hd; c++) d += q[i * ldq + c] * k[(int64_t)j * hd + c];
      s[i * lds + j] = d * scale;
    }
}

void attn_values(const float* p, int64_t ldp, int nq, const float* v, int nk, int hd, float* o, int64_t ldo) {
  for (int i = 0; i < nq; i++)
    for (int j = 0; j < nk; j++) {
      const float w = p[i * ldp + j];
      for (int c = 0; c < hd; c++) o[i * ldo + c] += w * v[(int64_t)j * hd + c];
    }
}

void to_f16(const float* x, uint16_t* y, int n) {
  for (int i = 0; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

void to_f32(const uint16_t* x, float* y, int n) {
  for (int i = 0; i < n; i++) y[i] = fp16_to_fp32(x[i]);
}

void rms_norm(const float* x, const float* w, float eps, int64_t n, float* y) {
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
  const float mean = (float)(sum / (double)n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

float exp_sum(float* x, int n, float max) {
  float s = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - max);
    s += x[i];
  }
  return s;
}

void swiglu(const float* g, const float* u, float* y, int n) {
  for (int i = 0; i < n; i++) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void geglu(const float* g, const float* u, float* y, int n) {
  for (int i = 0; i < n; i++) {
    const float x = g[i];
    float gelu;
    if (x <= -10.0f) gelu = 0.0f;
    else if (x >= 10.0f) gelu = x;
    else gelu = x / (1.0f + std::exp(-2.0f * kSqrt2OverPi * x * (1.0f + kGeluCoef * x * x)));
    y[i] = gelu * u[i];
  }
}

}  // namespace

Kernels scalar_kernels() {
  Kernels k;
  k.simd = Simd::Scalar;
  k.quantize_q8a = quantize_q8a_scalar;
  k.quantize_q8k = quantize_q8k_scalar;
  k.round_f16 = round_f16_scalar;
  k.round_bf16 = round_bf16_scalar;
  k.mat_f32 = mat_f32;
  k.mat_f16 = mat_f16;
  k.mat_bf16 = mat_bf16;
  k.mat_q8_0 = mat_q8_0;
  k.mat_q4_0 = mat_q4_0;
  k.mat_q4_k = mat_q4_k;
  k.mat_q5_k = mat_q5_k;
  k.mat_q6_k = mat_q6_k;
  k.attn_scores = attn_scores;
  k.attn_values = attn_values;
  k.to_f16 = to_f16;
  k.to_f32 = to_f32;
  k.exp_sum = exp_sum;
  k.rms_norm = rms_norm;
  k.swiglu = swiglu;
  k.geglu = geglu;
  k.quantize_q8row = quantize_q8row_scalar;
  add_run_kernels_scalar(k);
  return k;
}

}  // namespace km::cpu
