// The grid barrier of exec/doorbell.cuh on its own: every block's writes
// before a GridBarrier::sync() are seen by every thread of every block after
// it, round after round.
//
// The kernels that use it order their writes before the barrier by other
// means (zero-launch's tile loop ends with a __syncthreads(); the doorbell
// bench writes only from warp 0, after a __syncwarp()), so they cannot show
// that the barrier's first __syncthreads() (which gathers a block's writes
// under thread 0 before it arrives) is what orders the writes. Here nothing
// else does. Warps of one block finish their work at different times on a
// GPU; here warp 0 (whose thread 0 arrives for the block) is fast and the
// others sleep (a spin-wait point: other threads run) a number of times set
// by their block, warp and round before they write, so without that
// __syncthreads() thread 0 arrives while a slow warp of its block has not
// written, and a block whose warps were quicker that round passes and reads
// the old value. Every schedule shows it (ctest runs this under run-ahead,
// round-robin, reverse and seeded random ones).
//
// Translated with the SIMT harness and built into keymate_simt_tests (the
// gpu_exec group): the harness runs it; the real-GPU test build does not.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "exec/doorbell.cuh"
#include "test.h"

namespace {

constexpr int kBlocks = 4;
constexpr int kThreadsPerBlock = 128;  // four warps: warp 0 arrives, three may be late
constexpr int kRounds = 48;
constexpr int kMaxSleeps = 5;          // warps 1-3 sleep 0..kMaxSleeps-1 times before they write
constexpr int kValues = kBlocks * kThreadsPerBlock;

// What thread `t` of block `b` writes in round `r`: a value no other
// (block, thread, round) writes, so a stale or foreign value is named.
__host__ __device__ uint32_t stamp(uint32_t b, uint32_t t, uint32_t r) { return (r + 1) << 20 | b << 10 | t; }

struct Mismatch {
  uint32_t count;  // values read wrong, all rounds
  uint32_t got, want, reader;  // the first one: the value, the expected value, the reader's stamp
};

// slots: two rounds' values (round r uses half r & 1), so a block that is
// already writing round r + 1 never overwrites what a slower block still reads
// of round r; round r + 2 reuses the half only after barrier r + 1, which
// every block reaches after its reads.
__global__ void grid_barrier_kernel(unsigned long long* count, uint32_t* slots, Mismatch* bad) {
  km::cuda::GridBarrier bar{count};
  const int warp = threadIdx.x / 32;
  for (uint32_t r = 0; r < kRounds; r++) {
    uint32_t* v = slots + (r & 1) * kValues;
    // Slow warps: 0 to kMaxSleeps - 1 sleeps by block, warp and round, so
    // blocks get past the barrier at different times, some while another
    // block's slow warp still sleeps.
    for (int s = warp * (blockIdx.x + r + 1) % kMaxSleeps; s > 0; s--) __nanosleep(100);
    v[blockIdx.x * blockDim.x + threadIdx.x] = stamp(blockIdx.x, threadIdx.x, r);
    bar.sync();
    for (uint32_t b = 0; b < gridDim.x; b++) {
      if (b == blockIdx.x) continue;  // its own block's values: __syncthreads() orders those anyway
      for (uint32_t t = 0; t < blockDim.x; t++) {
        const uint32_t got = v[b * blockDim.x + t], want = stamp(b, t, r);
        if (got != want && atomicAdd(&bad->count, 1u) == 0) {
          bad->got = got;
          bad->want = want;
          bad->reader = stamp(blockIdx.x, threadIdx.x, r);
        }
      }
    }
  }
}

#define CUDA_OK(call) REQUIRE((call) == cudaSuccess)

TEST(gpu_exec, grid_barrier_shows_every_blocks_writes_to_every_thread_after_it) {
  int per_sm = 0, sms = 0;
  CUDA_OK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, grid_barrier_kernel, kThreadsPerBlock, 0));
  CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  REQUIRE(per_sm * sms >= kBlocks);  // co-resident, as a grid barrier needs
  unsigned long long* count = nullptr;
  uint32_t* slots = nullptr;
  Mismatch* bad = nullptr;
  CUDA_OK(cudaMalloc(&count, sizeof *count));
  CUDA_OK(cudaMalloc(&slots, 2 * kValues * sizeof *slots));
  CUDA_OK(cudaMalloc(&bad, sizeof *bad));
  CUDA_OK(cudaMemset(count, 0, sizeof *count));
  CUDA_OK(cudaMemset(slots, 0, 2 * kValues * sizeof *slots));
  CUDA_OK(cudaMemset(bad, 0, sizeof *bad));
  CUDA_OK(cudaDeviceSynchronize());
  void* args[] = {&count, &slots, &bad};
  CUDA_OK(cudaLaunchCooperativeKernel(grid_barrier_kernel, dim3(kBlocks), dim3(kThreadsPerBlock), args, 0, 0));
  CUDA_OK(cudaDeviceSynchronize());
  Mismatch m{};
  unsigned long long arrivals = 0;
  CUDA_OK(cudaMemcpy(&m, bad, sizeof m, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(&arrivals, count, sizeof arrivals, cudaMemcpyDeviceToHost));
  auto who = [](uint32_t s) {
    char buf[64];
    if (s == 0) return std::string("nothing written yet");
    std::snprintf(buf, sizeof buf, "block %u thread %u round %u", s >> 10 & 1023, s & 1023, (s >> 20) - 1);
    return std::string(buf);
  };
  if (m.count)
    std::fprintf(stderr, "grid barrier: %u values read wrong; first: %s read %s, not %s\n", m.count,
                 who(m.reader).c_str(), who(m.got).c_str(), who(m.want).c_str());
  CHECK_EQ(m.count, 0u);
  CHECK_EQ(arrivals, static_cast<unsigned long long>(kBlocks) * kRounds);
  cudaFree(count);
  cudaFree(slots);
  cudaFree(bad);
}

}  // namespace
