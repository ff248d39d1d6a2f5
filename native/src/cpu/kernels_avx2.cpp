// AVX2 + FMA + F16C kernels. The whole file (after the includes) is compiled
// for that target by a pragma region, and nothing in it runs unless
// detect_simd() found AVX2, so the library stays baseline x86-64. No standard
// library template is used inside the region: an instantiation compiled here
// could be picked by the linker for code that runs on any processor.
//
// Matrix kernels:
//   float weights (F32/F16/BF16, file rows): register tiles of 4 rows x 2
//     tokens of 8-wide dot products, so each weight vector loaded feeds two
//     tokens and each activation vector four rows.
//   Q8_0 / Q4_0 (8-row packed, see matrix.h): the outputs of 8 rows are the 8
//     lanes; per 4 columns, one weight load serves every token of the tile.
//   Q4_K / Q5_K / Q6_K (file rows): a super-block is unpacked once per row and token
//     tile; the sub-block sums (quants x activations x 6/8-bit scales) are
//     exact int32 lanes, scaled into a float vector per token, summed across
//     lanes once per row.
#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "cpu/kquant.h"
#include "keymate/formats.h"
#include "keymate/half.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

#include "cpu/avx2_util.h"
#include "cpu/packed_walk.h"

namespace km::cpu {
namespace {

using namespace avx2;

// ---- activation conversion ---------------------------------------------------

void quantize_q8a(const float* x, block_q8a* y, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / QA; b++, x += QA) {
    __m256 v[4];
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
    }
    const float amax = hmax(m);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; i++)
      q[i] = _mm256_cvtps_epi32(
          _mm256_round_ps(_mm256_mul_ps(v[i], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), pack_i32_to_i8(q[0], q[1], q[2], q[3]));
    y[b].d = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
    y[b].sum = hsum_i32(s);
  }
}

void quantize_q8k(const float* x, block_q8k* y, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / QKA; b++, x += QKA) {
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < QKA; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    const float amax = hmax(m);
    const __m256 vid = _mm256_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
    for (int c = 0; c < QKA / 32; c++) {
      __m256i q[4];
      for (int i = 0; i < 4; i++)
        q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * c + 8 * i), vid),
                                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      y[b].bsums[2 * c] = (int16_t)hsum_i32(_mm256_add_epi32(q[0], q[1]));
      y[b].bsums[2 * c + 1] = (int16_t)hsum_i32(_mm256_add_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + 32 * c), pack_i32_to_i8(q[0], q[1], q[2], q[3]));
    }
    y[b].d = amax / 127.0f;
  }
}

void round_f16(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; i++) y[i] = fp16_to_fp32(fp32_to_fp16(x[i]));
}

void round_bf16(const float* x, float* y, int64_t n) {
  // Round to nearest even on the bit pattern, as fp32_to_bf16 does; NaN stays NaN.
  int64_t i = 0;
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
  const __m256i hi_mask = _mm256_set1_epi32((int)0xffff0000u), abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i inf = _mm256_set1_epi32(0x7f800000), quiet = _mm256_set1_epi32(0x00400000);
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_castps_si256(_mm256_loadu_ps(x + i));
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(v, 16), one);
    __m256i r = _mm256_and_si256(_mm256_add_epi32(v, _mm256_add_epi32(bias, odd)), hi_mask);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(v, abs_mask), inf);
    r = _mm256_blendv_epi8(r, _mm256_and_si256(_mm256_or_si256(v, quiet), hi_mask), nan);
    _mm256_storeu_ps(y + i, _mm256_castsi256_ps(r));
  }
  for (; i < n; i++) y[i] = bf16_to_fp32(fp32_to_bf16(x[i]));
}

// ---- float weights -----------------------------------------------------------

inline void store_out(float* y, float v, bool acc) { *y = acc ? *y + v : v; }

struct LoadF32 {
  static __m256 load8(const uint8_t* p, int64_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + k); }
  static float load1(const uint8_t* p, int64_t k) { return reinterpret_cast<const float*>(p)[k]; }
};
struct LoadF16 {
  static __m256 load8(const uint8_t* p, int64_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(p) + k)));
  }
  static float load1(const uint8_t* p, int64_t k) { return fp16_to_fp32(reinterpret_cast<const uint16_t*>(p)[k]); }
};
struct LoadBF16 {
  static __m256 load8(const uint8_t* p, int64_t k) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(p) + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float load1(const uint8_t* p, int64_t k) { return bf16_to_fp32(reinterpret_cast<const uint16_t*>(p)[k]); }
};

template <typename L, int R, int T>
inline void float_tile(const MatPart& w, int64_t r, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  const uint8_t* wr[R];
  const float* x[T];
  for (int i = 0; i < R; i++) wr[i] = w.data + (r + i) * w.stride;
  for (int j = 0; j < T; j++) x[j] = reinterpret_cast<const float*>(a.data + (uint64_t)(t0 + j) * a.stride);
  __m256 s[R][T];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) s[i][j] = _mm256_setzero_ps();
  const int64_t cols = w.cols;
  int64_t k = 0;
  for (; k + 8 <= cols; k += 8) {
    __m256 xv[T];
    for (int j = 0; j < T; j++) xv[j] = _mm256_loadu_ps(x[j] + k);
    for (int i = 0; i < R; i++) {
      const __m256 wv = L::load8(wr[i], k);
      for (int j = 0; j < T; j++) s[i][j] = _mm256_fmadd_ps(wv, xv[j], s[i][j]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) {
      float v = hsum(s[i][j]);
      for (int64_t kk = k; kk < cols; kk++) v += L::load1(wr[i], kk) * x[j][kk];
      store_out(y + (t0 + j) * ldy + r + i, v, acc);
    }
}

template <typename L>
void mat_float(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int t = 0;
    for (; t + 2 <= n; t += 2) float_tile<L, 4, 2>(w, r, a, t, y, ldy, acc);
    if (t < n) float_tile<L, 4, 1>(w, r, a, t, y, ldy, acc);
  }
  for (; r < r1; r++) {
    int t = 0;
    for (; t + 2 <= n; t += 2) float_tile<L, 1, 2>(w, r, a, t, y, ldy, acc);
    if (t < n) float_tile<L, 1, 1>(w, r, a, t, y, ldy, acc);
  }
}

void mat_f32(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float<LoadF32>(w, r0, r1, a, n, y, ldy, acc);
}
void mat_f16(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float<LoadF16>(w, r0, r1, a, n, y, ldy, acc);
}
void mat_bf16(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_float<LoadBF16>(w, r0, r1, a, n, y, ldy, acc);
}

// ---- packed Q8_0 / Q4_0 --------------------------------------------------------

// G consecutive 8-row groups x T consecutive tokens of Q8_0 (signed packing):
// |w| * sign(a, w) keeps maddubs's unsigned x signed product exact (|w|, |a| <= 127).
template <int G, int T>
void q8p_tile(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  constexpr uint64_t BB = 2 * kPackRows + kPackRows * QK8_0;
  const int64_t nb = w.cols / QK8_0;
  const uint8_t* wg[G];
  for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
  const block_q8a* ab[T];
  for (int t = 0; t < T; t++) ab[t] = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)(t0 + t) * a.stride);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 accf[G][T];
  for (int g = 0; g < G; g++)
    for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    const AheadBlocks<G, BB, 8> ahead(wg, w.stride, b, nb);
    __m256i acci[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) acci[g][t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
      if constexpr (T == 1) ahead.part(k);
      __m256i wv[G], aw[G];
      for (int g = 0; g < G; g++) {
        wv[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg[g] + b * BB + 16 + 32 * k));
        aw[g] = _mm256_sign_epi8(wv[g], wv[g]);
      }
      for (int t = 0; t < T; t++) {
        const __m256i av = _mm256_set1_epi32(load_i32(ab[t][b].qs + 4 * k));
        for (int g = 0; g < G; g++) {
          const __m256i p = _mm256_maddubs_epi16(aw[g], _mm256_sign_epi8(av, wv[g]));
          acci[g][t] = _mm256_add_epi32(acci[g][t], _mm256_madd_epi16(p, ones));
        }
      }
    }
    add_scaled_block(accf, acci, wg, b * BB, ab, b);
  }
  store_tile(accf, g0, w.rows, y, t0, ldy, acc);
}

// Q4_0 nibbles are at most 15, so maddubs pairs stay below 2*15*127 and the
// 16-bit sums of a whole block (8 products per lane) cannot overflow.
template <int G, int T>
void q4p_tile(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  constexpr uint64_t BB = 2 * kPackRows + kPackRows * QK4_0 / 2;
  const int64_t nb = w.cols / QK4_0;
  const uint8_t* wg[G];
  for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
  const block_q8a* ab[T];
  for (int t = 0; t < T; t++) ab[t] = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)(t0 + t) * a.stride);
  const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(0x0F);
  __m256 accf[G][T];
  for (int g = 0; g < G; g++)
    for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    const AheadBlocks<G, BB, 4> ahead(wg, w.stride, b, nb);
    __m256i acc16[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) acc16[g][t] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      if constexpr (T == 1) ahead.part(j);
      __m256i lo[G], hi[G];
      for (int g = 0; g < G; g++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg[g] + b * BB + 16 + 32 * j));
        lo[g] = _mm256_and_si256(v, m4);
        hi[g] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      }
      for (int t = 0; t < T; t++) {
        const __m256i alo = _mm256_set1_epi32(load_i32(ab[t][b].qs + 4 * j));
        const __m256i ahi = _mm256_set1_epi32(load_i32(ab[t][b].qs + 16 + 4 * j));
        for (int g = 0; g < G; g++) {
          acc16[g][t] = _mm256_add_epi16(acc16[g][t], _mm256_maddubs_epi16(lo[g], alo));
          acc16[g][t] = _mm256_add_epi16(acc16[g][t], _mm256_maddubs_epi16(hi[g], ahi));
        }
      }
    }
    for (int g = 0; g < G; g++) {
      const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg[g] + b * BB)));
      for (int t = 0; t < T; t++) {
        const __m256i isum =
            _mm256_add_epi32(_mm256_madd_epi16(acc16[g][t], ones), _mm256_set1_epi32(-8 * ab[t][b].sum));
        accf[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_set1_ps(ab[t][b].d)),
                                     accf[g][t]);
      }
    }
  }
  store_tile(accf, g0, w.rows, y, t0, ldy, acc);
}

template <int G, int T>
struct Q8Tile {
  static void run(const MatPart& w, int64_t g, const ActView& a, int t, float* y, int64_t ldy, bool acc) {
    q8p_tile<G, T>(w, g, a, t, y, ldy, acc);
  }
};
template <int G, int T>
struct Q4Tile {
  static void run(const MatPart& w, int64_t g, const ActView& a, int t, float* y, int64_t ldy, bool acc) {
    q4p_tile<G, T>(w, g, a, t, y, ldy, acc);
  }
};

void mat_q8_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                   bool acc) {
  walk_packed<Q8Tile, 2, 1>(w, r0, r1, a, n, y, ldy, acc);
}
void mat_q4_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                   bool acc) {
  walk_packed<Q4Tile, 2, 1>(w, r0, r1, a, n, y, ldy, acc);
}

// ---- K-quants (file rows) ------------------------------------------------------

constexpr int kKTile = 4;  // tokens per pass over a row

template <int N>
struct Int {
  static constexpr int value = N;
};

// sum_j m[j] * (bsums[2j] + bsums[2j+1]): the Q4_K mins against the activation sums.
inline int32_t q4k_min_dot(const int16_t* bsums, const uint8_t* m) {
  const __m128i lo = _mm_loadu_si128((const __m128i*)bsums), hi = _mm_loadu_si128((const __m128i*)(bsums + 8));
  const __m128i pairs = _mm_hadd_epi16(lo, hi);  // 8 sums of 32 (|x| <= 32*127 fits int16)
  const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i*)m));
  __m128i d = _mm_madd_epi16(pairs, mins);
  d = _mm_add_epi32(d, _mm_shuffle_epi32(d, _MM_SHUFFLE(1, 0, 3, 2)));
  d = _mm_add_epi32(d, _mm_shuffle_epi32(d, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(d);
}

// One fp16 value by F16C (a block's scale; the scalar conversion costs a
// dozen instructions and a branch in a loop that has about fifty per block).
inline float f16_at(const uint16_t* p) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(*p)));
}

// A row against T tokens. Per super-block, each 32-byte load of quants is
// split into its two sub-blocks and used for every token before the next
// load, so the live registers are T int32 sums, two quant vectors and two
// scale vectors: nothing spills, and one token (decode) costs no more than
// the loads and the multiply-adds. The float work (d * d_a, the mins) is
// once per super-block and token.
// Q5_K is Q4_K with a fifth bit per quant: bit j of qh[l] is bit 4 of
// element 32j + l, moved under the nibble before the products (quants 0..31
// times int8 activations, pairs summed, stay within int16).
template <int T, typename Block>
inline void k4_row(const Block* wb, int64_t nb, const block_q8k* const (&at)[T], float (&out)[T]) {
  constexpr bool Q5 = std::is_same_v<Block, block_q5_K>;
  const __m256i m4 = _mm256_set1_epi8(0x0F), b4 = _mm256_set1_epi8(0x10);
  __m256 accv[T];
  float mins[T];
  for (int t = 0; t < T; t++) accv[t] = _mm256_setzero_ps(), mins[t] = 0;
  for (int64_t b = 0; b < nb; b++) {
    uint8_t sc8[8], m8[8];
    q4k_scales_mins(wb[b].scales, sc8, m8);
    __m256i isum[T];
    for (int t = 0; t < T; t++) isum[t] = _mm256_setzero_si256();
    __m256i qh = _mm256_setzero_si256();
    if constexpr (Q5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qh));
    for (int p = 0; p < 4; p++) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs + 32 * p));
      __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      if constexpr (Q5) {
        // bits 2p and 2p + 1 of each qh byte, as 0x10 in their byte
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * p), 4), b4));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * p + 1), 4), b4));
      }
      const __m256i slo = _mm256_set1_epi16(sc8[2 * p]), shi = _mm256_set1_epi16(sc8[2 * p + 1]);
      for (int t = 0; t < T; t++) {
        const int8_t* aq = at[t][b].qs + 64 * p;
        const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq)));
        const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32)));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(plo, slo), _mm256_madd_epi16(phi, shi)));
      }
    }
    const float d = f16_at(&wb[b].d), dmin = f16_at(&wb[b].dmin);
    for (int t = 0; t < T; t++) {
      const block_q8k& ak = at[t][b];
      accv[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * ak.d), accv[t]);
      mins[t] += (dmin * ak.d) * (float)q4k_min_dot(ak.bsums, m8);
    }
  }
  for (int t = 0; t < T; t++) out[t] = hsum(accv[t]) - mins[t];
}

// Q6_K likewise: per half (128 elements), four quant vectors made from two
// loads of low bits and one of high bits, each used for every token in turn.
template <int T>
inline void q6k_row(const block_q6_K* wb, int64_t nb, const block_q8k* const (&at)[T], float (&out)[T]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
  __m256 accv[T];
  for (int t = 0; t < T; t++) accv[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    const block_q6_K& w = wb[b];
    // the 16 scales as int16: quarter k takes scales 2k (low 128 bits) and 2k+1 (high)
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    __m256i isum[T];
    // -32 * sum_j sc_j * bsums_j, folded in as the accumulator's start
    for (int t = 0; t < T; t++)
      isum[t] = _mm256_mullo_epi32(
          _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at[t][b].bsums))),
          _mm256_set1_epi32(-32));
    for (int h = 0; h < 2; h++) {
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qh + 32 * h));
      for (int k = 0; k < 4; k++) {
        // elements 32(4h+k) .. +31 (0..63, offset not removed)
        const __m256i q =
            k == 0   ? _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2))
            : k == 1 ? _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2))
            : k == 2 ? _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2))
                     : _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
        const int j = 2 * (4 * h + k);
        const __m256i scv = _mm256_setr_m128i(_mm_set1_epi16(w.scales[j]), _mm_set1_epi16(w.scales[j + 1]));
        for (int t = 0; t < T; t++) {
          const int8_t* aq = at[t][b].qs + 32 * (4 * h + k);
          const __m256i p16 = _mm256_maddubs_epi16(q, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq)));
          isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p16, scv));
        }
      }
    }
    const float d = f16_at(&w.d);
    for (int t = 0; t < T; t++) accv[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * at[t][b].d), accv[t]);
  }
  for (int t = 0; t < T; t++) out[t] = hsum(accv[t]);
}

// Rows [r0, r1) against the n tokens, kKTile at a time; `Row` is k4_row or
// q6k_row's shape. Tokens outside, rows inside: a chunk's rows (tens of KB)
// stay in L1 while each tile of tokens passes over them once, rather than
// every row streaming the whole batch's activations from L2 again.
template <typename Block, template <int> class Row>
void mat_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  const int64_t nb = w.cols / QK_K;
  int t0 = 0;
  auto tile = [&](auto tokens) {
    constexpr int T = decltype(tokens)::value;
    const block_q8k* at[T];
    for (int t = 0; t < T; t++) at[t] = reinterpret_cast<const block_q8k*>(a.data + (uint64_t)(t0 + t) * a.stride);
    for (int64_t r = r0; r < r1; r++) {
      float out[T];
      Row<T>::run(reinterpret_cast<const Block*>(w.data + r * w.stride), nb, at, out);
      for (int t = 0; t < T; t++) store_out(y + (t0 + t) * ldy + r, out[t], acc);
    }
    t0 += T;
  };
  while (n - t0 >= kKTile) tile(Int<kKTile>{});
  switch (n - t0) {
    case 3: tile(Int<3>{}); break;
    case 2: tile(Int<2>{}); break;
    case 1: tile(Int<1>{}); break;
    default: break;
  }
}

template <int T>
struct Q4KRow {
  static void run(const block_q4_K* wb, int64_t nb, const block_q8k* const (&at)[T], float (&out)[T]) {
    k4_row<T>(wb, nb, at, out);
  }
};
template <int T>
struct Q5KRow {
  static void run(const block_q5_K* wb, int64_t nb, const block_q8k* const (&at)[T], float (&out)[T]) {
    k4_row<T>(wb, nb, at, out);
  }
};
template <int T>
struct Q6KRow {
  static void run(const block_q6_K* wb, int64_t nb, const block_q8k* const (&at)[T], float (&out)[T]) { q6k_row<T>(wb, nb, at, out); }
};

void mat_q4_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_k<block_q4_K, Q4KRow>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q5_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_k<block_q5_K, Q5KRow>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q6_k(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_k<block_q6_K, Q6KRow>(w, r0, r1, a, n, y, ldy, acc);
}

// ---- attention and elementwise -------------------------------------------------

// Eight vectors -> the vector of their eight horizontal sums.
inline __m256 hsum8(const __m256 a[8]) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// Scores eight keys at a time: eight dot products accumulate side by side and
// one hsum8 turns them into eight lanes.
void attn_scores(const float* q, int64_t ldq, int nq, const float* k, int nk, int hd, float scale, float* s,
                 int64_t lds) {
  if (hd % 8) {  // no model has such heads; kept correct, not fast
    for (int i = 0; i < nq; i++)
      for (int j = 0; j < nk; j++) {
        float d = 0;
        for (int c = 0; c < hd; c++) d += q[i * ldq + c] * k[(int64_t)j * hd + c];
        s[i * lds + j] = d * scale;
      }
    return;
  }
  const __m256 vs = _mm256_set1_ps(scale);
  for (int i = 0; i < nq; i++) {
    const float* qi = q + i * ldq;
    int j = 0;
    for (; j + 8 <= nk; j += 8) {
      __m256 acc[8];
      for (int kk = 0; kk < 8; kk++) acc[kk] = _mm256_setzero_ps();
      for (int c = 0; c < hd; c += 8) {
        const __m256 qv = _mm256_loadu_ps(qi + c);
        for (int kk = 0; kk < 8; kk++)
          acc[kk] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + (int64_t)(j + kk) * hd + c), acc[kk]);
      }
      _mm256_storeu_ps(s + i * lds + j, _mm256_mul_ps(hsum8(acc), vs));
    }
    for (; j < nk; j++) {
      __m256 acc = _mm256_setzero_ps();
      for (int c = 0; c < hd; c += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(qi + c), _mm256_loadu_ps(k + (int64_t)j * hd + c), acc);
      s[i * lds + j] = hsum(acc) * scale;
    }
  }
}

// o_i += p_i V with up to 64 output dimensions held in registers across the keys.
void attn_values(const float* p, int64_t ldp, int nq, const float* v, int nk, int hd, float* o, int64_t ldo) {
  if (hd % 8) {
    for (int i = 0; i < nq; i++)
      for (int j = 0; j < nk; j++)
        for (int c = 0; c < hd; c++) o[i * ldo + c] += p[i * ldp + j] * v[(int64_t)j * hd + c];
    return;
  }
  for (int i = 0; i < nq; i++) {
    for (int c0 = 0; c0 < hd; c0 += 64) {
      const int nv = (hd - c0 < 64 ? hd - c0 : 64) / 8;
      __m256 acc[8];
      for (int u = 0; u < nv; u++) acc[u] = _mm256_loadu_ps(o + i * ldo + c0 + 8 * u);
      for (int j = 0; j < nk; j++) {
        const __m256 w = _mm256_set1_ps(p[i * ldp + j]);
        const float* vj = v + (int64_t)j * hd + c0;
        for (int u = 0; u < nv; u++) acc[u] = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8 * u), acc[u]);
      }
      for (int u = 0; u < nv; u++) _mm256_storeu_ps(o + i * ldo + c0 + 8 * u, acc[u]);
    }
  }
}

void to_f16(const float* x, uint16_t* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

void to_f32(const uint16_t* x, float* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(x + i))));
  for (; i < n; i++) y[i] = fp16_to_fp32(x[i]);
}

float exp_sum(float* x, int n, float max) {
  const __m256 vm = _mm256_set1_ps(max);
  __m256 s = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    s = _mm256_add_ps(s, e);
  }
  float sum = hsum(s);
  if (i < n) {  // the tail through the same exp, so a row's values do not depend on its length
    float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = i; j < n; j++) tmp[j - i] = x[j] - max;
    _mm256_storeu_ps(tmp, exp_ps(_mm256_loadu_ps(tmp)));
    for (int j = i; j < n; j++) {
      x[j] = tmp[j - i];
      sum += x[j];
    }
  }
  return sum;
}

void rms_norm(const float* x, const float* w, float eps, int64_t n, float* y) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 sq = _mm256_mul_ps(v, v);  // squares rounded to f32 first, as llama.cpp does
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
  }
  const __m256d s = _mm256_add_pd(s0, s1);
  __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  for (; i < n; i++) sum += (double)(x[i] * x[i]);
  const float mean = (float)(sum / (double)n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  const __m256 vs = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
  for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

// x / (1 + exp(-x)): SiLU.
inline __m256 silu_ps(__m256 x) {
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp_ps(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)))));
}

// GELU's tanh form as x / (1 + exp(-2 sqrt(2/pi) x (1 + 0.044715 x^2))),
// with ggml's ends: 0 at x <= -10, x at x >= 10.
inline __m256 gelu_ps(__m256 x) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 inner = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f * kSqrt2OverPi), x),
                                     _mm256_fmadd_ps(_mm256_set1_ps(kGeluCoef), x2, _mm256_set1_ps(1.0f)));
  __m256 y = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp_ps(inner)));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-10.0f), _CMP_LE_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, _mm256_set1_ps(10.0f), _CMP_GE_OQ));
}

// y = act(g) * u, eight at a time; the tail through a zero-padded vector.
template <__m256 (*Act)(__m256)>
void gated(const float* g, const float* u, float* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(Act(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
  if (i < n) {
    float tg[8] = {0, 0, 0, 0, 0, 0, 0, 0}, tu[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = i; j < n; j++) tg[j - i] = g[j], tu[j - i] = u[j];
    _mm256_storeu_ps(tg, _mm256_mul_ps(Act(_mm256_loadu_ps(tg)), _mm256_loadu_ps(tu)));
    for (int j = i; j < n; j++) y[j] = tg[j - i];
  }
}

void swiglu(const float* g, const float* u, float* y, int n) { gated<silu_ps>(g, u, y, n); }
void geglu(const float* g, const float* u, float* y, int n) { gated<gelu_ps>(g, u, y, n); }

}  // namespace
}  // namespace km::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// The table is built outside the target region: it runs on every processor.
namespace km::cpu {

Kernels avx2_kernels() {
  Kernels k = scalar_kernels();
  k.simd = Simd::Avx2;
  k.quantize_q8a = quantize_q8a;
  k.quantize_q8k = quantize_q8k;
  k.round_f16 = round_f16;
  k.round_bf16 = round_bf16;
  k.mat_f32 = mat_f32;
  k.mat_f16 = mat_f16;
  k.mat_bf16 = mat_bf16;
  k.mat_q8_packed = mat_q8_packed;
  k.mat_q4_packed = mat_q4_packed;
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
  add_run_kernels_avx2(k);
  return k;
}

}  // namespace km::cpu

#else  // not x86-64: the scalar kernels stand in

namespace km::cpu {
Kernels avx2_kernels() { return scalar_kernels(); }
}  // namespace km::cpu

#endif
