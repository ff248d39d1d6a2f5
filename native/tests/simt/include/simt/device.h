// CUDA's execution model for kernel code compiled by the host compiler: the
// keywords, a thread's indices, barriers, warp collectives, atomics and the
// intrinsics kernels/ uses. Each CUDA thread is a fiber of the harness's
// scheduler (src/scheduler.cpp); everything here that waits for other threads
// switches fibers, so a missing barrier or a diverged warp shows up as a
// wrong value or a named error, not as luck.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "simt/types.h"

// ---- keywords -------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__  // empty: libstdc++ itself spells __attribute__((__noinline__))
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))
#define __constant__

constexpr int warpSize = 32;

namespace simt {

// The running CUDA thread; only the device thread runs kernel code.
struct ThreadCtx {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern ThreadCtx* g_self;

// The stand-in device's compute capability as __CUDA_ARCH__ spells it (800).
int cuda_arch();

void syncthreads(const char* file, int line);
int syncthreads_count(int pred, const char* file, int line);

enum class Coll : uint8_t { SyncWarp, Shfl, Ballot, Mma };
constexpr int kSlotBytes = 48;
// Deposits this lane's `n` bytes, waits until every lane of `mask` has
// deposited at the same collective, and returns the 32 lanes' slots
// (kSlotBytes apart) of this exchange. Reports a mask without the caller, a
// mask naming an exited lane, and lanes meeting at different collectives.
const unsigned char* warp_exchange(unsigned mask, Coll kind, const void* mine, int n, const char* what,
                                   const char* file, int line);
// Reports a shuffle reading lane `src` that is not in `mask`.
void check_source_lane(unsigned mask, int src, const char* what, const char* file, int line);
unsigned lane_id();
unsigned active_mask();
// A spin-wait point (__nanosleep, acquire loads, failed CAS): other threads run.
void yield_spin();

template <class T>
T shfl(const char* what, const char* file, int line, unsigned mask, T v, int mode, int arg, int width) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffles move up to 8 bytes");
  const unsigned char* slots = warp_exchange(mask, Coll::Shfl, &v, sizeof(T), what, file, line);
  const int lane = (int)lane_id();
  const int base = lane & ~(width - 1);
  int src = lane;
  switch (mode) {
    case 0: src = base + (arg & (width - 1)); break;                // idx
    case 1: src = lane - arg; if (src < base) src = lane; break;    // up
    case 2: src = lane + arg; if (src >= base + width) src = lane; break;  // down
    case 3: src = lane ^ arg; if (src >= base + width) src = lane; break;  // xor
  }
  if (src != lane) check_source_lane(mask, src, what, file, line);
  T r;
  std::memcpy(&r, slots + src * kSlotBytes, sizeof(T));
  return r;
}

inline unsigned ballot(const char* file, int line, unsigned mask, int pred) {
  const int mine = pred != 0;
  const unsigned char* slots = warp_exchange(mask, Coll::Ballot, &mine, sizeof mine, "__ballot_sync", file, line);
  unsigned r = 0;
  for (int l = 0; l < 32; l++) {
    int p;
    std::memcpy(&p, slots + l * kSlotBytes, sizeof p);
    if ((mask >> l & 1u) && p) r |= 1u << l;
  }
  return r;
}

// ---- atomics: real ones, since mapped memory is shared with host threads ----------
template <class T>
T atomic_cas(T* p, T expect, T desired) {
  __atomic_compare_exchange_n(p, &expect, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expect;
}
template <class T, class F>
T atomic_update(T* p, F f) {  // CAS loop for what the host has no fetch-op for
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(p, &old, f(old), false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T>
T atomic_update_float(T* p, T v) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
  using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  U* u = reinterpret_cast<U*>(p);
  U old = __atomic_load_n(u, __ATOMIC_RELAXED);
  for (;;) {
    T f;
    std::memcpy(&f, &old, sizeof f);
    f += v;
    U nu;
    std::memcpy(&nu, &f, sizeof nu);
    if (__atomic_compare_exchange_n(u, &old, nu, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
      std::memcpy(&f, &old, sizeof f);
      return f;
    }
  }
}

}  // namespace simt

inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

// ---- indices --------------------------------------------------------------------
#define threadIdx (::simt::g_self->thread_idx)
#define blockIdx (::simt::g_self->block_idx)
#define blockDim (::simt::g_self->block_dim)
#define gridDim (::simt::g_self->grid_dim)

// ---- barriers and warp collectives -------------------------------------------------
#define __syncthreads() ::simt::syncthreads(__FILE__, __LINE__)
#define __syncthreads_count(p) ::simt::syncthreads_count((p), __FILE__, __LINE__)
#define __syncthreads_or(p) (::simt::syncthreads_count((p), __FILE__, __LINE__) != 0)
#define __syncthreads_and(p) (::simt::syncthreads_count((p), __FILE__, __LINE__) == (int)(blockDim.x * blockDim.y * blockDim.z))
#define __syncwarp(...) ::simt::syncwarp(__FILE__, __LINE__, ##__VA_ARGS__)
#define __shfl_sync(...) ::simt::shfl_idx(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::simt::shfl_up(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::simt::shfl_down(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::simt::shfl_xor(__FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(m, p) ::simt::ballot(__FILE__, __LINE__, (m), (p))
#define __any_sync(m, p) (::simt::ballot(__FILE__, __LINE__, (m), (p)) != 0u)
#define __all_sync(m, p) (::simt::ballot(__FILE__, __LINE__, (m), (p)) == (unsigned)(m))

namespace simt {
inline void syncwarp(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_exchange(mask, Coll::SyncWarp, nullptr, 0, "__syncwarp", file, line);
}
template <class T>
T shfl_idx(const char* f, int l, unsigned mask, T v, int src, int width = 32) {
  return shfl("__shfl_sync", f, l, mask, v, 0, src, width);
}
template <class T>
T shfl_up(const char* f, int l, unsigned mask, T v, unsigned d, int width = 32) {
  return shfl("__shfl_up_sync", f, l, mask, v, 1, (int)d, width);
}
template <class T>
T shfl_down(const char* f, int l, unsigned mask, T v, unsigned d, int width = 32) {
  return shfl("__shfl_down_sync", f, l, mask, v, 2, (int)d, width);
}
template <class T>
T shfl_xor(const char* f, int l, unsigned mask, T v, int m, int width = 32) {
  return shfl("__shfl_xor_sync", f, l, mask, v, 3, m, width);
}
}  // namespace simt

inline unsigned __activemask() { return ::simt::active_mask(); }

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __nanosleep(unsigned) { ::simt::yield_spin(); }

inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline float atomicAdd(float* p, float v) { return ::simt::atomic_update_float(p, v); }
inline double atomicAdd(double* p, double v) { return ::simt::atomic_update_float(p, v); }
inline int atomicSub(int* p, int v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicExch(unsigned long long* p, unsigned long long v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
inline float atomicExch(float* p, float v) {
  const unsigned old = __atomic_exchange_n(reinterpret_cast<unsigned*>(p), __float_as_uint(v), __ATOMIC_SEQ_CST);
  return __uint_as_float(old);
}
template <class T>
T simt_atomic_cas_yield(T* p, T c, T v) {
  const T old = ::simt::atomic_cas(p, c, v);
  if (old != c) ::simt::yield_spin();  // a failed CAS is usually a spin: let the holder run
  return old;
}
inline int atomicCAS(int* p, int c, int v) { return simt_atomic_cas_yield(p, c, v); }
inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { return simt_atomic_cas_yield(p, c, v); }
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v) {
  return simt_atomic_cas_yield(p, c, v);
}
inline int atomicMax(int* p, int v) { return ::simt::atomic_update(p, [v](int o) { return o > v ? o : v; }); }
inline unsigned atomicMax(unsigned* p, unsigned v) {
  return ::simt::atomic_update(p, [v](unsigned o) { return o > v ? o : v; });
}
inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) {
  return ::simt::atomic_update(p, [v](unsigned long long o) { return o > v ? o : v; });
}
inline int atomicMin(int* p, int v) { return ::simt::atomic_update(p, [v](int o) { return o < v ? o : v; }); }
inline unsigned atomicMin(unsigned* p, unsigned v) {
  return ::simt::atomic_update(p, [v](unsigned o) { return o < v ? o : v; });
}
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  return ::simt::atomic_update(p, [v](unsigned long long o) { return o < v ? o : v; });
}
inline unsigned atomicInc(unsigned* p, unsigned v) {
  return ::simt::atomic_update(p, [v](unsigned o) { return o >= v ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned v) {
  return ::simt::atomic_update(p, [v](unsigned o) { return (o == 0 || o > v) ? v : o - 1; });
}

// ---- intrinsics -----------------------------------------------------------------
template <class T>
inline T __ldg(const T* p) { return *p; }

inline float __int_as_float(int u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int u; std::memcpy(&u, &f, 4); return u; }
inline double __longlong_as_double(long long u) { double f; std::memcpy(&f, &u, 8); return f; }
inline long long __double_as_longlong(double f) { long long u; std::memcpy(&u, &f, 8); return u; }

// r.byte[n] = {y, x}.byte[(s >> 4n) & 7]
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  const uint64_t v = (uint64_t)y << 32 | x;
  unsigned r = 0;
  for (int n = 0; n < 4; n++) r |= (unsigned)((v >> (8 * ((s >> (4 * n)) & 7u))) & 0xffu) << (8 * n);
  return r;
}
inline int __dp4a(int a, int b, int c) {
  for (int i = 0; i < 4; i++) c += (int)(int8_t)(a >> (8 * i)) * (int)(int8_t)(b >> (8 * i));
  return c;
}
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  for (int i = 0; i < 4; i++) c += ((a >> (8 * i)) & 0xffu) * ((b >> (8 * i)) & 0xffu);
  return c;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; i++) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}

// The fast-math intrinsics as the plain functions: the harness checks logic,
// not the GPU's approximation errors (tolerances cover those).
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
