// The doorbell micro-benchmark (doorbell_bench.cu beside it), in plain C++ so
// keymate_bench (a .cpp file, no CUDA headers) can call it: how long the host
// waits between writing a ring into mapped memory and the armed GPU starting
// work, and, for contrast, what a kernel launch and a graph launch cost.
#pragma once

#include <string>

namespace km::cuda {

struct DoorbellOptions {
  int rings = 10000;   // rings per measured series
  int warmup = 200;    // rings before measuring (clocks up, caches warm)
};

struct Percentiles {
  double min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;  // microseconds
};

// One armed kernel: `blocks` blocks, block 0 polling the doorbell, the others
// waiting at the grid barrier as in the zero-launch kernel.
struct DoorbellSeries {
  int blocks = 0;
  Percentiles round_trip_us;     // host ring -> host sees the answer (host clock)
  Percentiles host_to_seen_us;   // host ring -> block 0 sees it (calibrated clocks)
  Percentiles host_to_start_us;  // host ring -> every block past the barrier (calibrated)
  Percentiles seen_to_start_us;  // block 0 sees -> every block starts (device clock only)
};

struct DoorbellReport {
  std::string device;
  int sms = 0;
  int rings = 0;
  double timer_step_ns = 0;       // smallest nonzero step of %globaltimer seen on the device
  // The host steady_clock -> %globaltimer offset comes from the ring with the
  // shortest round trip (taken as symmetric): calibrated one-way numbers are
  // good to +- half that round trip, plus one timer step.
  double calibration_uncertainty_us = 0;
  DoorbellSeries one_block;       // the doorbell alone
  DoorbellSeries full_grid;       // the grid the zero-launch kernel uses
  Percentiles kernel_launch_sync_us;  // empty kernel <<<1, 32>>> + cudaStreamSynchronize
  Percentiles graph_launch_sync_us;   // a one-node graph + cudaStreamSynchronize
};

// Throws km::Error when no usable GPU is present or a CUDA call fails.
DoorbellReport doorbell_bench(const DoorbellOptions& opts);

}  // namespace km::cuda
