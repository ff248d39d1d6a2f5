// The L2 persistence window: part of L2 set aside for one address
// range, so those bytes stay on chip from one step to the next instead of
// being streamed from memory again.
//
// What is hot at batch 1: every weight is read once per step, and a step
// reads far more than L2 holds, so plain LRU keeps nothing across steps; a
// window over W bytes of weights saves W bytes of DRAM reads per step (a few
// percent of a 1B model, under 1% of a 7B). We window the largest matrix the
// program reads (the output projection, read by the logits of every step),
// with the hit ratio scaled so the persisting part fits the set-aside L2.
// Off by default; KEYMATE_L2_WINDOW=on turns it on, and scripts/gpu-bench.sh
// measures both ways.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "exec/program.cuh"

namespace km::cuda {

struct L2Window {
  bool on = false;
  void* base = nullptr;
  uint64_t bytes = 0;     // the window (<= the device's max window size)
  float hit_ratio = 0;    // fraction of the window that persists
  uint64_t persist = 0;   // L2 bytes set aside for persisting lines
};

// The window for `prog` on the current device; on = false when
// KEYMATE_L2_WINDOW is not "on", the device has no persisting L2, or the
// program reads no matrix.
L2Window l2_window_for(const std::vector<Instr>& prog);

// Sets the window as `stream`'s access policy (kernels launched or captured
// on it inherit it) and sets aside the L2 it needs.
void apply_l2_window(cudaStream_t stream, const L2Window& w);
// The same for every kernel node of a graph (capture may not carry stream
// attributes into nodes on every driver).
void apply_l2_window(cudaGraph_t graph, const L2Window& w);
// Returns persisting lines to normal and the set-aside L2 to the pool.
void release_l2_window(const L2Window& w);

}  // namespace km::cuda
