// The formats the engine RUNS (chosen at load, converted from whatever the
// GGUF file holds), defined once for the CPU reference and the CUDA
// kernels: plain structs, constexpr layout arithmetic and KM_HD element
// conversions, nothing that needs the C++ runtime. formats.h holds the file
// formats; this header holds what the kernels read.
//
// Weight matrices [rows][cols] (cols a multiple of 32), one ROW after another,
// each row 16-byte aligned:
//
//   row r at base + r * run_row_bytes(q, cols):
//     quants  cols bytes (FP8 codes, INT8) or cols / 2 bytes (INT4, NF4)
//     scales  one fp16 per group of `group` columns (the last group of a row
//             may be shorter, any multiple of 32), or one f32 per row when
//             group == 0 (per output channel)
//     padding to a multiple of 16 bytes
//
// Why rows: at batch 1 a GPU streams each weight once, a warp (or a few) per
// output row, so the quants of a row are read as consecutive 16-byte vectors
// (coalesced) and its few scales as one short run right after them; nothing
// is interleaved across rows, so a kernel may give a row to any number of
// threads. The CPU reads the same bytes row by row.
//
// 4-bit quants come in chunks of 32 elements in 16 bytes (run_q4x32): element
// j in the low nibble of byte j, element j + 16 in the high nibble (as Q4_0),
// so one mask and one shift give 32 elements in order.
//
//   FP8    w = d * e4m3(code)                       d f32 per row or fp16 per group
//   INT8   w = d * q,            q in [-127, 127]   d fp16 per group
//   INT4   w = d * (u - 8),      u the nibble       d fp16 per group
//   NF4    w = d * kNf4Levels[u]                    d fp16 per group (levels below)
//   W8A8   w = d * q,            q in [-127, 127]   d f32 per row; the activations
//          are quantized per token: a = d_a * q_a, d_a = amax / 127 (f32),
//          q_a = quant_i8(a, 127 / amax), so a dot product is one int32 sum.
// -128 is never written, so |q| fits the unsigned operand of int8 dot-product
// instructions.
//
// KV cache, per layer, K and V each [n_kv_heads][context][head_dim]:
//   F16       IEEE half
//   INT8      int8 quants, plus one fp16 scale per (head, token) in a separate
//             [n_kv_heads][context] array: d = fp16(amax / 127) over the
//             head_dim values of that head and token, q = quant_i8(x, 1 / d)
//   FP8 e4m3  the value itself (no scale), saturating at +-448
//   FP8 e5m2  likewise, saturating at +-57344
// Quants of a head are contiguous over tokens, so attention over a range of
// tokens reads one contiguous run per head (and one of scales).
#pragma once

#include <cmath>
#include <cstdint>

#include "keymate/fp8.h"
#include "keymate/half.h"

namespace km {

// ---- weights -------------------------------------------------------------------

enum class RunType : uint8_t {
  None = 0,  // not converted: the tensor's GGUF type applies
  Fp8,       // FP8 e4m3
  Int8,
  Int4,
  Nf4,
  W8A8,
};

struct RunQuant {
  RunType type = RunType::None;
  uint16_t group = 0;  // columns per scale; 0 = one scale per row (output channel)
  KM_HD bool none() const { return type == RunType::None; }
};

constexpr int kRunColAlign = 32;  // cols of a converted matrix are a multiple of this
constexpr int kRunRowAlign = 16;  // bytes

struct run_q4x32 {
  uint8_t qs[16];  // element j: qs[j] & 15, element j + 16: qs[j] >> 4
};
static_assert(sizeof(run_q4x32) == 16, "run_q4x32 layout");

struct run_q8x32 {
  uint8_t qs[32];  // int8 quants or e4m3 codes
};
static_assert(sizeof(run_q8x32) == 32, "run_q8x32 layout");

constexpr int kInt4Offset = 8;  // INT4: w = d * (nibble - 8)

// NF4 levels: QLoRA's NormalFloat-4 quantiles of N(0, 1), normalised to
// [-1, 1], times 127 and rounded (so d is about amax / 127, as for INT8).
// Integer levels make the product with int8 activations exact on every
// processor; they differ from the float quantiles by at most 0.5/127 of the
// group's range, and the scale search (quant/) optimises against these very
// levels.
constexpr int8_t kNf4Levels[16] = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};

// The table above as two 64-bit words, which device code can index (a host
// array it cannot), computed from the table so the levels are written once.
constexpr uint64_t nf4_levels_word(int half) {
  uint64_t w = 0;
  for (int i = 7; i >= 0; i--) w = w << 8 | (uint8_t)kNf4Levels[half * 8 + i];
  return w;
}

KM_HD int nf4_level(int u) {
  constexpr uint64_t lo = nf4_levels_word(0), hi = nf4_levels_word(1);
  return (int8_t)(uint8_t)(((u & 8) ? hi : lo) >> (8 * (u & 7)));
}

KM_HD constexpr bool run_is_4bit(RunType t) { return t == RunType::Int4 || t == RunType::Nf4; }

// Bytes of quants in one row.
KM_HD constexpr uint64_t run_quant_bytes(RunType t, int64_t cols) {
  return run_is_4bit(t) ? (uint64_t)cols / 2 : (uint64_t)cols;
}

KM_HD constexpr int64_t run_groups(RunQuant q, int64_t cols) {
  return q.group ? (cols + q.group - 1) / q.group : 1;
}

KM_HD constexpr uint64_t run_scale_bytes(RunQuant q, int64_t cols) {
  return q.group ? 2 * (uint64_t)run_groups(q, cols) : 4;
}

KM_HD constexpr uint64_t run_row_bytes(RunQuant q, int64_t cols) {
  const uint64_t b = run_quant_bytes(q.type, cols) + run_scale_bytes(q, cols);
  return (b + kRunRowAlign - 1) / kRunRowAlign * kRunRowAlign;
}

// The scale of group g of a row (per-row formats: g is ignored).
KM_HD float run_scale(RunQuant q, const uint8_t* row, int64_t cols, int64_t g) {
  const uint8_t* s = row + run_quant_bytes(q.type, cols);
  if (q.group == 0) {
    float d;
    memcpy(&d, s, 4);
    return d;
  }
  uint16_t h;
  memcpy(&h, s + 2 * g, 2);
  return fp16_to_fp32(h);
}

// Element k of a row, decoded to float (reference path; kernels decode in bulk).
KM_HD float run_element(RunQuant q, const uint8_t* row, int64_t cols, int64_t k) {
  const float d = run_scale(q, row, cols, q.group ? k / q.group : 0);
  switch (q.type) {
    case RunType::Fp8: return d * fp8_e4m3_to_fp32(row[k]);
    case RunType::Int8:
    case RunType::W8A8: return d * (float)(int8_t)row[k];
    case RunType::Int4:
    case RunType::Nf4: {
      const uint8_t b = row[k / 32 * 16 + (k % 32) % 16];
      const int u = (k % 32) < 16 ? (b & 15) : (b >> 4);
      return d * (float)(q.type == RunType::Int4 ? u - kInt4Offset : nf4_level(u));
    }
    case RunType::None: break;
  }
  return 0.0f;
}

// Round to nearest even and clamp to [-127, 127]: the one rounding rule of
// every int8 quantizer that runs per token (W8A8 activations, the INT8 KV
// cache), on the CPU and on the GPU alike. NaN gives 0.
KM_HD int8_t quant_i8(float x, float inv_scale) {
  float v = rintf(x * inv_scale);
  v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
  return v == v ? (int8_t)v : (int8_t)0;
}

// ---- KV cache --------------------------------------------------------------------

enum class KvType : uint8_t {
  F16 = 0,
  Int8,
  Fp8E4M3,
  Fp8E5M2,
};

KM_HD constexpr uint32_t kv_elem_bytes(KvType t) { return t == KvType::F16 ? 2 : 1; }
KM_HD constexpr bool kv_has_scales(KvType t) { return t == KvType::Int8; }

// The fp16 scale of one INT8 KV vector whose largest magnitude is amax.
KM_HD uint16_t kv_int8_scale(float amax) { return fp32_to_fp16(amax / 127.0f); }

}  // namespace km
