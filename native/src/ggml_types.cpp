// The ggml tensor types: a table of names and block geometry for every type a
// GGUF file may name (so any file can be parsed and sized), and dequantization
// for the types the engine reads. Each decoder repeats llama.cpp's arithmetic
// operation for operation (same products, same order, float throughout) so its
// output is bit-identical to llama.cpp's. Every product that feeds an addition
// (an fp16 scale times a few-bit integer) is exact in float, so a compiler that
// fuses `d * q - m` into an FMA cannot change a result (checked with
// -march=native -ffp-contract=fast against the same fixtures).
#include "keymate/ggml_types.h"

#include <cstring>

#include "keymate/error.h"
#include "keymate/formats.h"
#include "keymate/half.h"

namespace km {

GgmlTypeInfo ggml_type_info(uint32_t type) {
  // Geometry from ggml's type_traits; `decodable` marks the types dequantize_row handles.
  switch (type) {
    case 0: return {"f32", 1, 4, true};
    case 1: return {"f16", 1, 2, true};
    case 2: return {"q4_0", 32, 18, true};
    case 3: return {"q4_1", 32, 20, true};
    case 6: return {"q5_0", 32, 22, true};
    case 7: return {"q5_1", 32, 24, true};
    case 8: return {"q8_0", 32, 34, true};
    case 9: return {"q8_1", 32, 36, false};
    case 10: return {"q2_K", 256, 84, true};
    case 11: return {"q3_K", 256, 110, true};
    case 12: return {"q4_K", 256, 144, true};
    case 13: return {"q5_K", 256, 176, true};
    case 14: return {"q6_K", 256, 210, true};
    case 15: return {"q8_K", 256, 292, false};
    case 16: return {"iq2_xxs", 256, 66, false};
    case 17: return {"iq2_xs", 256, 74, false};
    case 18: return {"iq3_xxs", 256, 98, false};
    case 19: return {"iq1_s", 256, 50, false};
    case 20: return {"iq4_nl", 32, 18, false};
    case 21: return {"iq3_s", 256, 110, false};
    case 22: return {"iq2_s", 256, 82, false};
    case 23: return {"iq4_xs", 256, 136, false};
    case 24: return {"i8", 1, 1, false};
    case 25: return {"i16", 1, 2, false};
    case 26: return {"i32", 1, 4, false};
    case 27: return {"i64", 1, 8, false};
    case 28: return {"f64", 1, 8, false};
    case 29: return {"iq1_m", 256, 56, false};
    case 30: return {"bf16", 1, 2, true};
    case 34: return {"tq1_0", 256, 54, false};
    case 35: return {"tq2_0", 256, 66, false};
    case 39: return {"mxfp4", 32, 17, false};
    case 40: return {"nvfp4", 64, 36, false};
    case 41: return {"q1_0", 128, 18, false};
    case 42: return {"q2_0", 64, 18, false};
    default: return {nullptr, 0, 0, false};
  }
}

namespace {

float h2f(uint16_t h) { return fp16_to_fp32(h); }

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (formats.h).
void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  uint32_t w[3];
  memcpy(w, q, 12);
  int s = 0, mn = 0;
  k4_scale_min(k4_scale_words(w[0], w[1], w[2]), j, &s, &mn);
  *sc = (uint8_t)s;
  *m = (uint8_t)mn;
}

void dq_f32(const uint8_t* src, float* y, int64_t n) { memcpy(y, src, (size_t)n * 4); }

void dq_f16(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint16_t h;
    memcpy(&h, src + 2 * i, 2);
    y[i] = fp16_to_fp32(h);
  }
}

void dq_bf16(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint16_t h;
    memcpy(&h, src + 2 * i, 2);
    y[i] = bf16_to_fp32(h);
  }
}

// Blocks are copied out with memcpy: tensor data in a GGUF is only as aligned as
// the file says, and the block structs want 2-byte alignment.
template <typename B>
B block_at(const uint8_t* src, int64_t i) {
  B b;
  memcpy(&b, src + i * (int64_t)sizeof(B), sizeof(B));
  return b;
}

void dq_q4_0(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK4_0; i++, y += QK4_0) {
    const block_q4_0 b = block_at<block_q4_0>(src, i);
    const float d = h2f(b.d);
    for (int j = 0; j < QK4_0 / 2; j++) {
      const int x0 = (b.qs[j] & 0x0F) - 8;
      const int x1 = (b.qs[j] >> 4) - 8;
      y[j] = x0 * d;
      y[j + QK4_0 / 2] = x1 * d;
    }
  }
}

void dq_q4_1(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK4_1; i++, y += QK4_1) {
    const block_q4_1 b = block_at<block_q4_1>(src, i);
    const float d = h2f(b.d), m = h2f(b.m);
    for (int j = 0; j < QK4_1 / 2; j++) {
      y[j] = (b.qs[j] & 0x0F) * d + m;
      y[j + QK4_1 / 2] = (b.qs[j] >> 4) * d + m;
    }
  }
}

// The 32 quants of a Q5_0 block less 16 (w = d * q): element j's low 4 bits
// are qs[j % 16]'s low (j < 16) or high nibble, its bit 4 is bit j of qh.
void q5_0_quants(const block_q5_0& b, int8_t q[QK5_0]) {
  uint32_t qh;
  memcpy(&qh, b.qh, 4);
  for (int j = 0; j < QK5_0 / 2; j++) {
    q[j] = (int8_t)(((b.qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16);
    q[j + QK5_0 / 2] = (int8_t)(((b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16);
  }
}

void dq_q5_0(const uint8_t* src, float* y, int64_t n) {
  int8_t q[QK5_0];
  for (int64_t i = 0; i < n / QK5_0; i++, y += QK5_0) {
    const block_q5_0 b = block_at<block_q5_0>(src, i);
    const float d = h2f(b.d);
    q5_0_quants(b, q);
    for (int j = 0; j < QK5_0; j++) y[j] = q[j] * d;
  }
}

void dq_q5_1(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK5_1; i++, y += QK5_1) {
    const block_q5_1 b = block_at<block_q5_1>(src, i);
    const float d = h2f(b.d), m = h2f(b.m);
    uint32_t qh;
    memcpy(&qh, b.qh, 4);
    for (int j = 0; j < QK5_1 / 2; j++) {
      const int x0 = (b.qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
      const int x1 = (b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
      y[j] = x0 * d + m;
      y[j + QK5_1 / 2] = x1 * d + m;
    }
  }
}

void dq_q8_0(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
    const block_q8_0 b = block_at<block_q8_0>(src, i);
    const float d = h2f(b.d);
    for (int j = 0; j < QK8_0; j++) y[j] = b.qs[j] * d;
  }
}

void dq_q2_K(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK_K; i++) {
    const block_q2_K b = block_at<block_q2_K>(src, i);
    const float d = h2f(b.d), dmin = h2f(b.dmin);
    const uint8_t* q = b.qs;
    int is = 0;
    for (int half = 0; half < 2; half++, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; part++) {  // two 16-weight sub-blocks per shift
          const uint8_t sc = b.scales[is++];
          const float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
          for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dq_q3_K(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK_K; i++) {
    const block_q3_K b = block_at<block_q3_K>(src, i);
    const float d_all = h2f(b.d);
    // Unpack the 16 6-bit scales: low nibbles from bytes 0..7, high 2 bits from 8..11.
    int8_t scales[16];
    for (int j = 0; j < 16; j++) {
      const int lo = j < 8 ? (b.scales[j] & 0xF) : (b.scales[j - 8] >> 4);
      const int hi = (b.scales[8 + (j % 4)] >> (2 * (j / 4))) & 3;
      scales[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
    const uint8_t* q = b.qs;
    uint8_t m = 1;
    int is = 0;
    for (int half = 0; half < 2; half++, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int part = 0; part < 2; part++) {
          const float dl = d_all * scales[is++];
          for (int l = 16 * part; l < 16 * part + 16; l++)
            *y++ = dl * (((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
        }
      }
    }
  }
}

void dq_q4_K(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK_K; i++) {
    const block_q4_K b = block_at<block_q4_K>(src, i);
    const float d = h2f(b.d), dmin = h2f(b.dmin);
    const uint8_t* q = b.qs;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      scale_min_k4(is, b.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      scale_min_k4(is + 1, b.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void dq_q5_K(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK_K; i++) {
    const block_q5_K b = block_at<block_q5_K>(src, i);
    const float d = h2f(b.d), dmin = h2f(b.dmin);
    const uint8_t* ql = b.qs;
    uint8_t u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      scale_min_k4(is, b.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      scale_min_k4(is + 1, b.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

void dq_q6_K(const uint8_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n / QK_K; i++) {
    const block_q6_K b = block_at<block_q6_K>(src, i);
    const float d = h2f(b.d);
    const uint8_t* ql = b.ql;
    const uint8_t* qh = b.qh;
    const int8_t* sc = b.scales;
    for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; l++) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        // (d * scale) first, then the quant: the order llama.cpp rounds in
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

}  // namespace

bool ggml_type_runs_as_stored(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q8_0: case GgmlType::Q4_0:
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return true;
    default: return false;
  }
}

GgmlType ggml_type_held_as(GgmlType t) {
  if (ggml_type_runs_as_stored(t)) return t;
  return t == GgmlType::Q5_0 ? GgmlType::Q8_0 : GgmlType::F32;
}

void q5_0_to_q8_0(const void* src, void* dst, int64_t n) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / QK5_0; i++) {
    const block_q5_0 b = block_at<block_q5_0>(static_cast<const uint8_t*>(src), i);
    block_q8_0 o;
    o.d = b.d;
    q5_0_quants(b, o.qs);
    memcpy(out + i * (int64_t)sizeof(block_q8_0), &o, sizeof o);
  }
}

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
  const GgmlTypeInfo info = ggml_type_info(t);
  if (!info.name) fail("dequantize: unknown tensor type %u", static_cast<uint32_t>(t));
  if (!info.decodable) fail("dequantize: tensor type %s cannot be decoded by this engine", info.name);
  if (n < 0 || n % info.block_elems != 0)
    fail("dequantize: %lld %s elements is not a multiple of the block size %u", (long long)n, info.name,
         info.block_elems);
  const uint8_t* s = static_cast<const uint8_t*>(src);
  switch (t) {
    case GgmlType::F32: return dq_f32(s, dst, n);
    case GgmlType::F16: return dq_f16(s, dst, n);
    case GgmlType::BF16: return dq_bf16(s, dst, n);
    case GgmlType::Q4_0: return dq_q4_0(s, dst, n);
    case GgmlType::Q4_1: return dq_q4_1(s, dst, n);
    case GgmlType::Q5_0: return dq_q5_0(s, dst, n);
    case GgmlType::Q5_1: return dq_q5_1(s, dst, n);
    case GgmlType::Q8_0: return dq_q8_0(s, dst, n);
    case GgmlType::Q2_K: return dq_q2_K(s, dst, n);
    case GgmlType::Q3_K: return dq_q3_K(s, dst, n);
    case GgmlType::Q4_K: return dq_q4_K(s, dst, n);
    case GgmlType::Q5_K: return dq_q5_K(s, dst, n);
    case GgmlType::Q6_K: return dq_q6_K(s, dst, n);
    default: break;
  }
  fail("dequantize: tensor type %s has no decoder", info.name);
}

}  // namespace km
