// Small device helpers every op shares: deterministic warp and block
// reductions (a fixed butterfly, so a sum is the same bits run after run) and
// the compute capability of the current device.
#pragma once

#include <cuda_runtime.h>

#include "common/check.cuh"
#include "common/op.cuh"

namespace km::cuda {

constexpr int kWarp = 32;
constexpr int kWarps = kThreads / kWarp;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the tile's kThreads threads; every thread gets the result. `red`
// is kWarps floats of shared memory. The barrier before the partials are
// written lets every reader of the previous call finish first, so it may be
// called back to back with the same `red`; the one after makes all the
// partials visible before any thread reads them. It ends with reads, not a
// barrier: a caller that writes `red` itself must sync first.
__device__ __forceinline__ float block_sum(float v, float* red) {
  v = warp_sum(v);
  __syncthreads();
  if ((threadIdx.x & (kWarp - 1)) == 0) red[threadIdx.x / kWarp] = v;
  __syncthreads();
  float s = 0.0f;
#pragma unroll
  for (int w = 0; w < kWarps; w++) s += red[w];  // same order in every thread
  return s;
}

__device__ __forceinline__ float block_max(float v, float* red) {
  v = warp_max(v);
  __syncthreads();
  if ((threadIdx.x & (kWarp - 1)) == 0) red[threadIdx.x / kWarp] = v;
  __syncthreads();
  float m = red[0];
#pragma unroll
  for (int w = 1; w < kWarps; w++) m = fmaxf(m, red[w]);
  return m;
}

// sm_XX of the current device, e.g. 89.
inline int device_cc() {
  int dev = 0, major = 0, minor = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  return major * 10 + minor;
}

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace km::cuda
