// The one convention every CUDA op follows, so that the same device code runs
// on all three execution paths:
//   launch       a kernel per op, <<<tiles, kThreads>>>
//   graph        the launch path captured once into a CUDA graph, replayed per step
//   zero-launch  one persistent kernel walks the step's instruction list and
//                calls each op's tile function for its share of the tiles,
//                with a grid-wide barrier between instructions
//
// An op X provides, in kernels/<group>/<x>.cuh:
//   struct XArgs { ... };                         device pointers and sizes, trivially copyable
//   __host__ __device__ int x_tiles(const XArgs&, const StepState&);
//                                                 how many tiles this step needs
//   __device__ void x_tile(const XArgs&, const StepState&, int tile, char* smem);
//                                                 one tile's work, by kThreads threads,
//                                                 using at most kTileSmem bytes of smem
//   void launch_x(const XArgs&, const StepState* st_dev, int max_tiles, cudaStream_t);
//                                                 the launch path: a <<<max_tiles, kThreads,
//                                                 kTileSmem>>> kernel whose blocks beyond
//                                                 x_tiles(args, *st) return at once
// Why tiles and not blocks: the persistent kernel has one block per SM (or a
// few), so "block b" is a tile index it loops over, and an op must not assume
// its tile runs on a fresh block (no static __shared__ state across tiles,
// no early-exit before a __syncthreads() that other threads reach).
//
// Why StepState: everything that changes from one step to the next (position,
// token ids, how many tokens) is read from device memory, never baked into
// the arguments, so one instruction list, one graph and one armed kernel serve
// every step. Host code writes it (a cudaMemcpyAsync on the launch and graph
// paths; plain stores into mapped pinned memory on the zero-launch path).
//
// Ops that need a reduction across tiles (split-K attention, top-k) are two
// instructions (partials, then combine), so the result never depends on which
// tile finished first: no atomics that make outputs order-dependent (the same
// input gives bit-identical tokens and logits, run after run).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace km::cuda {

constexpr int kThreads = 256;             // threads per tile, every op
constexpr int kTileSmem = 48 * 1024;      // dynamic shared memory a tile may use
constexpr int kMaxStepTokens = 256;       // tokens one step may carry (the prefill batch)

struct StepState {
  int32_t pos;                            // position of tokens[0]
  int32_t n;                              // tokens in this step, 1..kMaxStepTokens
  int32_t tokens[kMaxStepTokens];
  // Sampling of the step's last token on the device (kernels/ops/sample.cuh),
  // the chain of native/src/sampler.cpp: top-k -> top-p -> min-p ->
  // temperature -> draw. temperature <= 0 is greedy (the others are unused).
  int32_t sample;                         // 1: sample the last token (else the sampling ops take 0 tiles)
  float temperature;
  int32_t top_k;                          // 1..kSampleMaxK when temperature > 0
  float top_p;                            // 1 = off
  float min_p;                            // 0 = off
  double uniform;                         // the draw's number in [0, 1), the host RNG's 53 bits
};

}  // namespace km::cuda
