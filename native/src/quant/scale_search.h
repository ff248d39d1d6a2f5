// Choosing the scale of a group of weights, the one decision that sets a
// quantized format's accuracy. Absmax (the largest magnitude lands on the
// extreme level) wastes levels whenever one weight stands out; instead each
// group tries a grid of candidate scales, assigns every weight its nearest
// level, refits the scale by least squares for that assignment
// (d = sum x*l / sum l*l), and keeps the candidate with the smallest squared
// error. The winner's scale is then rounded to how it is stored (fp16 or f32)
// and the levels are assigned again with the stored scale, so the error
// measured is the error the kernels will see.
//
// With importance weights (importance.h) the error each candidate is ranked
// by, and the refit, weigh each weight by how much its input matters.
//
// KEYMATE_QUANT_SCALES=absmax switches every format to plain absmax scales
// (the baseline the accuracy table compares against); the default is search.
#pragma once

#include <cstdint>

namespace km::quant {

enum class ScaleRule { Search, Absmax };

// From KEYMATE_QUANT_SCALES (search | absmax); throws km::Error on other values.
ScaleRule scale_rule_from_env();

// The level sets of the integer formats, ascending. Uniform sets are the
// integers lo..hi (index = q - lo); NF4 is a table.
struct LevelSet {
  int lo = 0, hi = 0;            // the extreme levels
  const int8_t* table = nullptr;  // null for a uniform set
  int count() const { return table ? 16 : hi - lo + 1; }
  int level(int idx) const { return table ? table[idx] : lo + idx; }
};
LevelSet int8_levels();  // -127 .. 127
LevelSet int4_levels();  // -8 .. 7 (index = the stored nibble)
LevelSet nf4_levels();   // kNf4Levels

// Index of the level of `s` nearest to t: uniform sets round ties to even,
// as rounding does, the NF4 table to the lower level; a NaN counts as 0.
// Inline: the searches and the error feedback call it for every weight.
inline int nearest_level(const LevelSet& s, float t) {
  if (t != t) t = 0.0f;
  if (!s.table) {
    // clamp, then round to nearest even (exact for |t| < 2^22, and no libm call)
    constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
    const float c = t < (float)s.lo ? (float)s.lo : (t > (float)s.hi ? (float)s.hi : t);
    return (int)((c + kRoundMagic) - kRoundMagic) - s.lo;
  }
  int lo = 0, hi = 15;  // binary search on the midpoints of the sorted table
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    const float m = 0.5f * (float)(s.table[mid] + s.table[mid + 1]);
    if (t <= m) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// Picks d for x[0, n) and the level index of every element (idx[i] in
// [0, count)), so that x ~= d * level(idx). fp16_scale: d is stored as fp16
// (else f32). w: each element's weight in the error, sum w_k (x_k - d l_k)^2,
// (importance.h; >= 0), or null for all ones; the candidates are ranked and
// refitted by that error. Returns the stored d (0 when every x is 0).
float choose_levels(const float* x, int64_t n, const LevelSet& set, ScaleRule rule, bool fp16_scale, uint8_t* idx,
                    const float* w = nullptr);

// The same for FP8 e4m3 codes: x ~= d * e4m3(code[i]).
float choose_fp8(const float* x, int64_t n, ScaleRule rule, bool fp16_scale, uint8_t* code, const float* w = nullptr);

// sum w_k (x_k - d level(idx_k))^2 (w null: all ones), the error the search minimises.
double weighted_error(const float* x, const float* w, int64_t n, const LevelSet& set, float d, const uint8_t* idx);

}  // namespace km::quant
