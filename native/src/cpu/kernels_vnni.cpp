// AVX-512 VNNI kernels for the packed Q8_0 / Q4_0 matrices (see matrix.h),
// the hot path of quantized prefill and decode. vpdpbusd multiplies unsigned
// by signed bytes and adds groups of 4 into int32 lanes in one instruction, so
// per 4 columns of 8 rows and one token the work is one broadcast and one
// vpdpbusd. Q8_0 quants are stored +128 (unsigned); the offset's contribution
// 128 * sum(a) is removed by starting each block's accumulator at
// -128 * sum(a), which the activation block carries, so the integer sum is
// exact. Q4_0 nibbles are unsigned already; its -8 works the same way.
// Only 256-bit vectors are used (AVX512VL gives 32 of them, room for 2 groups
// x 4 tokens of accumulators) to avoid the frequency drop of 512-bit code.
// Every other kernel comes from the AVX2 table.
#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstring>

#include "cpu/matrix.h"
#include "keymate/formats.h"

#if defined(__clang__)
#pragma clang attribute push(                                                                              \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#endif

#include "cpu/avx2_util.h"
#include "cpu/packed_walk.h"

namespace km::cpu {
namespace {

using namespace avx2;

template <int G, int T>
struct Q8uTile {
  static void run(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
    constexpr uint64_t BB = 2 * kPackRows + kPackRows * QK8_0;
    const int64_t nb = w.cols / QK8_0;
    const uint8_t* wg[G];
    for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
    const block_q8a* ab[T];
    for (int t = 0; t < T; t++) ab[t] = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)(t0 + t) * a.stride);
    __m256 accf[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const AheadBlocks<G, BB, 8> ahead(wg, w.stride, b, nb);
      __m256i acci[G][T];
      for (int t = 0; t < T; t++) {
        const __m256i init = _mm256_set1_epi32(-128 * ab[t][b].sum);
        for (int g = 0; g < G; g++) acci[g][t] = init;
      }
#pragma GCC unroll 8
      for (int k = 0; k < 8; k++) {
        if constexpr (T == 1) ahead.part(k);
        __m256i wv[G];
        for (int g = 0; g < G; g++)
          wv[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg[g] + b * BB + 16 + 32 * k));
        for (int t = 0; t < T; t++) {
          const __m256i av = _mm256_set1_epi32(load_i32(ab[t][b].qs + 4 * k));
          for (int g = 0; g < G; g++) acci[g][t] = _mm256_dpbusd_epi32(acci[g][t], wv[g], av);
        }
      }
      add_scaled_block(accf, acci, wg, b * BB, ab, b);
    }
    store_tile(accf, g0, w.rows, y, t0, ldy, acc);
  }
};

template <int G, int T>
struct Q4Tile {
  static void run(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
    constexpr uint64_t BB = 2 * kPackRows + kPackRows * QK4_0 / 2;
    const int64_t nb = w.cols / QK4_0;
    const uint8_t* wg[G];
    for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
    const block_q8a* ab[T];
    for (int t = 0; t < T; t++) ab[t] = reinterpret_cast<const block_q8a*>(a.data + (uint64_t)(t0 + t) * a.stride);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 accf[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const AheadBlocks<G, BB, 4> ahead(wg, w.stride, b, nb);
      __m256i acci[G][T];
      for (int t = 0; t < T; t++) {
        const __m256i init = _mm256_set1_epi32(-8 * ab[t][b].sum);
        for (int g = 0; g < G; g++) acci[g][t] = init;
      }
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
            acci[g][t] = _mm256_dpbusd_epi32(acci[g][t], lo[g], alo);
            acci[g][t] = _mm256_dpbusd_epi32(acci[g][t], hi[g], ahi);
          }
        }
      }
      add_scaled_block(accf, acci, wg, b * BB, ab, b);
    }
    store_tile(accf, g0, w.rows, y, t0, ldy, acc);
  }
};

template <int G, int T>
struct Q4KTile {
  static void run(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
    const int64_t nb = w.cols / QK_K;
    const uint8_t* wg[G];
    for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
    const block_q8k* at[T];
    for (int t = 0; t < T; t++) at[t] = reinterpret_cast<const block_q8k*>(a.data + (uint64_t)(t0 + t) * a.stride);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m4hi = _mm256_set1_epi8(static_cast<char>(0xF0));
    __m256 accf[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const AheadBlocks<G, kQ4KPackedBlock, 32> ahead(wg, w.stride, b, nb);
      const uint8_t* blk[G];
      for (int g = 0; g < G; g++) blk[g] = wg[g] + b * kQ4KPackedBlock;
      __m256i isum[G][T];
      for (int g = 0; g < G; g++)
        for (int t = 0; t < T; t++) isum[g][t] = _mm256_setzero_si256();
      for (int p = 0; p < 4; p++) {
        __m256i dlo[G][T], dhi[G][T];
        for (int g = 0; g < G; g++)
          for (int t = 0; t < T; t++) dlo[g][t] = _mm256_setzero_si256(), dhi[g][t] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
          if constexpr (T == 1) ahead.part(8 * p + k);
          __m256i lo[G], hi[G];
          for (int g = 0; g < G; g++) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[g] + 160 + (8 * p + k) * 32));
            lo[g] = _mm256_and_si256(v, m4);
            hi[g] = _mm256_and_si256(v, m4hi);  // 16 x the high nibble, unshifted (see below)
          }
          for (int t = 0; t < T; t++) {
            const __m256i alo = _mm256_set1_epi32(load_i32(at[t][b].qs + 64 * p + 4 * k));
            const __m256i ahi = _mm256_set1_epi32(load_i32(at[t][b].qs + 64 * p + 32 + 4 * k));
            for (int g = 0; g < G; g++) {
              dlo[g][t] = _mm256_dpbusd_epi32(dlo[g][t], lo[g], alo);
              dhi[g][t] = _mm256_dpbusd_epi32(dhi[g][t], hi[g], ahi);
            }
          }
        }
        for (int g = 0; g < G; g++) {
          // dhi is 16 x the high sub-block's sum: the low one's scale takes the same factor, and
          // the float scale d the 1/16 (exact: a power of two), so no shift per quant load.
          const __m256i slo = _mm256_slli_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 32 + 16 * p))), 4);
          const __m256i shi = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 40 + 16 * p)));
          for (int t = 0; t < T; t++)
            isum[g][t] = _mm256_add_epi32(isum[g][t], _mm256_add_epi32(_mm256_mullo_epi32(dlo[g][t], slo),
                                                                       _mm256_mullo_epi32(dhi[g][t], shi)));
        }
      }
      for (int t = 0; t < T; t++) {
        const block_q8k& ak = at[t][b];
        // the 8 sub-block sums of the activations (16-element sums paired), as int16
        const __m128i sums = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ak.bsums)),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(ak.bsums + 8)));
        const __m256 da = _mm256_set1_ps(ak.d);
        const __m256 da16 = _mm256_set1_ps(ak.d * (1.f / 16));
        for (int g = 0; g < G; g++) {
          __m256i msum = _mm256_setzero_si256();
          for (int q = 0; q < 4; q++) {
            const __m128i m0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 96 + 16 * q));
            const __m128i m1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 104 + 16 * q));
            const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m0, m1));  // row r: min_2q, min_2q+1
            // lane q of `sums` (the sums of sub-blocks 2q and 2q+1) in every lane
            const __m256i pair = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(sums), _mm256_set1_epi32(q));
            msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins, pair));
          }
          const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[g]))), da16);
          const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[g] + 16))), da);
          accf[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[g][t]), d, accf[g][t]);
          accf[g][t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), dmin, accf[g][t]);
        }
      }
    }
    store_tile(accf, g0, w.rows, y, t0, ldy, acc);
  }
};

// Q6_K in Q6KPacked groups (matrix.h). Per column group of 4 columns x 8
// rows, three loads give the four quarters' unsigned 6-bit quants: quarters
// 0-2 by one mask each, quarter 3 as 4 x its quant from the three top bit
// pairs (each pair masked before it is shifted, so no bits cross from the
// neighbouring byte of a 16-bit lane). vpdpbusd takes them as they are; each
// 16-column sub-block's sums are scaled by its int8 scale (int32 multiply),
// quarter 3's after an exact shift by 2, and the -32 of every quant is taken
// out once per super-block as 32 x sum_j scale_j x sum(a over j), eight
// vpmaddwd per token.
template <int G, int T>
struct Q6KTile {
  static void run(const MatPart& w, int64_t g0, const ActView& a, int t0, float* y, int64_t ldy, bool acc) {
    const int64_t nb = w.cols / QK_K;
    const uint8_t* wg[G];
    for (int g = 0; g < G; g++) wg[g] = w.data + (g0 + g) * w.stride;
    const block_q8k* at[T];
    for (int t = 0; t < T; t++) at[t] = reinterpret_cast<const block_q8k*>(a.data + (uint64_t)(t0 + t) * a.stride);
    const __m256i m6 = _mm256_set1_epi8(0x3F), top = _mm256_set1_epi8(static_cast<char>(0xC0));
    __m256 accf[G][T];
    for (int g = 0; g < G; g++)
      for (int t = 0; t < T; t++) accf[g][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const AheadBlocks<G, kQ6KPackedBlock, 16> ahead(wg, w.stride, b, nb);
      const uint8_t* blk[G];
      for (int g = 0; g < G; g++) blk[g] = wg[g] + b * kQ6KPackedBlock;
      __m256i isum[G][T];
      for (int g = 0; g < G; g++)
        for (int t = 0; t < T; t++) isum[g][t] = _mm256_setzero_si256();
      for (int h = 0; h < 2; h++)
        for (int half = 0; half < 2; half++) {  // sub-blocks 2 (4h + i) + half: columns 16 half .. of quarter i
          __m256i d[G][T][4];
          for (int g = 0; g < G; g++)
            for (int t = 0; t < T; t++)
              for (int i = 0; i < 4; i++) d[g][t][i] = _mm256_setzero_si256();
#pragma GCC unroll 4
          for (int c = 4 * half; c < 4 * half + 4; c++) {
            if constexpr (T == 1) ahead.part(8 * h + c);
            for (int g = 0; g < G; g++) {
              const uint8_t* v = blk[g] + 144 + (h * 8 + c) * 96;
              const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v));
              const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 32));
              const __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 64));
              const __m256i x = _mm256_srli_epi16(_mm256_and_si256(v0, top), 4);  // bits 0-1 of quarter 3, at 2-3
              const __m256i y = _mm256_srli_epi16(_mm256_and_si256(v1, top), 2);  // bits 2-3, at 4-5
              const __m256i q[4] = {_mm256_and_si256(v0, m6), _mm256_and_si256(v1, m6), _mm256_and_si256(v2, m6),
                                    // (v2 & top) | x | y: 4 x quarter 3's quant
                                    _mm256_ternarylogic_epi32(v2, top, _mm256_or_si256(x, y), 0xEA)};
              for (int t = 0; t < T; t++)
                for (int i = 0; i < 4; i++) {
                  const __m256i av = _mm256_set1_epi32(load_i32(at[t][b].qs + 128 * h + 32 * i + 4 * c));
                  d[g][t][i] = _mm256_dpbusd_epi32(d[g][t][i], q[i], av);
                }
            }
          }
          for (int g = 0; g < G; g++)
            for (int i = 0; i < 4; i++) {
              const int j = 2 * (4 * h + i) + half;
              const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 16 + 8 * j)));
              for (int t = 0; t < T; t++) {
                const __m256i di = i == 3 ? _mm256_srai_epi32(d[g][t][i], 2) : d[g][t][i];
                isum[g][t] = _mm256_add_epi32(isum[g][t], _mm256_mullo_epi32(di, sc));
              }
            }
        }
      for (int t = 0; t < T; t++) {
        const block_q8k& ak = at[t][b];
        const __m256 da = _mm256_set1_ps(ak.d);
        for (int g = 0; g < G; g++) {
          __m256i off = _mm256_setzero_si256();
          for (int q = 0; q < 8; q++) {
            const __m128i s0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 16 + 16 * q));
            const __m128i s1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[g] + 24 + 16 * q));
            const __m256i scales = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s0, s1));  // row r: scale 2q, 2q+1
            off = _mm256_add_epi32(off, _mm256_madd_epi16(scales, _mm256_set1_epi32(load_i32(ak.bsums + 2 * q))));
          }
          const __m256i sum = _mm256_sub_epi32(isum[g][t], _mm256_slli_epi32(off, 5));
          const __m256 dv = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[g]))), da);
          accf[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), dv, accf[g][t]);
        }
      }
    }
    store_tile(accf, g0, w.rows, y, t0, ldy, acc);
  }
};

void mat_q4k_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  walk_packed<Q4KTile, 4, 1>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q6k_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  walk_packed<Q6KTile, 2, 1>(w, r0, r1, a, n, y, ldy, acc);
}

void mat_q8_packed_u(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                     bool acc) {
  walk_packed<Q8uTile, 4, 2>(w, r0, r1, a, n, y, ldy, acc);
}
void mat_q4_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy,
                   bool acc) {
  walk_packed<Q4Tile, 4, 2>(w, r0, r1, a, n, y, ldy, acc);
}

}  // namespace
}  // namespace km::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace km::cpu {

// Built outside the target region: it runs on every processor.
Kernels vnni_kernels() {
  Kernels k = avx2_kernels();
  k.simd = Simd::Avx512Vnni;
  k.mat_q8_packed_u = mat_q8_packed_u;
  k.mat_q4_packed = mat_q4_packed;
  k.mat_q4k_packed = mat_q4k_packed;
  k.mat_q6k_packed = mat_q6k_packed;
  return k;
}

}  // namespace km::cpu

#else

namespace km::cpu {
Kernels vnni_kernels() { return scalar_kernels(); }
}  // namespace km::cpu

#endif
