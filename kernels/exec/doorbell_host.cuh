// The host's side of the doorbell (exec/doorbell.cuh): the mapped Mailbox,
// ringing, waiting for the answer with a watchdog, and sizing the armed grid.
// Shared by the zero-launch executor and the doorbell micro-benchmark.
//
// Waiting spins on `done` in the host's own cache (the device's PCIe write
// invalidates the line), with a pause instruction, and looks at the clock and
// at the kernel's stream only every so often: a hung or crashed kernel turns
// into a km::Error, never an endless spin.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/check.cuh"
#include "exec/doorbell.cuh"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace km::cuda {

// How long the host waits for an answer before declaring the GPU hung; the
// first prefill of a big model on a small GPU takes well under a second.
constexpr double kDefaultWatchdogMs = 10000;

// KEYMATE_ZL_WATCHDOG_MS overrides the default (tests, slow GPUs).
inline double watchdog_ms_from_env() {
  const char* v = std::getenv("KEYMATE_ZL_WATCHDOG_MS");
  if (!v || !*v) return kDefaultWatchdogMs;
  char* end = nullptr;
  const double ms = std::strtod(v, &end);
  if (*end || ms <= 0) fail("KEYMATE_ZL_WATCHDOG_MS=%s: not a positive number of milliseconds", v);
  return ms;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

class HostDoorbell {
 public:
  HostDoorbell() {
    void* p = nullptr;
    CUDA_CHECK(cudaHostAlloc(&p, sizeof(Mailbox), cudaHostAllocMapped | cudaHostAllocPortable));
    host_ = static_cast<Mailbox*>(p);
    std::memset(static_cast<void*>(host_), 0, sizeof(Mailbox));
    const cudaError_t e = cudaHostGetDevicePointer(reinterpret_cast<void**>(&dev_), p, 0);
    if (e != cudaSuccess) {
      cudaFreeHost(p);
      fail("zero-launch: cannot map the doorbell into the device (%s): this GPU or driver does not support "
           "mapped pinned memory; use --path graph",
           cudaGetErrorString(e));
    }
  }
  ~HostDoorbell() {
    if (host_ && !leaked_) cudaFreeHost(host_);  // no check: destructor, and the context may be gone
  }
  HostDoorbell(const HostDoorbell&) = delete;
  HostDoorbell& operator=(const HostDoorbell&) = delete;

  Mailbox* device() const { return dev_; }
  StepState& step() { return host_->req.step; }  // write, then ring()
  const DoorbellAnswer& answer() const { return host_->ans; }
  void set_profile(bool on) { host_->req.profile = on ? 1u : 0u; }

  // Publishes everything written so far, then the new sequence number.
  uint32_t ring() {
    const uint32_t seq = ++seq_;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    __atomic_store_n(&host_->req.ring, seq, __ATOMIC_RELEASE);
    return seq;
  }

  void quit() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    __atomic_store_n(&host_->req.quit, 1u, __ATOMIC_RELEASE);
  }

  // Spins until the device answered `seq`. Throws when `timeout_ms` passes
  // first, or when the kernel on `stream` failed or returned.
  const DoorbellAnswer& wait(uint32_t seq, double timeout_ms, cudaStream_t stream, const char* who) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    auto next_query = t0 + std::chrono::milliseconds(1);
    for (unsigned spin = 1;; spin++) {
      if (__atomic_load_n(&host_->ans.done, __ATOMIC_ACQUIRE) == seq) return host_->ans;
      cpu_relax();
      if (spin % 256) continue;
      const auto now = clock::now();
      if (now >= next_query) {
        next_query = now + std::chrono::milliseconds(1);
        const cudaError_t e = cudaStreamQuery(stream);
        if (e == cudaSuccess) fail("%s: the armed kernel returned without answering ring %u", who, seq);
        if (e != cudaErrorNotReady)
          fail("%s: the armed kernel failed: %s (%s)", who, cudaGetErrorString(e), cudaGetErrorName(e));
      }
      const double ms = std::chrono::duration<double, std::milli>(now - t0).count();
      if (ms > timeout_ms)
        fail("%s: the GPU did not answer in %.0f ms (watchdog; KEYMATE_ZL_WATCHDOG_MS sets it)", who, timeout_ms);
    }
  }

  // The kernel may still read the mailbox (it hung): never free it.
  void leak() { leaked_ = true; }

 private:
  Mailbox* host_ = nullptr;
  Mailbox* dev_ = nullptr;
  uint32_t seq_ = 0;
  bool leaked_ = false;
};

// How many blocks of `kernel` can be resident at once on the current device
// (SMs x blocks per SM at kThreads threads and `smem` bytes), i.e. the grid a
// cooperative launch accepts. `per_sm_cap` > 0 limits blocks per SM. Throws
// a clear error where the device cannot run an armed kernel at all.
inline int armed_grid(const void* kernel, int smem, int per_sm_cap, int* sms_out, const char* who) {
  int dev = 0, coop = 0, sms = 0, per_sm = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  if (!coop)
    fail("%s: this device does not support cooperative launches, which an armed kernel needs; use --path graph",
         who);
  // A GPU that drives a display runs a watchdog that ends any kernel running
  // longer than a few seconds, and takes the CUDA context with it: an armed
  // kernel runs for as long as the model is loaded, so it would be killed.
  int watchdog = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&watchdog, cudaDevAttrKernelExecTimeout, dev));
  if (watchdog)
    fail("%s: this GPU drives a display, and its driver ends any kernel that runs longer than a few seconds, which "
         "an armed kernel does; use --path graph (or a GPU without a display)",
         who);
  CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem));
  if (per_sm < 1)
    fail("%s: not one block of %d threads with %d bytes of shared memory fits an SM of this device; use --path "
         "graph",
         who, kThreads, smem);
  if (per_sm_cap > 0 && per_sm > per_sm_cap) per_sm = per_sm_cap;
  if (sms_out) *sms_out = sms;
  return sms * per_sm;
}

}  // namespace km::cuda
