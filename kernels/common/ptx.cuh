// Every inline PTX instruction the kernels use, each wrapped once as a small
// device function, so no other file holds asm. Why one place: the SIMT test
// harness (native/tests/simt) runs the kernels on the CPU, where asm cannot
// run; under KEYMATE_SIMT each function here is its host twin instead (the
// warp-collective mma with PTX's fragment layouts, acquire/release loads and
// stores as host atomics, the timer as the host clock). The harness's
// translator refuses asm anywhere else, so a new PTX instruction cannot reach
// a test run as a kernel that silently does nothing: add it here, with its twin.
//
// The asm strings are the ones the kernels had inline, so nvcc emits the same
// PTX as before.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#ifdef KEYMATE_SIMT
#include "simt/ptx_twins.h"
#else

namespace km::cuda::ptx {

// The compute capability the code is compiled for (100 * major + 10 * minor),
// 0 in host code; the harness's twin answers the stand-in device's at run time.
__host__ __device__ constexpr int arch() {
#ifdef __CUDA_ARCH__
  return __CUDA_ARCH__;
#else
  return 0;
#endif
}

// D = A x B + C for one warp: A 16x16 f16 (row), B 16x8 f16 (col), C/D 16x8 f32,
// in the per-lane fragment layout of the PTX ISA (sm_80 and later).
__device__ __forceinline__ void mma_m16n8k16_f32_f16(float* c, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// The same with k = 8 (Turing's largest f16 shape): A 16x8 in a0, a1; B 8x8 in b0.
__device__ __forceinline__ void mma_m16n8k8_f32_f16(float* c, uint32_t a0, uint32_t a1, uint32_t b0) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(b0));
}

// D = A x B + C for one warp in integers: A 16x32 s8 (row), B 32x8 s8 (col),
// C/D 16x8 s32 (sm_80 and later). Exact: no int32 sum here can overflow.
__device__ __forceinline__ void mma_m16n8k32_s32_s8(int* c, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Turing's integer shape: A 8x16 s8 in a0, B 16x8 s8 in b0, C/D 8x8 s32 in c[0..1].
__device__ __forceinline__ void mma_m8n8k16_s32_s8(int* c, uint32_t a0, uint32_t b0) {
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%0, %1}, {%2}, {%3}, {%0, %1};\n"
               : "+r"(c[0]), "+r"(c[1])
               : "r"(a0), "r"(b0));
}

// 16 bytes through the read-only path, allocating nothing in L1.
__device__ __forceinline__ uint4 ld_global_nc_v4_no_allocate(const void* p) {
  uint4 v;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
      : "l"(p));
  return v;
}

// The global nanosecond timer.
__device__ __forceinline__ uint64_t globaltimer() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ uint32_t ld_acquire_sys_u32(const uint32_t* p) {
  uint32_t v;
  asm volatile("ld.acquire.sys.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void st_release_sys_u32(uint32_t* p, uint32_t v) {
  asm volatile("st.release.sys.global.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}

__device__ __forceinline__ uint64_t ld_acquire_gpu_u64(const unsigned long long* p) {
  unsigned long long v;
  asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

}  // namespace km::cuda::ptx

// A choice by architecture: at compile time under nvcc (no code for the other
// architecture is emitted), at run time in the harness.
#define KM_IF_ARCH_AT_LEAST(n) if constexpr (::km::cuda::ptx::arch() >= (n))

#endif  // KEYMATE_SIMT
