// CUDA_CHECK: every CUDA runtime call goes through it. A failure becomes a
// km::Error naming the call, where it was made and what CUDA said, so the
// engine can report it and fall back to the CPU; nothing here aborts.
#pragma once

#include <cuda_runtime.h>

#include <atomic>

#include "keymate/error.h"

namespace km::cuda {

// Set once a kernel is known to run for ever (an armed kernel that neither
// answered nor quit). From then on nothing may wait on the device: cudaFree,
// cudaFreeHost, cudaDeviceSynchronize and friends would wait for that kernel,
// so memory and streams are abandoned instead, and no CUDA backend is made
// again in this process (the engine runs on the CPU; a restart frees the GPU).
inline std::atomic<bool>& device_stuck() {
  static std::atomic<bool> stuck{false};
  return stuck;
}

[[noreturn]] inline void cuda_fail(cudaError_t err, const char* call, const char* file, int line) {
  fail("cuda: %s failed at %s:%d: %s (%s)", call, file, line, cudaGetErrorString(err), cudaGetErrorName(err));
}

}  // namespace km::cuda

#define CUDA_CHECK(call)                                                        \
  do {                                                                          \
    const cudaError_t km_err_ = (call);                                         \
    if (km_err_ != cudaSuccess) ::km::cuda::cuda_fail(km_err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: a bad configuration shows up here, not at the next call.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
