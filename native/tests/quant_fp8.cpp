// FP8 e4m3 / e5m2 conversions (keymate/fp8.h) against an oracle written the
// slow, obvious way: the list of every code's value, the nearest one found by
// search, ties to the even code, saturation past the largest finite. Checked
// at every edge (zeros of both signs, the smallest and largest subnormals,
// the subnormal/normal boundary, the largest finite and just past it,
// infinities, NaN, float subnormals) and on millions of float bit patterns
// across the whole range, plus every midpoint between neighbouring codes and
// the floats either side of it.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "keymate/error.h"
#include "keymate/fp8.h"
#include "keymate/half.h"
#include "test.h"

namespace {

struct Format {
  const char* name;
  uint8_t max_code;
  float (*decode)(uint8_t);
  uint8_t (*encode)(float);
};

const Format kE4M3{"e4m3", km::kFp8E4M3Max, km::fp8_e4m3_to_fp32, km::fp32_to_fp8_e4m3};
const Format kE5M2{"e5m2", km::kFp8E5M2Max, km::fp8_e5m2_to_fp32, km::fp32_to_fp8_e5m2};

float f(uint32_t bits) { return km::bits_to_float(bits); }

// The oracle: nearest finite code by search over the code values (codes
// 0..max_code are the non-negative finite values in increasing order).
uint8_t oracle(const Format& fm, float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0;
  if (std::isnan(x)) return 0xff;  // any NaN; compared with isnan below
  const double a = std::fabs((double)x);
  if (a >= fm.decode(fm.max_code)) return sign | fm.max_code;
  int lo = 0;  // largest code with value <= a
  while (lo + 1 <= fm.max_code && fm.decode((uint8_t)(lo + 1)) <= a) lo++;
  const double vlo = fm.decode((uint8_t)lo), vhi = fm.decode((uint8_t)(lo + 1));
  int c;
  if (a - vlo < vhi - a) c = lo;
  else if (a - vlo > vhi - a) c = lo + 1;
  else c = (lo % 2 == 0) ? lo : lo + 1;  // tie: the even code (mantissa LSB 0)
  return (uint8_t)(sign | c);
}

// The oracle with a binary search, for the big sweeps.
struct FastOracle {
  const Format& fm;
  std::vector<double> v;
  explicit FastOracle(const Format& f) : fm(f) {
    for (int c = 0; c <= f.max_code; c++) v.push_back(f.decode((uint8_t)c));
  }
  uint8_t operator()(float x) const {
    const uint8_t sign = std::signbit(x) ? 0x80 : 0;
    const double a = std::fabs((double)x);
    if (a >= v.back()) return sign | fm.max_code;
    int lo = 0, hi = (int)v.size() - 1;  // v[lo] <= a < v[hi]
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      (v[mid] <= a ? lo : hi) = mid;
    }
    int c;
    if (a - v[lo] < v[hi] - a) c = lo;
    else if (a - v[lo] > v[hi] - a) c = hi;
    else c = lo % 2 == 0 ? lo : hi;
    return (uint8_t)(sign | c);
  }
};

void check_one(const Format& fm, const FastOracle& o, float x, int& failures) {
  const uint8_t got = fm.encode(x);
  if (std::isnan(x)) {
    if (!std::isnan(fm.decode(got)) && failures++ < 5)
      kt::report_failure(__FILE__, __LINE__, km::format("%s: NaN encoded as 0x%02x", fm.name, got));
    return;
  }
  const uint8_t want = o(x);
  if (got != want && failures++ < 5)
    kt::report_failure(__FILE__, __LINE__,
                       km::format("%s: %.9g (0x%08x) -> 0x%02x, want 0x%02x", fm.name, x, km::float_to_bits(x), got,
                                  want));
}

}  // namespace

TEST(quant_fp8, e4m3_decodes_as_specified) {
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x00), 0.0f);
  CHECK(std::signbit(km::fp8_e4m3_to_fp32(0x80)) && km::fp8_e4m3_to_fp32(0x80) == 0.0f);  // -0
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x07), 7 * std::ldexp(1.0f, -9));  // largest subnormal
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x38), 1.0f);
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x3c), 1.5f);
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x7e), 448.0f);  // largest finite
  CHECK_EQ(km::fp8_e4m3_to_fp32(0xfe), -448.0f);
  CHECK(std::isnan(km::fp8_e4m3_to_fp32(0x7f)));
  CHECK(std::isnan(km::fp8_e4m3_to_fp32(0xff)));
  CHECK_EQ(km::fp8_e4m3_to_fp32(0x78), 256.0f);  // exponent 15 is finite in e4m3
  // Codes increase with value.
  for (int c = 1; c <= 0x7e; c++) CHECK(km::fp8_e4m3_to_fp32((uint8_t)c) > km::fp8_e4m3_to_fp32((uint8_t)(c - 1)));
}

TEST(quant_fp8, e5m2_is_the_top_byte_of_a_half) {
  for (int c = 0; c < 256; c++) {
    const float a = km::fp8_e5m2_to_fp32((uint8_t)c), b = km::fp16_to_fp32((uint16_t)(c << 8));
    CHECK((std::isnan(a) && std::isnan(b)) || km::float_to_bits(a) == km::float_to_bits(b));
  }
  CHECK_EQ(km::fp8_e5m2_to_fp32(0x7b), 57344.0f);
  CHECK(std::isinf(km::fp8_e5m2_to_fp32(0x7c)));
  CHECK(std::isnan(km::fp8_e5m2_to_fp32(0x7d)));
  CHECK_EQ(km::fp8_e5m2_to_fp32(0x01), std::ldexp(1.0f, -16));
  CHECK_EQ(km::fp8_e5m2_to_fp32(0x04), std::ldexp(1.0f, -14));
}

TEST(quant_fp8, every_code_round_trips) {
  for (const Format* fm : {&kE4M3, &kE5M2})
    for (int c = 0; c < 256; c++) {
      if ((c & 0x7f) > fm->max_code) continue;  // NaN (and e5m2 infinity)
      CHECK_EQ((int)fm->encode(fm->decode((uint8_t)c)), c);
    }
}

TEST(quant_fp8, edges_round_to_nearest_even_and_saturate) {
  const float sub = std::ldexp(1.0f, -9);  // e4m3 smallest subnormal
  struct Case { float x; uint8_t e4m3; };
  const Case cases[] = {
      {0.0f, 0x00}, {-0.0f, 0x80},
      {sub, 0x01}, {-sub, 0x81},
      {sub / 2, 0x00},                                        // tie between 0 and 1: even (0)
      {-sub / 2, 0x80},                                       // keeps its sign
      {std::nextafter(sub / 2, 1.0f), 0x01},                  // just past the tie
      {1.5f * sub, 0x02},                                     // tie between 1 and 2: even (2)
      {2.5f * sub, 0x02},                                     // tie between 2 and 3: even (2)
      {7.5f * sub, 0x08},                                     // largest subnormal / smallest normal tie: 0x08
      {std::ldexp(1.0f, -6), 0x08},
      {1.0f + 1.0f / 16, 0x38},                               // tie between 1 and 1.125: even (1.0)
      {1.0f + 3.0f / 16, 0x3a},                               // tie between 1.125 and 1.25: even (1.25)
      {448.0f, 0x7e},
      {464.0f, 0x7e},                                         // would round up past the largest finite: saturates
      {500.0f, 0x7e}, {-1e30f, 0xfe},
      {std::numeric_limits<float>::infinity(), 0x7e}, {-std::numeric_limits<float>::infinity(), 0xfe},
      {std::numeric_limits<float>::max(), 0x7e},
      {std::numeric_limits<float>::denorm_min(), 0x00},      // float subnormals
      {-std::numeric_limits<float>::denorm_min(), 0x80},
      {std::ldexp(1.0f, -127), 0x00},
  };
  for (const Case& c : cases) {
    CHECK_EQ((int)km::fp32_to_fp8_e4m3(c.x), (int)c.e4m3);
    CHECK_EQ((int)oracle(kE4M3, c.x), (int)c.e4m3);  // the oracle agrees on the edges too
  }
  CHECK((km::fp32_to_fp8_e4m3(std::nanf("")) & 0x7f) == 0x7f);
  CHECK(km::fp32_to_fp8_e4m3(-std::nanf("")) == 0xff);

  const float sub5 = std::ldexp(1.0f, -16);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(57344.0f), 0x7b);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(61440.0f), 0x7b);  // the midpoint to the next binade saturates
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(-std::numeric_limits<float>::infinity()), 0xfb);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(sub5), 0x01);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(sub5 / 2), 0x00);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(-sub5 / 2), 0x80);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(1.5f * sub5), 0x02);
  CHECK_EQ((int)km::fp32_to_fp8_e5m2(-0.0f), 0x80);
  CHECK(std::isnan(km::fp8_e5m2_to_fp32(km::fp32_to_fp8_e5m2(std::nanf("")))));
}

TEST(quant_fp8, sweep_matches_the_oracle) {
  for (const Format* fm : {&kE4M3, &kE5M2}) {
    const FastOracle o(*fm);
    int failures = 0;
    // Float bit patterns across the whole range (both signs, NaNs included).
    for (uint64_t b = 0; b < (1ull << 32); b += 997) check_one(*fm, o, f((uint32_t)b), failures);
    // Every midpoint between neighbouring codes and the floats either side.
    for (int c = 0; c < fm->max_code; c++) {
      const float lo = fm->decode((uint8_t)c), hi = fm->decode((uint8_t)(c + 1));
      const float mid = (float)(0.5 * ((double)lo + hi));  // exact: fp8 values have few bits
      for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), lo, hi}) {
        check_one(*fm, o, x, failures);
        check_one(*fm, o, -x, failures);
      }
    }
    CHECK_EQ(failures, 0);
  }
}

TEST(quant_fp8, e4m3_widens_through_half_bits) {
  for (int c = 0; c < 256; c++) {
    if ((c & 0x7f) == 0x7f) continue;
    const float v = km::fp16_to_fp32(km::fp8_e4m3_to_fp16_scaled((uint8_t)c)) * km::kFp8E4M3HalfScale;
    CHECK_EQ(km::float_to_bits(v), km::float_to_bits(km::fp8_e4m3_to_fp32((uint8_t)c)));
  }
}
