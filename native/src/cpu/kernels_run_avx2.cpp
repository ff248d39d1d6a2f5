// AVX2 kernels for the run formats (keymate/formats_run.h) that the Q8_0 /
// Q4_0 kernels do not already run. INT8 and INT4 rows are repacked into
// those formats' 8-row groups and run by their kernels (matrix.h); here:
//
//   NF4, packed like Q4_0 (Layout::Nf4Packed): the outputs of 8 rows side by
//     side in the lanes; nibbles through a pshufb table of the 16 levels give
//     signed bytes, maddubs(|w|, sign(a, w)) keeps the unsigned x signed
//     product exact (|w|, |a| <= 127), madd widens the pairs to int32, and
//     the block sum goes to float once per block, times the 8 rows' scales
//     and the activation block's.
//   FP8, row by row: 16 codes at a time widened to half by moving their bits
//     (fp8.h), then to float with F16C; the 2^8 the shift leaves is folded
//     into the scale.
//   W8A8, row by row: one int32 sum per row and token over the whole row.
//
// Row kernels use register tiles of R rows x T tokens, so each activation
// load serves R rows and each weight unpack T tokens (decode 4 x 1, prefill
// 2 x 2). Compiled for AVX2+FMA+F16C inside a pragma region and only called
// after detection, as kernels_avx2.cpp is; all headers come before the region
// so no inline function is compiled for AVX2 by accident.
#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstring>

#include "keymate/formats_run.h"
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

inline void store_out(float* y, float v, bool acc) { *y = acc ? *y + v : v; }

inline float scale_at(const MatPart& w, const uint8_t* row, int64_t g) {
  const uint8_t* s = row + run_quant_bytes(w.quant.type, w.cols);
  if (w.quant.group == 0) {
    float d;
    std::memcpy(&d, s, 4);
    return d;
  }
  return _cvtsh_ss(*reinterpret_cast<const uint16_t*>(s + 2 * g));
}

// ---- NF4, packed 8 rows at a time (Layout::Nf4Packed, see matrix.h) -------------------

// G consecutive 8-row groups x T tokens: per 4 columns of 8 rows, one 32-byte
// load gives 8 rows' nibbles for columns 4j..4j+3 (low) and 16+4j.. (high);
// the level table turns them into signed bytes, and each broadcast 4-byte
// slice of an activation block meets all 8 rows at once, so the 8 lanes are
// the 8 rows' sums (no horizontal reduction). Levels reach +-127, so the
// maddubs pairs are widened to int32 right away.
template <int G, int T>
void nf4p_tile(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  constexpr uint64_t BB = 2 * kPackRows + kPackRows * 16;
  const int64_t nb = w.cols / 32;
  const uint8_t* wg[G];
  for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
  const block_q8a* ab[T];
  for (int t = 0; t < T; t++) ab[t] = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)(t0 + t) * a.stride);
  const __m128i lut128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNf4Levels));
  const __m256i lut = _mm256_set_m128i(lut128, lut128), ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(0x0F);
  __m256 accf[G][T];
  for (int g = 0; g < G; g++)
    for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    __m256i acci[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) acci[g][t] = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      __m256i lo[G], hi[G];
      for (int g = 0; g < G; g++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg[g] + b * BB + 16 + 32 * j));
        lo[g] = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, m4));
        hi[g] = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
      }
      for (int t = 0; t < T; t++) {
        const __m256i alo = _mm256_set1_epi32(load_i32(ab[t][b].qs + 4 * j));
        const __m256i ahi = _mm256_set1_epi32(load_i32(ab[t][b].qs + 16 + 4 * j));
        for (int g = 0; g < G; g++) {
          const __m256i plo = _mm256_maddubs_epi16(_mm256_sign_epi8(lo[g], lo[g]), _mm256_sign_epi8(alo, lo[g]));
          const __m256i phi = _mm256_maddubs_epi16(_mm256_sign_epi8(hi[g], hi[g]), _mm256_sign_epi8(ahi, hi[g]));
          acci[g][t] = _mm256_add_epi32(acci[g][t], _mm256_add_epi32(_mm256_madd_epi16(plo, ones),
                                                                      _mm256_madd_epi16(phi, ones)));
        }
      }
    }
    add_scaled_block(accf, acci, wg, b * BB, ab, b);
  }
  store_tile(accf, g0, w.rows, y, t0, ldy, acc);
}

template <int G, int T>
struct Nf4Tile {
  static void run(const MatPart& w, int64_t g, const ActView& a, int t, float* y, int64_t ldy, bool acc) {
    nf4p_tile<G, T>(w, g, a, t, y, ldy, acc);
  }
};

// Pairs of groups for one token (decode), single groups across tiles of 4
// tokens (prefill): the Q4_0 kernel's walk (packed_walk.h).
void mat_nf4_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                    bool acc) {
  walk_packed<Nf4Tile, 2, 1>(w, r0, r1, a, n, y, ldy, acc);
}

// ---- FP8 x f32 -----------------------------------------------------------------------

// Sixteen e4m3 codes -> their values times 2^-8 (see fp8_e4m3_to_fp16_scaled):
// sign-extended to 16 bits and shifted left by 7, a code's sign lands in the
// half's sign bit and its exponent and mantissa in the half's; the one copy
// of the sign that lands in bit 14 is masked off.
inline void widen_e4m3(const uint8_t* p, __m256& lo, __m256& hi) {
  const __m256i c = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i h = _mm256_and_si256(_mm256_slli_epi16(c, 7), _mm256_set1_epi16((short)0xBF80));
  lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
  hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
}

template <int R, int T>
void fp8_tile(const MatPart& w, int64_t r, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  const uint8_t* wr[R];
  for (int i = 0; i < R; i++) wr[i] = w.data + (r + i) * w.stride;
  const float* x[T];
  for (int j = 0; j < T; j++) x[j] = reinterpret_cast<const float*>(a.data + (uint64_t)(t0 + j) * a.stride);
  const int64_t gsize = w.quant.group ? w.quant.group : w.cols;
  __m256 accr[R][T];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) accr[i][j] = _mm256_setzero_ps();
  for (int64_t g = 0, k0 = 0; k0 < w.cols; g++, k0 += gsize) {
    const int64_t k_end = k0 + gsize < w.cols ? k0 + gsize : w.cols;
    __m256 gacc[R][T];
    for (int i = 0; i < R; i++)
      for (int j = 0; j < T; j++) gacc[i][j] = _mm256_setzero_ps();
    for (int64_t k = k0; k < k_end; k += 16) {
      __m256 x0[T], x1[T];
      for (int j = 0; j < T; j++) x0[j] = _mm256_loadu_ps(x[j] + k), x1[j] = _mm256_loadu_ps(x[j] + k + 8);
      for (int i = 0; i < R; i++) {
        __m256 w0, w1;
        widen_e4m3(wr[i] + k, w0, w1);
        for (int j = 0; j < T; j++)
          gacc[i][j] = _mm256_fmadd_ps(w1, x1[j], _mm256_fmadd_ps(w0, x0[j], gacc[i][j]));
      }
    }
    for (int i = 0; i < R; i++) {
      const __m256 d = _mm256_set1_ps(scale_at(w, wr[i], g) * kFp8E4M3HalfScale);
      for (int j = 0; j < T; j++) accr[i][j] = _mm256_fmadd_ps(gacc[i][j], d, accr[i][j]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) store_out(y + (t0 + j) * ldy + r + i, hsum(accr[i][j]), acc);
}

// ---- W8A8 x Q8Row --------------------------------------------------------------------

template <int R, int T>
void w8a8_tile(const MatPart& w, int64_t r, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
  const uint8_t* wr[R];
  for (int i = 0; i < R; i++) wr[i] = w.data + (r + i) * w.stride;
  const int8_t* qa[T];
  float da[T];
  for (int j = 0; j < T; j++) {
    const uint8_t* ar = a.data + (uint64_t)(t0 + j) * a.stride;
    std::memcpy(&da[j], ar, 4);
    qa[j] = reinterpret_cast<const int8_t*>(ar + kQ8RowHeader);
  }
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s[R][T];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < T; j++) s[i][j] = _mm256_setzero_si256();
  for (int64_t k = 0; k < w.cols; k += 32) {
    __m256i av[T];
    for (int j = 0; j < T; j++) av[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qa[j] + k));
    for (int i = 0; i < R; i++) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[i] + k));
      const __m256i aw = _mm256_sign_epi8(wv, wv);
      for (int j = 0; j < T; j++)
        s[i][j] = _mm256_add_epi32(s[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(av[j], wv)), ones));
    }
  }
  for (int i = 0; i < R; i++) {
    const float dw = scale_at(w, wr[i], 0);
    for (int j = 0; j < T; j++) store_out(y + (t0 + j) * ldy + r + i, (float)hsum_i32(s[i][j]) * (dw * da[j]), acc);
  }
}

// ---- drivers -----------------------------------------------------------------------------

// Rows [r0, r1) x tokens [0, n) through Tile<R, T>::run: 4 x 1 tiles for a
// single token, 2 x 2 otherwise, with 1-row / 1-token tiles for remainders.
template <template <int, int> class Tile>
void mat_tiles(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  int64_t r = r0;
  if (n == 1) {
    for (; r + 4 <= r1; r += 4) Tile<4, 1>::run(w, r, a, 0, y, ldy, acc);
    for (; r < r1; r++) Tile<1, 1>::run(w, r, a, 0, y, ldy, acc);
    return;
  }
  for (; r + 2 <= r1; r += 2) {
    int t = 0;
    for (; t + 2 <= n; t += 2) Tile<2, 2>::run(w, r, a, t, y, ldy, acc);
    if (t < n) Tile<2, 1>::run(w, r, a, t, y, ldy, acc);
  }
  for (; r < r1; r++) {
    int t = 0;
    for (; t + 2 <= n; t += 2) Tile<1, 2>::run(w, r, a, t, y, ldy, acc);
    if (t < n) Tile<1, 1>::run(w, r, a, t, y, ldy, acc);
  }
}

template <int R, int T>
struct Fp8Tile {
  static void run(const MatPart& w, int64_t r, const ActView& a, int t, float* y, int64_t ldy, bool acc) {
    fp8_tile<R, T>(w, r, a, t, y, ldy, acc);
  }
};
template <int R, int T>
struct W8A8Tile {
  static void run(const MatPart& w, int64_t r, const ActView& a, int t, float* y, int64_t ldy, bool acc) {
    w8a8_tile<R, T>(w, r, a, t, y, ldy, acc);
  }
};

void mat_fp8(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_tiles<Fp8Tile>(w, r0, r1, a, n, y, ldy, acc);
}
void mat_w8a8(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  mat_tiles<W8A8Tile>(w, r0, r1, a, n, y, ldy, acc);
}

// Q8Row, bit-identical to quantize_q8row_scalar: the same multiply and the
// same round-to-nearest-even (|x * 127 / amax| <= 127, so no clamp is hit).
void quantize_q8row(const float* x, uint8_t* row, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  float amax = hmax(m);
  for (; i < n; i++) amax = amax > __builtin_fabsf(x[i]) ? amax : __builtin_fabsf(x[i]);
  const float d = amax / 127.0f, inv = amax != 0 ? 127.0f / amax : 0.0f;
  std::memcpy(row, &d, 4);
  int8_t* q = reinterpret_cast<int8_t*>(row + kQ8RowHeader);
  const __m256 vi = _mm256_set1_ps(inv);
  for (i = 0; i + 32 <= n; i += 32) {
    __m256i v[4];
    for (int k = 0; k < 4; k++)
      v[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), vi),
                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), pack_i32_to_i8(v[0], v[1], v[2], v[3]));
  }
  for (; i < n; i++) q[i] = quant_i8(x[i], inv);
}

}  // namespace
}  // namespace km::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace km::cpu {

void add_run_kernels_avx2(Kernels& k) {
  k.quantize_q8row = quantize_q8row;
  k.mat_nf4_packed = mat_nf4_packed;
  k.mat_run_fp8 = mat_fp8;
  k.mat_run_w8a8 = mat_w8a8;
}

}  // namespace km::cpu

#else

namespace km::cpu {
void add_run_kernels_avx2(Kernels&) {}
}  // namespace km::cpu

#endif
