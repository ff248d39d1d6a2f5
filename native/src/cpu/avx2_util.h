// Small AVX2 helpers shared by kernels_avx2.cpp, kernels_run_avx2.cpp and
// kernels_vnni.cpp. Include this only inside a region compiled for AVX2 (see
// kernels_avx2.cpp), after cpu/kernels.h: the functions are TU-local and take
// that region's target.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace km::cpu::avx2 {
namespace {

// Decode reads every weight once, from memory, a tile's G groups as G streams
// that each end after one row of blocks (9.5 KB for a Q4_K row of 2048
// columns), too short for the hardware prefetcher to get ahead of: each
// matrix of a forward pass starts cold, and each tile starts G-1 new streams.
// So a decode tile asks for the block kPrefetchBytes ahead in each of its
// streams, and past a row's end for the same stream of the next tile (group
// g + G). The packed tiles of both levels use it (Q8_0 and Q4_0 in AVX2;
// those and Q4_K and Q6_K in VNNI).
//
// The requests are spread over the block's inner loop, a few lines per step,
// not issued all at once when the block begins: a burst of one request per
// line (27 lines a stream for a Q6_K block, 2 streams) fills the core's
// queue of outstanding misses, and the loads that follow wait behind it, so
// the tile's arithmetic and its memory traffic took turns instead of
// overlapping. Spread, one 1.1B Q4_K_M decode token on 2 threads took
// 13.2-16.7 ms against 17.5-18.3 ms in bursts, near the 11.2-12.4 ms bound
// the same runs measured (the old binary against the new, ABBA, BENCHMARKS). The
// AVX2 tiles, which the burst did not speed up, took a third less time a
// token spread (Q8_0 and Q4_0 models, BENCHMARKS).
constexpr uint64_t kPrefetchBytes = 2048;

// The block kPrefetchBytes ahead in each of a decode tile's G streams, asked
// for in Parts parts of the tile's inner loop over one block.
template <int G, uint64_t Block, int Parts>
struct AheadBlocks {
  const uint8_t* at[G];

  // Block b of nb in the streams that begin at wg[g], groups `stride` apart.
  AheadBlocks(const uint8_t* const (&wg)[G], uint64_t stride, int64_t b, int64_t nb) {
    const int64_t ahead = b + static_cast<int64_t>((kPrefetchBytes + Block - 1) / Block);
    for (int g = 0; g < G; g++) at[g] = ahead < nb ? wg[g] + ahead * Block : wg[g] + G * stride + (ahead - nb) * Block;
  }

  // Part i: each 64-byte line the block can touch (whatever its alignment) is in exactly one part.
  void part(int i) const {
    constexpr int kLines = static_cast<int>((Block + 63) / 64) + 1;
    for (int l = i * kLines / Parts; l < (i + 1) * kLines / Parts; l++)
      for (int g = 0; g < G; g++) _mm_prefetch(reinterpret_cast<const char*>(at[g] + 64 * l), _MM_HINT_T0);
  }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// exp(x) for a vector, max error about 2 ulp: x = n ln2 + r with |r| <= ln2/2
// (ln2 split in two parts so n*ln2 is exact), e^r by a degree-6 polynomial
// (Cephes' expf coefficients), 2^n by building the exponent bits. Inputs below
// ln(FLT_MIN) give 0 (no subnormals), above ln(FLT_MAX) give +inf.
inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654475f), hi = _mm256_set1_ps(88.72283905f);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  const __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  __m256 xc = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3762f)), lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // n in [-126, 127]: 2^n is a normal float. (Inputs in (88.3762, 88.7228]
  // give e^88.3762 instead of a slightly larger finite value; no caller cares.)
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  y = _mm256_andnot_ps(under, y);
  return _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), over);
}

// 32 int32 (four vectors, in order) -> 32 int8 with saturation, in order.
inline __m256i pack_i32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // a0-3 b0-3 | a4-7 b4-7 (lanes)
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i x = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
  return _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// ---- the epilogue of the packed integer kernels (Q8_0, Q4_0, INT4/NF4) ----
// A packed block of kPackRows rows starts with the rows' f16 scales; the
// kernels keep exact int32 sums per block, then scale them into float.

// accf[g][t] += acci[g][t] x group g's row scales (its block at `offset`) x
// token t's block scale.
template <int G, int T>
inline void add_scaled_block(__m256 (&accf)[G][T], const __m256i (&acci)[G][T], const uint8_t* const (&wg)[G],
                             uint64_t offset, const block_q8a* const (&ab)[T], int64_t b) {
  for (int g = 0; g < G; g++) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg[g] + offset)));
    for (int t = 0; t < T; t++)
      accf[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[g][t]), _mm256_mul_ps(dw, _mm256_set1_ps(ab[t][b].d)),
                                   accf[g][t]);
  }
}

// Stores the kPackRows row outputs of one group for one token; `valid` <
// kPackRows only in a part's last group.
inline void store_group(float* y, __m256 v, int valid, bool acc) {
  if (valid == kPackRows) {
    if (acc) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, v);
    return;
  }
  float tmp[kPackRows];
  _mm256_storeu_ps(tmp, v);
  for (int i = 0; i < valid; i++) y[i] = acc ? y[i] + tmp[i] : tmp[i];
}

// Stores groups g0..g0+G of a part of `rows` rows, for tokens t0..t0+T.
template <int G, int T>
inline void store_tile(const __m256 (&accf)[G][T], int64_t g0, int64_t rows, float* y, int64_t t0, int64_t ldy,
                       bool acc) {
  for (int g = 0; g < G; g++) {
    const int64_t row = (g0 + g) * kPackRows;
    const int valid = (int)(rows - row < kPackRows ? rows - row : kPackRows);
    for (int t = 0; t < T; t++) store_group(y + (t0 + t) * ldy + row, accf[g][t], valid, acc);
  }
}

}  // namespace
}  // namespace km::cpu::avx2
