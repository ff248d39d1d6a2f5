// The doorbell: how the host and an armed (persistent) kernel signal each
// other without a launch or a copy, shared by the zero-launch executor and the
// doorbell micro-benchmark.
//
// The Mailbox lives in pinned host memory mapped into the device's address
// space (cudaHostAlloc Mapped|Portable). The host writes a request, then the
// ring sequence number; one device thread polls `ring` over PCIe and, seeing
// a number it has not served, serves it and writes the answer, then `done`.
// Sequence numbers, not flags: the device compares `ring` with the number it
// served last, so a ring is never missed (no edge to lose) and never served
// twice (a request is served only when ring != served).
//
// Only one device thread touches mapped memory while waiting: every block
// polling PCIe would flood the link with reads and slow the poll it waits on.
// The other blocks wait at the grid barrier below, on a counter in L2.
//
// Memory ordering (PTX memory model): the host's stores reach the device in
// program order (x86 is TSO and the host fences before the ring); the device
// reads the ring with ld.acquire.sys, so the request's fields read after it
// are the ones written before it; it publishes answers with a system-scope
// fence before the st.release.sys of `done`.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/op.cuh"
#include "common/ptx.cuh"

namespace km::cuda {

// Stages timed on the device; the order of Stage in exec/program.cuh.
constexpr int kMaxStages = 8;

// Host -> device. One cache line group of its own, so the device's polling
// never shares a line with the answers it writes.
struct alignas(64) DoorbellRequest {
  uint32_t ring;       // sequence of the newest request (1, 2, ...); 0 = none yet
  uint32_t quit;       // 1: return from the kernel instead of serving
  uint32_t profile;    // 1: stamp %globaltimer at every stage boundary
  uint32_t reserved;
  StepState step;      // the step to run, complete before `ring` is written
};

// Device -> host.
struct alignas(64) DoorbellAnswer {
  uint32_t done;       // sequence of the last request served
  uint32_t error;      // nonzero: the device refused the request (DoorbellError)
  int32_t token;       // the sampled token of the step (when the program samples)
  uint32_t reserved;
  uint64_t t_seen;     // %globaltimer (ns) when the ring was seen
  uint64_t t_start;    // when every block had left the wait (work starts)
  uint64_t t_end;      // when the last instruction's barrier was passed
  uint64_t stage_ns[kMaxStages];  // device time per Stage (profile only; else 0)
};

struct Mailbox {
  DoorbellRequest req;
  DoorbellAnswer ans;
};

enum DoorbellError : uint32_t {
  kDoorbellOk = 0,
  kDoorbellBadStep = 1,  // n outside 1..kMaxStepTokens or pos < 0
};

// ---- device side ---------------------------------------------------------------

__device__ __forceinline__ uint64_t globaltimer_ns() { return ptx::globaltimer(); }

__device__ __forceinline__ uint32_t ld_acquire_sys(const uint32_t* p) { return ptx::ld_acquire_sys_u32(p); }

__device__ __forceinline__ void st_release_sys(uint32_t* p, uint32_t v) { ptx::st_release_sys_u32(p, v); }

__device__ __forceinline__ uint64_t ld_acquire_gpu(const unsigned long long* p) { return ptx::ld_acquire_gpu_u64(p); }

// Backoff while waiting: short sleeps while requests come close together
// (a decode stream, the benchmark), longer once idle, so an armed but idle GPU
// is not hammering PCIe or L2. The idle cap adds at most kIdleSleepNs to the
// first step after a pause: ~0.1% of a 7B time to first token.
constexpr unsigned kHotSleepNs = 64;         // cap while a request came within kIdleAfterNs
constexpr unsigned kIdleSleepNs = 2000;      // cap once idle
constexpr uint64_t kIdleAfterNs = 2000000;   // 2 ms without a request = idle

struct Backoff {
  unsigned ns = 16;
  uint64_t since;
  __device__ explicit Backoff(uint64_t t0) : since(t0) {}
  __device__ void wait() {
    __nanosleep(ns);
    const unsigned cap = globaltimer_ns() - since > kIdleAfterNs ? kIdleSleepNs : kHotSleepNs;
    ns = ns * 2 > cap ? cap : ns * 2;
  }
};

// One thread waits for a ring it has not served. Returns the new sequence,
// or 0 when `quit` was set.
__device__ __forceinline__ uint32_t wait_ring(const Mailbox* mb, uint32_t served) {
  Backoff b(globaltimer_ns());
  for (;;) {
    const uint32_t r = ld_acquire_sys(&mb->req.ring);
    if (r != served) return ld_acquire_sys(&mb->req.quit) ? 0u : r;
    if (ld_acquire_sys(&mb->req.quit)) return 0u;
    b.wait();
  }
}

// Grid-wide barrier for a co-resident grid (cooperative launch guarantees
// that every block is resident, without which a barrier deadlocks).
// A ticket counter rather than count + sense: the 64-bit counter only grows,
// so there is no reset to race with and no wrap in any realistic lifetime
// (2^64 arrivals). Block b's k-th barrier completes once the counter reaches
// k * gridDim.x; every block passes the same barriers in the same order.
//
// Why our own and not cooperative_groups::grid_group::sync(): the same
// acquire/release code serves the doorbell (block 0 arrives only after it has
// seen the ring, so the barrier is also how the ring reaches every block), the
// waiting uses the idle backoff above, and no relocatable device code is
// needed.
//
// Ordering: __syncthreads() gathers the block's writes under thread 0, whose
// __threadfence() + atomicAdd is a release at gpu scope; the acquire load that
// sees the final count (CCTL.IVALL in SASS: the SM's L1 is invalidated) and
// the second __syncthreads() make every block's writes before the barrier
// visible to every thread after it, plain loads through L1 included.
struct GridBarrier {
  unsigned long long* count;  // device global, zeroed before the launch
  unsigned long long target = 0;

  __device__ void sync() {
    __syncthreads();
    target += gridDim.x;
    if (threadIdx.x == 0) {
      __threadfence();
      atomicAdd(count, 1ull);
      Backoff b(globaltimer_ns());
      while (static_cast<long long>(ld_acquire_gpu(count) - target) < 0) b.wait();
    }
    __syncthreads();
  }
};

// Copies the request's step into the device-global StepState the ops read.
// One warp, called after the ring was acquired (and a __syncwarp): the whole
// struct is read word by word with independent volatile loads (no L1 copy of
// host memory can be stale), so the copy costs one PCIe round trip, not one
// per field. Returns false when the step is invalid.
__device__ __forceinline__ bool copy_step(const StepState* from, StepState* to, int lane) {
  static_assert(sizeof(StepState) % 4 == 0, "StepState is copied as 32-bit words");
  constexpr int kWords = sizeof(StepState) / 4;
  const volatile uint32_t* src = reinterpret_cast<const volatile uint32_t*>(from);
  uint32_t* dst = reinterpret_cast<uint32_t*>(to);
  for (int i = lane; i < kWords; i += 32) dst[i] = src[i];
  __syncwarp();
  const int n = to->n, pos = to->pos;
  return n >= 1 && n <= kMaxStepTokens && pos >= 0;
}

}  // namespace km::cuda
