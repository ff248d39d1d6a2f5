// Quantize -> dequantize for every run format (keymate/formats_run.h):
//   - the stored layout (nibble order, scale position, padding) is what the
//     header says, checked on rows whose quantization is exact;
//   - every element decodes to the representable value nearest to it under
//     the group's stored scale (the scale search may pick any scale, but the
//     assignment must then be optimal), which bounds every element's error
//     by half the local level gap, or by the clipping at the extremes;
//   - the error on Gaussian weights with outliers stays under a bound per
//     format, and the searched scales beat absmax on it;
//   - degenerate groups (zeros, constants, a single outlier, tiny and huge
//     magnitudes, a short last group) decode without NaN and within bounds.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cpu/act_quant.h"
#include "keymate/error.h"
#include "keymate/formats_run.h"
#include "quant/quantize_run.h"
#include "quant/scale_search.h"
#include "test.h"

using km::RunQuant;
using km::RunType;
using km::quant::ScaleRule;

namespace {

const RunQuant kFormats[] = {
    {RunType::Fp8, 0},   {RunType::Fp8, 128}, {RunType::Int8, 32}, {RunType::Int8, 128},
    {RunType::Int4, 32}, {RunType::Int4, 64}, {RunType::Int4, 128}, {RunType::Nf4, 32},
    {RunType::Nf4, 64},  {RunType::Nf4, 128}, {RunType::W8A8, 0},
};

std::string name(RunQuant q) {
  const char* t = q.type == RunType::Fp8 ? "fp8" : q.type == RunType::Int8 ? "int8" : q.type == RunType::Int4 ? "int4"
                  : q.type == RunType::Nf4 ? "nf4" : "w8a8";
  return km::format("%s/g%d", t, q.group);
}

// N(0, sigma) rows with an outlier of 6-10 sigma every ~50 weights, as real
// weight rows have.
std::vector<float> weights(size_t n, uint32_t seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, sigma);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = g(rng);
    if (u(rng) < 0.02f) x = (u(rng) < 0.5f ? -1.f : 1.f) * sigma * (6.f + 4.f * u(rng));
  }
  return v;
}

std::vector<uint8_t> encode(RunQuant q, const std::vector<float>& x, int64_t cols, ScaleRule rule) {
  const int64_t rows = (int64_t)x.size() / cols;
  std::vector<uint8_t> out(km::run_row_bytes(q, cols) * rows);
  for (int64_t r = 0; r < rows; r++)
    km::quant::quantize_run_row(q, x.data() + r * cols, cols, out.data() + r * km::run_row_bytes(q, cols), rule);
  return out;
}

std::vector<float> decode(RunQuant q, const std::vector<uint8_t>& b, int64_t cols) {
  const uint64_t rb = km::run_row_bytes(q, cols);
  const int64_t rows = (int64_t)(b.size() / rb);
  std::vector<float> y((size_t)(rows * cols));
  for (int64_t r = 0; r < rows; r++) km::quant::dequantize_run_row(q, b.data() + r * rb, cols, y.data() + r * cols);
  return y;
}

double sse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
  return s;
}

// Every value the format can decode to for scale d (finite ones).
std::vector<double> representable(RunType t, float d) {
  std::vector<double> v;
  switch (t) {
    case RunType::Fp8:
      for (int c = 0; c < 256; c++)
        if ((c & 0x7f) != 0x7f) v.push_back((double)d * km::fp8_e4m3_to_fp32((uint8_t)c));
      break;
    case RunType::Int8: case RunType::W8A8:
      for (int q = -127; q <= 127; q++) v.push_back((double)d * q);
      break;
    case RunType::Int4:
      for (int q = -8; q <= 7; q++) v.push_back((double)d * q);
      break;
    case RunType::Nf4:
      for (int i = 0; i < 16; i++) v.push_back((double)d * km::kNf4Levels[i]);
      break;
    case RunType::None: break;
  }
  return v;
}

// Checks that each element decodes to (one of) the nearest representable
// values under its group's stored scale. FP8 products d * code are rounded
// once in float, so allow that one rounding.
void check_nearest(RunQuant q, const std::vector<float>& x, int64_t cols, const std::vector<uint8_t>& b) {
  const uint64_t rb = km::run_row_bytes(q, cols);
  const int64_t gsize = q.group ? q.group : cols;
  int failures = 0;
  for (size_t r = 0; r < x.size() / (size_t)cols; r++) {
    const uint8_t* row = b.data() + r * rb;
    for (int64_t g = 0; g * gsize < cols; g++) {
      const float d = km::run_scale(q, row, cols, g);
      const std::vector<double> vals = representable(q.type, d);
      for (int64_t k = g * gsize; k < std::min(cols, (g + 1) * gsize); k++) {
        const double xv = x[r * cols + k], got = km::run_element(q, row, cols, k);
        double best = 1e300;
        for (double v : vals) best = std::min(best, std::fabs(xv - v));
        const double slack = 1e-6 * std::fabs(xv) + 1e-30;
        if (!(std::fabs(xv - got) <= best + slack) && failures++ < 3)
          kt::report_failure(__FILE__, __LINE__,
                             km::format("%s row %zu col %lld: %.9g decodes to %.9g, but %.9g away is possible",
                                        name(q).c_str(), r, (long long)k, xv, got, best));
      }
    }
  }
}

}  // namespace

TEST(quant_error, every_element_takes_the_nearest_level) {
  for (RunQuant q : kFormats)
    for (int64_t cols : {96, 256}) {  // 96: g64 and g128 rows end in a short group
      const std::vector<float> x = weights((size_t)cols * 24, (uint32_t)(cols + q.group));
      for (ScaleRule rule : {ScaleRule::Search, ScaleRule::Absmax}) check_nearest(q, x, cols, encode(q, x, cols, rule));
    }
}

TEST(quant_error, error_stays_under_each_formats_bound) {
  // Relative RMS error on N(0, 0.02) rows with 2% outliers of 6-10 sigma,
  // 512 columns: bounds ~1.2x what the formats give here, so a worse
  // quantizer fails. (Outliers cost the grouped formats most: one per group
  // stretches its scale.)
  struct Bound { RunQuant q; double rel_rms; };
  const Bound bounds[] = {
      {{RunType::Fp8, 0}, 0.026},    {{RunType::Fp8, 128}, 0.022},  {{RunType::Int8, 32}, 0.010},
      {{RunType::Int8, 128}, 0.015}, {{RunType::Int4, 32}, 0.167},  {{RunType::Int4, 64}, 0.203},
      {{RunType::Int4, 128}, 0.233}, {{RunType::Nf4, 32}, 0.119},   {{RunType::Nf4, 64}, 0.146},
      {{RunType::Nf4, 128}, 0.169},  {{RunType::W8A8, 0}, 0.0173},
  };
  const int64_t cols = 512;
  const std::vector<float> x = weights((size_t)cols * 64, 7);
  double norm = 0;
  for (float v : x) norm += (double)v * v;
  for (const Bound& b : bounds) {
    const std::vector<float> y = decode(b.q, encode(b.q, x, cols, ScaleRule::Search), cols);
    const double rel = std::sqrt(sse(x, y) / norm);
    if (!(rel <= b.rel_rms))
      kt::report_failure(__FILE__, __LINE__, km::format("%s: relative RMS error %.5f > %.5f", name(b.q).c_str(), rel,
                                                        b.rel_rms));
  }
}

TEST(quant_error, searched_scales_beat_absmax) {
  // Squared error summed over many rows: the search tries absmax among its
  // candidates, so it may only win; for the 4-bit formats by a clear margin.
  const int64_t cols = 512;
  const std::vector<float> x = weights((size_t)cols * 64, 11);
  for (RunQuant q : kFormats) {
    const double s = sse(x, decode(q, encode(q, x, cols, ScaleRule::Search), cols));
    const double a = sse(x, decode(q, encode(q, x, cols, ScaleRule::Absmax), cols));
    const double want = km::run_is_4bit(q.type) ? 0.96 : 1.0;
    if (!(s <= want * a))
      kt::report_failure(__FILE__, __LINE__,
                         km::format("%s: searched %.6g vs absmax %.6g (want <= %.2fx)", name(q).c_str(), s, a, want));
  }
}

TEST(quant_error, layout_is_as_the_header_says) {
  // Weights that are exactly d * level: every format must reproduce them.
  const int64_t cols = 96;
  const float d = 0.0625f;  // a power of two: exact in fp16 and in products
  std::vector<float> x(cols);
  for (int64_t k = 0; k < cols; k++) x[k] = d * (float)((k * 5 + 3) % 16 - 8);
  x[0] = -8 * d;  // the group's extreme sits on the -8 level
  const RunQuant q{RunType::Int4, 64};
  const std::vector<uint8_t> b = encode(q, x, cols, ScaleRule::Search);
  CHECK_EQ(b.size(), (size_t)64);  // 48 quant bytes + 2 fp16 scales = 52, padded to 64
  CHECK_EQ(km::run_row_bytes(q, cols), (uint64_t)64);
  for (int64_t k = 0; k < cols; k++) {
    const uint8_t byte = b[(size_t)(k / 32 * 16 + (k % 32) % 16)];
    const int nib = (k % 32) < 16 ? (byte & 15) : (byte >> 4);
    CHECK_EQ(nib, (int)(x[k] / d) + 8);
  }
  uint16_t s0, s1;
  std::memcpy(&s0, b.data() + 48, 2);
  std::memcpy(&s1, b.data() + 50, 2);
  CHECK_EQ(km::fp16_to_fp32(s0), d);
  CHECK_EQ(km::fp16_to_fp32(s1), d);  // the short second group (32 columns)
  for (size_t i = 52; i < b.size(); i++) CHECK_EQ((int)b[i], 0);  // padding
  CHECK_EQ(sse(x, decode(q, b, cols)), 0.0);

  // INT8 per group of 32 and the per-row f32 scale of W8A8.
  std::vector<float> y(64);
  for (int k = 0; k < 64; k++) y[k] = 0.25f * (float)((k * 37) % 255 - 127);
  y[0] = -127 * 0.25f, y[32] = 127 * 0.25f;  // each group of 32 spans the full range
  for (RunQuant q8 : {RunQuant{RunType::Int8, 32}, RunQuant{RunType::W8A8, 0}}) {
    const std::vector<uint8_t> c = encode(q8, y, 64, ScaleRule::Search);
    CHECK_EQ(sse(y, decode(q8, c, 64)), 0.0);
    for (int k = 0; k < 64; k++) CHECK_EQ((int)(int8_t)c[(size_t)k], (int)std::lround(y[k] / 0.25f));
  }
  float dw;
  const std::vector<uint8_t> w = encode({RunType::W8A8, 0}, y, 64, ScaleRule::Search);
  std::memcpy(&dw, w.data() + 64, 4);
  CHECK_EQ(dw, 0.25f);
  CHECK_EQ(w.size(), (size_t)80);  // 64 + 4, padded to 16
}

TEST(quant_error, degenerate_groups) {
  const int64_t cols = 64;
  for (RunQuant q : kFormats) {
    std::vector<std::vector<float>> rows;
    rows.push_back(std::vector<float>(cols, 0.0f));                 // all zero
    rows.push_back(std::vector<float>(cols, 0.3f));                 // constant
    rows.push_back(std::vector<float>(cols, -0.1f));                // constant negative
    std::vector<float> spike(cols, 0.0f);
    spike[17] = -5.0f;                                              // one outlier
    rows.push_back(spike);
    std::vector<float> tiny = weights(cols, 3, 1e-12f);             // fp16 scales underflow
    rows.push_back(tiny);
    std::vector<float> huge = weights(cols, 4, 1e8f);               // fp16 scales saturate
    rows.push_back(huge);
    for (size_t i = 0; i < rows.size(); i++) {
      const std::vector<float> y = decode(q, encode(q, rows[i], cols, ScaleRule::Search), cols);
      double amax = 0;
      for (float v : rows[i]) amax = std::max(amax, std::fabs((double)v));
      for (int64_t k = 0; k < cols; k++) {
        CHECK(std::isfinite(y[k]));
        // never worse than rounding everything to zero, and exact at zero
        if (!(std::fabs((double)y[k] - rows[i][k]) <= amax * 1.0000001))
          kt::report_failure(__FILE__, __LINE__, km::format("%s case %zu col %lld: %g -> %g", name(q).c_str(), i,
                                                            (long long)k, rows[i][k], y[k]));
        if (rows[i][k] == 0.0f) CHECK_EQ(y[k], 0.0f);
      }
      // Constants and a lone spike sit on a level: exact but for the
      // rounding of an fp16 scale (2^-11 relative while the scale is a
      // normal half; the tiny case below is where it is not).
      if (i == 1 || i == 2 || i == 3)
        for (int64_t k = 0; k < cols; k++) CHECK(std::fabs((double)y[k] - rows[i][k]) <= amax / 1024);
    }
  }
}

TEST(quant_error, w8a8_activations_follow_the_format_rule) {
  const std::vector<float> x = weights(96, 21, 1.0f);
  std::vector<uint8_t> row(km::cpu::act_row_bytes(km::cpu::ActFormat::Q8Row, 96));
  km::cpu::quantize_q8row_scalar(x.data(), row.data(), 96);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  float d;
  std::memcpy(&d, row.data(), 4);
  CHECK_EQ(d, amax / 127.0f);
  for (int i = 0; i < 96; i++) {
    const int q = (int8_t)row[km::cpu::kQ8RowHeader + i];
    CHECK_EQ(q, (int)std::nearbyint(x[i] * (127.0f / amax)));
    CHECK(std::fabs(x[i] - d * q) <= 0.5001 * d);
  }
}

TEST(quant_error, int8_rounding_rule_at_its_edges) {
  // quant_i8: round half to even, saturate at +-127 (never -128), NaN -> 0.
  CHECK_EQ((int)km::quant_i8(0.5f, 1.0f), 0);
  CHECK_EQ((int)km::quant_i8(1.5f, 1.0f), 2);
  CHECK_EQ((int)km::quant_i8(-2.5f, 1.0f), -2);
  CHECK_EQ((int)km::quant_i8(-0.0f, 1.0f), 0);
  CHECK_EQ((int)km::quant_i8(126.5f, 1.0f), 126);
  CHECK_EQ((int)km::quant_i8(127.49f, 1.0f), 127);
  CHECK_EQ((int)km::quant_i8(128.0f, 1.0f), 127);
  CHECK_EQ((int)km::quant_i8(-1e30f, 1.0f), -127);
  CHECK_EQ((int)km::quant_i8(std::numeric_limits<float>::infinity(), 1.0f), 127);
  CHECK_EQ((int)km::quant_i8(std::nanf(""), 1.0f), 0);
  CHECK_EQ((int)km::quant_i8(1.0f, 0.0f), 0);  // a zero group's inverse scale
  // fp16 scales saturate instead of overflowing (65504 is the largest half)
  CHECK_EQ(km::fp16_to_fp32(km::fp32_to_fp16(65504.0f)), 65504.0f);
}
