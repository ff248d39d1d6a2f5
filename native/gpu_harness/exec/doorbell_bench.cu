// The doorbell micro-benchmark (exec/doorbell_bench.h): an armed kernel built from
// the very pieces the zero-launch kernel uses (wait_ring, copy_step, the grid
// barrier, the HostDoorbell), serving empty requests, timed from both sides.
//
// Each ring carries a fresh token in the step; the answer echoes the token as
// the LAST block read it from the device copy after the barrier, so every
// measured ring also checks that the step crossed PCIe and the barrier intact
// (a stale echo is an error, not a number).
//
// One-way times need the host's steady_clock and the device's %globaltimer on
// one scale: the ring with the shortest round trip fixes the offset, taking
// its two PCIe legs as equal (NTP's assumption); its half round trip is the
// uncertainty reported with the numbers.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "exec/doorbell.cuh"
#include "exec/doorbell_bench.h"
#include "exec/doorbell_host.cuh"
#include "exec/zero_launch.cuh"

namespace km::cuda {

namespace {

// What block 0 tells the other blocks through the barrier. Two of them, used
// in turn (round & 1): block 0 writes round k + 1's before a slow block may
// have read round k's (nothing orders them but the next barrier), and a block
// that read the newer one would skip a barrier and hang the grid at quit.
// Round k + 2 reuses round k's slot only after barrier k + 1, which every
// block reaches after its read.
struct DoorbellCmd {
  uint32_t seq;     // the request being served; 0 = quit
  uint32_t error;   // DoorbellError
  uint64_t t_seen;  // %globaltimer when block 0 saw the ring
};

__global__ void __launch_bounds__(kThreads) doorbell_kernel(Mailbox* mb, StepState* st, DoorbellCmd* cmds,
                                                            unsigned long long* barrier_count) {
  GridBarrier bar{barrier_count};
  uint32_t served = 0;  // meaningful in block 0, lane 0
  const int lane = threadIdx.x & 31;
  for (uint32_t round = 0;; round++) {
    DoorbellCmd* cmd = &cmds[round & 1];
    if (blockIdx.x == 0 && threadIdx.x < 32) {
      uint32_t seq = 0;
      uint64_t t_seen = 0;
      if (lane == 0) {
        seq = wait_ring(mb, served);
        t_seen = globaltimer_ns();
      }
      seq = __shfl_sync(0xffffffffu, seq, 0);
      __syncwarp();  // orders lane 0's acquire of the ring before every lane's reads of the step
      const bool ok = seq != 0 && copy_step(&mb->req.step, st, lane);
      if (lane == 0) {
        cmd->seq = seq;
        cmd->error = seq != 0 && !ok ? kDoorbellBadStep : kDoorbellOk;
        cmd->t_seen = t_seen;
        served = seq;
      }
    }
    bar.sync();
    const uint32_t seq = cmd->seq;
    if (seq == 0) return;
    if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) {
      DoorbellAnswer* a = &mb->ans;
      a->t_start = globaltimer_ns();
      a->t_seen = cmd->t_seen;
      a->error = cmd->error;
      a->token = st->tokens[0];
      a->t_end = globaltimer_ns();
      __threadfence_system();
      st_release_sys(&a->done, seq);
    }
  }
}

__global__ void timer_step_kernel(uint64_t* out, int n) {
  for (int i = 0; i < n; i++) out[i] = globaltimer_ns();
}

__global__ void empty_kernel() {}

int64_t host_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const double x = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(x), hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (x - static_cast<double>(lo));
  };
  p.min = v.front();
  p.p50 = at(0.5);
  p.p90 = at(0.9);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

double measure_timer_step(cudaStream_t s) {
  constexpr int kReads = 4096;
  DeviceBuffer buf(kReads * sizeof(uint64_t));
  timer_step_kernel<<<1, 1, 0, s>>>(buf.get<uint64_t>(), kReads);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<uint64_t> t(kReads);
  CUDA_CHECK(cudaMemcpy(t.data(), buf.get(), kReads * sizeof(uint64_t), cudaMemcpyDeviceToHost));
  uint64_t step = 0;
  for (int i = 1; i < kReads; i++) {
    const uint64_t d = t[i] - t[i - 1];
    if (d > 0 && (step == 0 || d < step)) step = d;
  }
  return static_cast<double>(step);
}

struct Ring {
  int64_t t0, t1;            // host ns: before the ring, after the answer
  uint64_t seen, start, end;  // device ns
};

// Arms `blocks` blocks, rings warmup + rings times, disarms.
DoorbellSeries run_series(int blocks, const DoorbellOptions& o, cudaStream_t s, double* uncertainty_us) {
  HostDoorbell bell;
  DeviceBuffer step_buf(sizeof(StepState)), cmd_buf(2 * sizeof(DoorbellCmd)), count_buf(sizeof(unsigned long long));
  Mailbox* mb = bell.device();
  auto* st = step_buf.get<StepState>();
  auto* cmd = cmd_buf.get<DoorbellCmd>();
  auto* count = count_buf.get<unsigned long long>();
  // DeviceBuffer zeroes on the legacy stream, which `s` does not wait for.
  CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
  void* args[] = {&mb, &st, &cmd, &count};
  CUDA_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(doorbell_kernel), dim3(blocks),
                                         dim3(kThreads), args, kTileSmem, s));
  const double watchdog = watchdog_ms_from_env();
  std::vector<Ring> rings;
  rings.reserve(static_cast<size_t>(o.rings));
  try {
    for (int i = 0; i < o.warmup + o.rings; i++) {
      const int32_t token = 1000 + i;
      bell.step().pos = 0;
      bell.step().n = 1;
      bell.step().tokens[0] = token;
      Ring r{};
      r.t0 = host_ns();
      const uint32_t seq = bell.ring();
      const DoorbellAnswer& a = bell.wait(seq, watchdog, s, "doorbell");
      r.t1 = host_ns();
      if (a.error) fail("doorbell: the GPU refused ring %u (error %u)", seq, a.error);
      if (a.token != token)
        fail("doorbell: ring %u was answered with token %d, not %d: the step did not reach every block", seq,
             a.token, token);
      r.seen = a.t_seen;
      r.start = a.t_start;
      r.end = a.t_end;
      if (i >= o.warmup) rings.push_back(r);
    }
  } catch (...) {
    bell.quit();
    if (cudaStreamSynchronize(s) != cudaSuccess) bell.leak();
    throw;
  }
  bell.quit();
  CUDA_CHECK(cudaStreamSynchronize(s));

  // Calibration: the shortest round trip, its device-side time taken out.
  size_t best = 0;
  for (size_t i = 1; i < rings.size(); i++)
    if (rings[i].t1 - rings[i].t0 < rings[best].t1 - rings[best].t0) best = i;
  const Ring& b = rings[best];
  const int64_t device_part = static_cast<int64_t>(b.end - b.seen);
  const int64_t leg = (b.t1 - b.t0 - device_part) / 2;
  const int64_t offset = static_cast<int64_t>(b.seen) - (b.t0 + leg);  // device ns - host ns
  *uncertainty_us = static_cast<double>(leg) / 1000.0;

  std::vector<double> rt, seen, start, spread;
  for (const Ring& r : rings) {
    rt.push_back(static_cast<double>(r.t1 - r.t0) / 1000.0);
    seen.push_back(static_cast<double>(static_cast<int64_t>(r.seen) - offset - r.t0) / 1000.0);
    start.push_back(static_cast<double>(static_cast<int64_t>(r.start) - offset - r.t0) / 1000.0);
    spread.push_back(static_cast<double>(static_cast<int64_t>(r.start - r.seen)) / 1000.0);
  }
  DoorbellSeries out;
  out.blocks = blocks;
  out.round_trip_us = percentiles(rt);
  out.host_to_seen_us = percentiles(seen);
  out.host_to_start_us = percentiles(start);
  out.seen_to_start_us = percentiles(spread);
  return out;
}

template <class F>
Percentiles time_calls(int n, int warmup, F&& f) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  for (int i = 0; i < warmup + n; i++) {
    const int64_t t0 = host_ns();
    f();
    const int64_t t1 = host_ns();
    if (i >= warmup) us.push_back(static_cast<double>(t1 - t0) / 1000.0);
  }
  return percentiles(us);
}

}  // namespace

DoorbellReport doorbell_bench(const DoorbellOptions& o) {
  if (o.rings < 1 || o.warmup < 0) fail("doorbell: rings %d must be >= 1 and warmup %d >= 0", o.rings, o.warmup);
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  DoorbellReport r;
  r.device = prop.name;
  r.rings = o.rings;

  // Non-blocking: the armed kernel must never be waited on by work another
  // part of the process issues on the legacy default stream.
  cudaStream_t s = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  struct StreamGuard {
    cudaStream_t s;
    ~StreamGuard() { cudaStreamDestroy(s); }
  } guard{s};

  r.timer_step_ns = measure_timer_step(s);
  // Zero-launch's own grid for its own kernel, so the full-grid series is the
  // path a key press takes.
  int sms = 0;
  const int full = zero_launch_grid_blocks(&sms);
  armed_grid(reinterpret_cast<const void*>(doorbell_kernel), kTileSmem, 0, nullptr, "doorbell");
  int per_sm = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, doorbell_kernel, kThreads, kTileSmem));
  if (full > sms * per_sm)
    fail("doorbell: the zero-launch grid (%d blocks) does not fit this kernel's residency (%d)", full, sms * per_sm);
  r.sms = sms;

  double u1 = 0, u2 = 0;
  r.one_block = run_series(1, o, s, &u1);
  r.full_grid = run_series(full, o, s, &u2);
  r.calibration_uncertainty_us = std::max(u1, u2) + r.timer_step_ns / 1000.0;

  // The costs the doorbell replaces, each call waited for as a step would be.
  r.kernel_launch_sync_us = time_calls(o.rings, o.warmup, [&] {
    empty_kernel<<<1, 32, 0, s>>>();
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(s));
  });
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  empty_kernel<<<1, 32, 0, s>>>();
  CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  struct GraphGuard {
    cudaGraph_t& g;
    cudaGraphExec_t& e;
    ~GraphGuard() {
      if (e) cudaGraphExecDestroy(e);
      if (g) cudaGraphDestroy(g);
    }
  } gguard{graph, exec};
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  r.graph_launch_sync_us = time_calls(o.rings, o.warmup, [&] {
    CUDA_CHECK(cudaGraphLaunch(exec, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
  });
  return r;
}

}  // namespace km::cuda
