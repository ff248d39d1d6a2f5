// The stand-in device and the run's choices, read once from the environment:
//   KEYMATE_SIMT_CC              compute capability, e.g. 75, 80 (default), 86, 89, 90
//   KEYMATE_SIMT_SMS             streaming multiprocessors (default 4)
//   KEYMATE_SIMT_SCHEDULE        round-robin (default) | reverse | random:SEED | run-ahead
//   KEYMATE_SIMT_STREAMS         fifo (default) | reverse | random:SEED: the order in which
//                                ready work of different streams starts (reverse and
//                                random also hold work back until the host waits, so
//                                a missing ordering between streams shows up)
//   KEYMATE_SIMT_EXEC_TIMEOUT    1: cudaDevAttrKernelExecTimeout reports a display watchdog
#pragma once

#include <cstddef>
#include <cstdint>

namespace simt {

enum class Schedule;
enum class StreamOrder { Fifo, Reverse, Random };

struct DeviceConfig {
  int cc = 80;
  int sms = 4;
  int max_threads_per_sm = 2048;
  int max_blocks_per_sm = 32;
  size_t smem_per_sm = 164 * 1024;
  size_t smem_per_block_optin = 163 * 1024;
  size_t smem_per_block = 48 * 1024;  // without cudaFuncAttributeMaxDynamicSharedMemorySize
  size_t smem_reserved_per_block = 1024;
  bool exec_timeout = false;
  Schedule schedule;
  uint64_t schedule_seed = 0;
  StreamOrder streams = StreamOrder::Fifo;
  uint64_t streams_seed = 0;
};

const DeviceConfig& config();

}  // namespace simt
