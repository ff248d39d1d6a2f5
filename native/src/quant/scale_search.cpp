// The scale searches; see scale_search.h. Plain scalar code: it runs once per
// weight at load, and the candidate counts below bound its cost (about
// 2 * kLevelSteps passes over each group for the 4-bit formats).
#include "quant/scale_search.h"

#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstdlib>
#include <cstring>
#include <string>

#include "keymate/error.h"
#include "keymate/formats_run.h"

namespace km::quant {

namespace {

// Candidates map the group's largest-magnitude value onto f * (an extreme
// level), f from kFracLo in kLevelSteps steps of kFracStep: below 1 the
// extreme levels stay free for outliers' neighbours, above 1 the outlier is
// clipped by rounding. The least-squares refit then moves each candidate to
// its best scale for the levels it chose, so a coarse grid suffices.
constexpr float kFracLo = 0.70f, kFracStep = 0.025f;
constexpr int kLevelSteps = 17;  // 0.70 .. 1.10
// INT8 has 255 levels: clipping never pays, and only the top of the range
// matters.
constexpr float kInt8FracLo = 0.94f, kInt8FracStep = 0.01f;
constexpr int kInt8Steps = 7;  // 0.94 .. 1.00
// FP8 is scale-invariant by powers of two (but for saturation and
// subnormals), so candidates putting the largest value at 448 * f for f in
// (0.5, 1] try every alignment of the mantissa grid.
constexpr int kFp8Steps = 16;
// Refits after the grid: each refit can only lower the error, and the second
// rarely changes anything.
constexpr int kRefits = 2;

// The scale as stored: fp16 saturates at its largest finite value rather than
// becoming infinity (weights that large are broken, but must not become NaN).

float round_scale(float d, bool fp16) {
  if (!fp16) return d;
  const float max = 65504.0f;
  return fp16_to_fp32(fp32_to_fp16(d > max ? max : (d < -max ? -max : d)));
}

// With importance w (null: every w_k = 1) the error is sum w_k (x_k - d l_k)^2,
// and for fixed levels its best d is sum w x l / sum w l l.
inline double weight_at(const float* w, int64_t i) { return w ? (double)w[i] : 1.0; }

struct Fit {
  double sxl = 0, sll = 0;  // sum w*x*l, sum w*l*l
  float scale() const { return sll > 0 ? (float)(sxl / sll) : 0.0f; }
};

Fit assign(const float* x, const float* w, int64_t n, const LevelSet& s, float d, uint8_t* idx) {
  Fit f;
  if (d == 0.0f || !std::isfinite(1.0f / d)) {
    const int zero = nearest_level(s, 0.0f);
    for (int64_t i = 0; i < n; i++) idx[i] = (uint8_t)zero;
    return f;
  }
  const float inv = 1.0f / d;
  for (int64_t i = 0; i < n; i++) {
    const int k = nearest_level(s, x[i] * inv);
    idx[i] = (uint8_t)k;
    const double l = s.level(k), wl = weight_at(w, i) * l;
    f.sxl += (double)x[i] * wl;
    f.sll += l * wl;
  }
  return f;
}

}  // namespace

double weighted_error(const float* x, const float* w, int64_t n, const LevelSet& s, float d, const uint8_t* idx) {
  double e = 0;
  for (int64_t i = 0; i < n; i++) {
    const double r = (double)x[i] - (double)d * s.level(idx[i]);
    e += weight_at(w, i) * r * r;
  }
  return e;
}

namespace {

const float* e4m3_table() {
  static const struct T {
    float v[256];
    T() {
      for (int c = 0; c < 256; c++) v[c] = fp8_e4m3_to_fp32((uint8_t)c);
    }
  } t;
  return t.v;
}

double fp8_encode(const float* x, const float* w, int64_t n, float d, uint8_t* code) {
  const float* dec = e4m3_table();
  if (d == 0.0f || !std::isfinite(1.0f / d)) {
    std::memset(code, 0, (size_t)n);
    double e = 0;
    for (int64_t i = 0; i < n; i++) e += weight_at(w, i) * x[i] * x[i];
    return e;
  }
  const float inv = 1.0f / d;
  double e = 0;
  for (int64_t i = 0; i < n; i++) {
    code[i] = fp32_to_fp8_e4m3(x[i] * inv);
    const double r = (double)x[i] - (double)d * dec[code[i]];
    e += weight_at(w, i) * r * r;
  }
  return e;
}

// ---- candidate ranking ------------------------------------------------------------
// The search's inner loops, which rank candidate scales; the winner is then
// applied with the exact assignment above, so their liberties (float sums,
// the rounding tricks below) never reach the stored bytes. They run on 8
// lanes (n is a multiple of 32): SSE2, which every x86-64 processor has, or
// the same arithmetic lane by lane elsewhere, summed in the same order.

constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: (t + M) - M is t rounded to an integer, |t| < 2^22
constexpr float kFp8SubMagic = 24576.0f;     // 1.5 * 2^23 * 2^-9: rounds to the e4m3 subnormal grid
constexpr float kVeltkamp = 1048577.0f;      // 2^20 + 1: c - (c - a) keeps 4 significant bits of a
constexpr float kFp8MinNormal = 0.015625f;   // 2^-6

struct FitF {
  float sxl, sll;
  float score() const { return sll > 0 ? (sxl * sxl) / sll : 0.0f; }  // larger is better
};

struct TableSteps {
  float first, mid[15], step[15];  // level = first + sum of step[k] over midpoints mid[k] < t
  explicit TableSteps(const LevelSet& s) : first(s.table ? (float)s.table[0] : 0.0f) {
    for (int k = 0; k < 15 && s.table; k++) {
      mid[k] = 0.5f * (float)(s.table[k] + s.table[k + 1]);
      step[k] = (float)(s.table[k + 1] - s.table[k]);
    }
  }
};

float lane_sum(const float* v) {
  float s = 0;
  for (int j = 0; j < 8; j++) s += v[j];
  return s;
}

#if defined(__SSE2__)

// The level of t: a uniform set's clamped rounding, or the table's steps.
inline __m128 level_uniform(__m128 t, __m128 lo, __m128 hi) {
  const __m128 m = _mm_set1_ps(kRoundMagic);
  return _mm_sub_ps(_mm_add_ps(_mm_min_ps(_mm_max_ps(t, lo), hi), m), m);
}
inline __m128 level_table(__m128 t, const TableSteps& ts) {
  __m128 l = _mm_set1_ps(ts.first);
  for (int k = 0; k < 15; k++)
    l = _mm_add_ps(l, _mm_and_ps(_mm_cmpgt_ps(t, _mm_set1_ps(ts.mid[k])), _mm_set1_ps(ts.step[k])));
  return l;
}

// W: weighted by w (the products w*l replace l in both sums).
template <bool TABLE, bool W>
FitF rank_levels(const float* x, const float* w, int64_t n, float inv, const LevelSet& s, const TableSteps& ts) {
  const __m128 vi = _mm_set1_ps(inv), lo = _mm_set1_ps((float)s.lo), hi = _mm_set1_ps((float)s.hi);
  __m128 a0 = _mm_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  for (int64_t i = 0; i < n; i += 8) {
    const __m128 x0 = _mm_loadu_ps(x + i), x1 = _mm_loadu_ps(x + i + 4);
    const __m128 t0 = _mm_mul_ps(x0, vi), t1 = _mm_mul_ps(x1, vi);
    const __m128 l0 = TABLE ? level_table(t0, ts) : level_uniform(t0, lo, hi);
    const __m128 l1 = TABLE ? level_table(t1, ts) : level_uniform(t1, lo, hi);
    const __m128 m0 = W ? _mm_mul_ps(l0, _mm_loadu_ps(w + i)) : l0;
    const __m128 m1 = W ? _mm_mul_ps(l1, _mm_loadu_ps(w + i + 4)) : l1;
    a0 = _mm_add_ps(a0, _mm_mul_ps(x0, m0)), a1 = _mm_add_ps(a1, _mm_mul_ps(x1, m1));
    b0 = _mm_add_ps(b0, _mm_mul_ps(l0, m0)), b1 = _mm_add_ps(b1, _mm_mul_ps(l1, m1));
  }
  float a[8], b[8];
  _mm_storeu_ps(a, a0), _mm_storeu_ps(a + 4, a1), _mm_storeu_ps(b, b0), _mm_storeu_ps(b + 4, b1);
  return FitF{lane_sum(a), lane_sum(b)};
}

template <bool W>
float rank_fp8(const float* x, const float* w, int64_t n, float d) {
  const __m128 vi = _mm_set1_ps(1.0f / d), vd = _mm_set1_ps(d), sign = _mm_set1_ps(-0.0f);
  const __m128 max = _mm_set1_ps(kFp8E4M3MaxValue), sm = _mm_set1_ps(kFp8SubMagic), vk = _mm_set1_ps(kVeltkamp);
  const __m128 mn = _mm_set1_ps(kFp8MinNormal);
  __m128 e[2] = {_mm_setzero_ps(), _mm_setzero_ps()};
  for (int64_t i = 0; i < n; i += 8)
    for (int h = 0; h < 2; h++) {
      const __m128 ax = _mm_andnot_ps(sign, _mm_loadu_ps(x + i + 4 * h));
      const __m128 a = _mm_min_ps(_mm_mul_ps(ax, vi), max);
      const __m128 sub = _mm_sub_ps(_mm_add_ps(a, sm), sm);
      const __m128 c = _mm_mul_ps(a, vk);
      const __m128 norm = _mm_sub_ps(c, _mm_sub_ps(c, a));
      const __m128 is_sub = _mm_cmplt_ps(a, mn);
      const __m128 r = _mm_or_ps(_mm_and_ps(is_sub, sub), _mm_andnot_ps(is_sub, norm));
      const __m128 err = _mm_sub_ps(ax, _mm_mul_ps(vd, r));
      const __m128 werr = W ? _mm_mul_ps(err, _mm_loadu_ps(w + i + 4 * h)) : err;
      e[h] = _mm_add_ps(e[h], _mm_mul_ps(werr, err));
    }
  float v[8];
  _mm_storeu_ps(v, e[0]), _mm_storeu_ps(v + 4, e[1]);
  return lane_sum(v);
}

#else  // the same arithmetic, lane by lane

template <bool TABLE, bool W>
FitF rank_levels(const float* x, const float* w, int64_t n, float inv, const LevelSet& s, const TableSteps& ts) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; j++) {
      const float t = x[i + j] * inv;
      float l;
      if (TABLE) {
        l = ts.first;
        for (int k = 0; k < 15; k++) l += t > ts.mid[k] ? ts.step[k] : 0.0f;
      } else {
        const float c = t < (float)s.lo ? (float)s.lo : (t > (float)s.hi ? (float)s.hi : t);
        l = (c + kRoundMagic) - kRoundMagic;
      }
      const float m = W ? l * w[i + j] : l;
      a[j] += x[i + j] * m;
      b[j] += l * m;
    }
  return FitF{lane_sum(a), lane_sum(b)};
}

template <bool W>
float rank_fp8(const float* x, const float* w, int64_t n, float d) {
  const float inv = 1.0f / d;
  float e[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; j++) {
      const float ax = std::fabs(x[i + j]);
      float a = ax * inv;
      a = a > kFp8E4M3MaxValue ? kFp8E4M3MaxValue : a;
      const float sub = (a + kFp8SubMagic) - kFp8SubMagic;
      const float c = a * kVeltkamp;
      const float norm = c - (c - a);
      const float err = ax - d * (a < kFp8MinNormal ? sub : norm);
      e[j] += (W ? err * w[i + j] : err) * err;
    }
  return lane_sum(e);
}

#endif

}  // namespace

ScaleRule scale_rule_from_env() {
  const char* v = std::getenv("KEYMATE_QUANT_SCALES");
  if (!v || !*v || std::string(v) == "search") return ScaleRule::Search;
  if (std::string(v) == "absmax") return ScaleRule::Absmax;
  fail("KEYMATE_QUANT_SCALES=%s: unknown scale rule (search or absmax)", v);
}

LevelSet int8_levels() { return LevelSet{-127, 127, nullptr}; }
LevelSet int4_levels() { return LevelSet{-kInt4Offset, 15 - kInt4Offset, nullptr}; }
LevelSet nf4_levels() { return LevelSet{kNf4Levels[0], kNf4Levels[15], kNf4Levels}; }

float choose_levels(const float* x, int64_t n, const LevelSet& s, ScaleRule rule, bool fp16_scale, uint8_t* idx,
                    const float* w) {
  float amax = 0, xmax = 0;
  for (int64_t i = 0; i < n; i++)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), xmax = x[i];
  if (amax == 0.0f) {
    assign(x, w, n, s, 0.0f, idx);
    return 0.0f;
  }
  // A symmetric set gets a positive scale (the sign is free); otherwise the
  // largest magnitude goes to the longer side's extreme (INT4: -8), whatever
  // its sign, so d takes the sign that puts it there.
  const bool symmetric = -s.lo == s.hi && !s.table;
  if (symmetric) xmax = amax;
  const int extreme = -s.lo > s.hi ? s.lo : s.hi;
  if (rule == ScaleRule::Absmax) {
    const float d = round_scale(xmax / (float)extreme, fp16_scale);
    assign(x, w, n, s, d, idx);
    return d;
  }

  // NF4's table is stored as int8 (-127..127) but has 16 levels: it takes the 4-bit grid.
  const bool int8 = !s.table && s.hi - s.lo > 16;
  const int steps = int8 ? kInt8Steps : kLevelSteps;
  const float lo_frac = int8 ? kInt8FracLo : kFracLo, step = int8 ? kInt8FracStep : kFracStep;
  // Two scratch index rows (the second for the other starting point below).
  uint8_t tmp_buf[2 * 4096];
  uint8_t* tmp = n <= 4096 ? tmp_buf : static_cast<uint8_t*>(std::malloc(2 * (size_t)n));
  if (!tmp) fail("quantize: out of memory");

  // With weights the unweighted search runs too, and the weighted error picks
  // between the two results: so it is never above the unweighted search's
  // (the coarse grids can rank a candidate first whose refit ends worse).
  float best_d = xmax / (float)extreme, best_du = best_d;
  float best = -1, best_u = -1;
  const TableSteps ts(s);
  for (int side = 0; side < (symmetric ? 1 : 2); side++) {
    const int ext = side == 0 ? s.hi : s.lo;
    for (int k = 0; k < steps; k++) {
      const float target = (lo_frac + step * (float)k) * (float)ext;
      const float inv = target / xmax;
      const FitF u = s.table ? rank_levels<true, false>(x, w, n, inv, s, ts) : rank_levels<false, false>(x, w, n, inv, s, ts);
      if (u.sll > 0 && u.score() > best_u) best_u = u.score(), best_du = u.sxl / u.sll;
      if (!w) continue;
      const FitF f = s.table ? rank_levels<true, true>(x, w, n, inv, s, ts) : rank_levels<false, true>(x, w, n, inv, s, ts);
      if (f.sll > 0 && f.score() > best) best = f.score(), best_d = f.sxl / f.sll;
    }
  }
  // From a starting scale: store, reassign with the stored scale, and refit
  // while that helps, by the error weighted with wf. d and out hold the result.
  auto finish = [&](float start, const float* wf, float& d, uint8_t* out) {
    d = round_scale(start, fp16_scale);
    Fit f = assign(x, wf, n, s, d, out);
    double err = weighted_error(x, wf, n, s, d, out);
    for (int r = 0; r < kRefits && f.sll > 0; r++) {
      const float d2 = round_scale(f.scale(), fp16_scale);
      if (d2 == d) break;
      const Fit f2 = assign(x, wf, n, s, d2, tmp);
      const double err2 = weighted_error(x, wf, n, s, d2, tmp);
      if (!(err2 < err)) break;
      std::memcpy(out, tmp, (size_t)n);
      d = d2, f = f2, err = err2;
    }
  };
  // The unweighted search's result exactly; with weights, the weighted one
  // replaces it where its weighted error is lower.
  float d = 0;
  finish(best_du, nullptr, d, idx);
  if (w) {
    float dw = 0;
    uint8_t* iw = tmp + n;
    finish(best_d, w, dw, iw);
    if (weighted_error(x, w, n, s, dw, iw) < weighted_error(x, w, n, s, d, idx)) {
      d = dw;
      std::memcpy(idx, iw, (size_t)n);
    }
  }
  if (tmp != tmp_buf) std::free(tmp);
  return d;
}

float choose_fp8(const float* x, int64_t n, ScaleRule rule, bool fp16_scale, uint8_t* code, const float* w) {
  float amax = 0;
  for (int64_t i = 0; i < n; i++) amax = std::fmax(amax, std::fabs(x[i]));
  if (amax == 0.0f) {
    std::memset(code, 0, (size_t)n);
    return 0.0f;
  }
  if (rule == ScaleRule::Absmax) {
    const float d = round_scale(amax / kFp8E4M3MaxValue, fp16_scale);
    fp8_encode(x, w, n, d, code);
    return d;
  }
  uint8_t tmp_buf[4096];
  uint8_t* tmp = n <= (int64_t)sizeof tmp_buf ? tmp_buf : static_cast<uint8_t*>(std::malloc((size_t)n));
  if (!tmp) fail("quantize: out of memory");
  float best_d = 0, best_rank = 0;
  for (int k = 0; k < kFp8Steps; k++) {
    // f from 1 down towards 0.5, evenly in log2 so each alignment is tried once
    const float f = std::exp2(-(float)k / (float)kFp8Steps);
    const float d = round_scale(amax / (kFp8E4M3MaxValue * f), fp16_scale);
    if (!(d > 0)) continue;
    const float e = w ? rank_fp8<true>(x, w, n, d) : rank_fp8<false>(x, w, n, d);
    if (best_d == 0 || e < best_rank) best_rank = e, best_d = d;
  }
  if (best_d == 0) best_d = round_scale(amax / kFp8E4M3MaxValue, fp16_scale);
  // One least-squares refit of the winner's codes.
  const float* dec = e4m3_table();
  const double best = fp8_encode(x, w, n, best_d, code);
  double sxv = 0, svv = 0;
  for (int64_t i = 0; i < n; i++) {
    const double wv = weight_at(w, i) * dec[code[i]];
    sxv += (double)x[i] * wv, svv += (double)dec[code[i]] * wv;
  }
  if (svv > 0) {
    const float d2 = round_scale((float)(sxv / svv), fp16_scale);
    const double e2 = fp8_encode(x, w, n, d2, tmp);
    if (e2 < best) {
      best_d = d2;
      std::memcpy(code, tmp, (size_t)n);
    }
  }
  if (tmp != tmp_buf) std::free(tmp);
  return best_d;
}

}  // namespace km::quant
