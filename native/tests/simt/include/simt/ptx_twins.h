// Host twins of kernels/common/ptx.cuh's PTX wrappers, same names, for the
// SIMT harness. Each follows the PTX ISA's definition:
//   mma.sync m16n8k16 / m16n8k8 .row.col f32.f16.f16.f32: a warp-collective;
//     every lane deposits its A, B, C fragment registers, the lanes meet, and
//     each lane computes its own four D elements from the whole warp's
//     fragments (groupID = lane / 4, tig = lane % 4):
//       A  a0: (g, 2t..2t+1)  a1: (g+8, 2t..)  a2: (g, 2t+8..)  a3: (g+8, 2t+8..)
//       B  b0: (k = 2t..2t+1, n = g)  b1: (k = 2t+8.., n = g)
//       C/D c0,c1: (g, 2t..2t+1)  c2,c3: (g+8, 2t..2t+1)
//     (k8: A a0 = rows g, a1 = rows g+8, columns 2t..2t+1; B b0 only.)
//     The products are summed in f32 in k order: tensor cores round
//     differently, which the tests' tolerances cover.
//   mma.sync m16n8k32 / m8n8k16 .row.col s32.s8.s8.s32: the same exchange,
//     with four int8 per register where f16 had two:
//       A  a0: (g, 4t..4t+3)  a1: (g+8, 4t..)  a2: (g, 16+4t..)  a3: (g+8, 16+4t..)
//       B  b0: (k = 4t..4t+3, n = g)  b1: (k = 16+4t.., n = g)
//       C/D as above, in s32
//     (k16: A a0 = row g only, B b0 only, C/D c0, c1 = row g: an 8x8 product.)
//     Integer sums are exact, on the tensor cores and here.
//   ld.acquire / st.release: host atomics with those orders; an acquire load
//     also yields the fiber, since it is how a thread spins on another's flag.
//   %globaltimer: the host's steady clock in nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>

#include "cuda_fp16.h"
#include "simt/device.h"

namespace km::cuda::ptx {

inline int arch() { return ::simt::cuda_arch(); }

namespace detail {

struct MmaFragments {
  uint32_t a[4];
  uint32_t b[2];
  float c[4];
};
static_assert(sizeof(MmaFragments) <= ::simt::kSlotBytes, "a lane's mma fragments fit its exchange slot");

// Every half's float value, once: the mma twin converts 64 halves per lane
// per instruction, and the branchy exact conversion dominated prefill tests.
inline const float* half_table() {
  static const float* t = [] {
    auto* v = new float[65536];
    for (uint32_t h = 0; h < 65536; h++) v[h] = km::fp16_to_fp32((uint16_t)h);
    return v;
  }();
  return t;
}
inline float half_lo(uint32_t w) { return half_table()[w & 0xffffu]; }
inline float half_hi(uint32_t w) { return half_table()[w >> 16]; }

inline MmaFragments lane_fragments(const unsigned char* slots, int lane) {
  MmaFragments f;
  std::memcpy(&f, slots + lane * ::simt::kSlotBytes, sizeof f);
  return f;
}

inline void mma(float* c, const uint32_t* a, const uint32_t* b, int K, const char* what) {
  MmaFragments mine{};
  std::memcpy(mine.a, a, (K == 16 ? 4 : 2) * sizeof(uint32_t));
  std::memcpy(mine.b, b, (K == 16 ? 2 : 1) * sizeof(uint32_t));
  std::memcpy(mine.c, c, sizeof mine.c);
  const unsigned char* slots =
      ::simt::warp_exchange(0xffffffffu, ::simt::Coll::Mma, &mine, sizeof mine, what, __FILE__, __LINE__);
  const int lane = (int)::simt::lane_id(), g = lane >> 2, t = lane & 3;
  // This lane's D elements need rows g and g + 8 of A and columns 2t, 2t + 1
  // of B: A row r's columns 2u, 2u + 1 (+8) sit with lane 4 (r % 8) + u, in
  // register (r >= 8) (+2 for k >= 8); B column n's rows 2u, 2u + 1 (+8) with
  // lane 4n + u, in register 0 (1 for k >= 8).
  float ar[2][16], bc[2][16];
  for (int u = 0; u < 4; u++) {
    const MmaFragments f = lane_fragments(slots, 4 * g + u);
    for (int hi_row = 0; hi_row < 2; hi_row++)
      for (int hi_k = 0; hi_k < K / 8; hi_k++) {
        const uint32_t w = f.a[hi_row + 2 * hi_k];
        ar[hi_row][8 * hi_k + 2 * u] = half_lo(w);
        ar[hi_row][8 * hi_k + 2 * u + 1] = half_hi(w);
      }
    for (int j = 0; j < 2; j++) {
      const MmaFragments fb = lane_fragments(slots, 4 * (2 * t + j) + u);
      for (int hi_k = 0; hi_k < K / 8; hi_k++) {
        bc[j][8 * hi_k + 2 * u] = half_lo(fb.b[hi_k]);
        bc[j][8 * hi_k + 2 * u + 1] = half_hi(fb.b[hi_k]);
      }
    }
  }
  for (int e = 0; e < 4; e++) {
    float acc = c[e];
    for (int k = 0; k < K; k++) acc += ar[e >> 1][k] * bc[e & 1][k];
    c[e] = acc;
  }
}

struct MmaS8Fragments {
  uint32_t a[4];
  uint32_t b[2];
};

inline int8_t s8_at(uint32_t w, int i) { return (int8_t)(uint8_t)(w >> (8 * i)); }

// M = 16 (m16n8k32) or 8 (m8n8k16): this lane's D elements are rows g (and
// g + 8) by columns 2t, 2t + 1. A row r's bytes 4u..4u+3 (+16) sit with lane
// 4 (r % 8) + u in register (r >= 8) (+2 for k >= 16); B column n's with lane
// 4n + u, in register 0 (1 for k >= 16).
inline void mma_s8(int* c, const uint32_t* a, const uint32_t* b, int M, const char* what) {
  const int K = M == 16 ? 32 : 16;
  MmaS8Fragments mine{};
  std::memcpy(mine.a, a, (M == 16 ? 4 : 1) * sizeof(uint32_t));
  std::memcpy(mine.b, b, (M == 16 ? 2 : 1) * sizeof(uint32_t));
  const unsigned char* slots =
      ::simt::warp_exchange(0xffffffffu, ::simt::Coll::Mma, &mine, sizeof mine, what, __FILE__, __LINE__);
  const int lane = (int)::simt::lane_id(), g = lane >> 2, t = lane & 3;
  int8_t ar[2][32], bc[2][32];
  for (int u = 0; u < 4; u++) {
    MmaS8Fragments f;
    std::memcpy(&f, slots + (4 * g + u) * ::simt::kSlotBytes, sizeof f);
    for (int hi_row = 0; hi_row < M / 8; hi_row++)
      for (int hi_k = 0; hi_k < K / 16; hi_k++)
        for (int i = 0; i < 4; i++) ar[hi_row][16 * hi_k + 4 * u + i] = s8_at(f.a[hi_row + 2 * hi_k], i);
    for (int j = 0; j < 2; j++) {
      MmaS8Fragments fb;
      std::memcpy(&fb, slots + (4 * (2 * t + j) + u) * ::simt::kSlotBytes, sizeof fb);
      for (int hi_k = 0; hi_k < K / 16; hi_k++)
        for (int i = 0; i < 4; i++) bc[j][16 * hi_k + 4 * u + i] = s8_at(fb.b[hi_k], i);
    }
  }
  for (int e = 0; e < (M == 16 ? 4 : 2); e++) {
    int32_t acc = c[e];
    for (int k = 0; k < K; k++) acc += (int32_t)ar[e >> 1][k] * bc[e & 1][k];
    c[e] = acc;
  }
}
static_assert(sizeof(MmaS8Fragments) <= ::simt::kSlotBytes, "a lane's mma fragments fit its exchange slot");

}  // namespace detail

inline void mma_m16n8k32_s32_s8(int* c, const uint32_t* a, const uint32_t* b) {
  detail::mma_s8(c, a, b, 16, "mma.sync.m16n8k32.s8");
}

inline void mma_m8n8k16_s32_s8(int* c, uint32_t a0, uint32_t b0) {
  const uint32_t a[1] = {a0}, b[1] = {b0};
  detail::mma_s8(c, a, b, 8, "mma.sync.m8n8k16.s8");
}

inline void mma_m16n8k16_f32_f16(float* c, const uint32_t* a, const uint32_t* b) {
  detail::mma(c, a, b, 16, "mma.sync.m16n8k16");
}

inline void mma_m16n8k8_f32_f16(float* c, uint32_t a0, uint32_t a1, uint32_t b0) {
  const uint32_t a[2] = {a0, a1}, b[1] = {b0};
  detail::mma(c, a, b, 8, "mma.sync.m16n8k8");
}

inline uint4 ld_global_nc_v4_no_allocate(const void* p) {
  uint4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline uint64_t globaltimer() {
  return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline uint32_t ld_acquire_sys_u32(const uint32_t* p) {
  ::simt::yield_spin();
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

inline void st_release_sys_u32(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

inline uint64_t ld_acquire_gpu_u64(const unsigned long long* p) {
  ::simt::yield_spin();
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

}  // namespace km::cuda::ptx

#define KM_IF_ARCH_AT_LEAST(n) if (::km::cuda::ptx::arch() >= (n))
