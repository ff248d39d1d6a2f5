// Sampling the step's last token on the device, two ops:
//   SamplePartial  tiles over chunks of kSampleChunk logits: greedy (the
//                  StepState's temperature <= 0) takes each chunk's argmax;
//                  sampling sorts the chunk (bitonic, in shared memory) and
//                  keeps its best kSampleMaxK candidates
//   SampleFinal    one tile: merges the chunks' candidates (sorted again), and
//                  for sampling runs the chain of native/src/sampler.cpp on
//                  the top_k best in one thread, with the same float/double
//                  arithmetic in the same order: top-p, min-p, temperature,
//                  then the draw with the host's uniform number
// The order is (logit descending, id ascending), a strict total order, as the
// CPU's, so ties resolve the same way. Repetition penalty and top_k off (or
// above kSampleMaxK) are left to the host sampler (sample_on_device_ok()).
#pragma once

#include <cuda_runtime.h>

#include "common/op.cuh"

namespace km::cuda {

constexpr int kSampleChunk = 4096;  // logits per partial tile
constexpr int kSampleMaxK = 64;     // candidates per chunk, and the largest top_k run on the device
constexpr int kSampleMerge = 4096;  // candidates the final tile can sort: chunks * kSampleMaxK <= this
constexpr int kSampleMaxVocab = kSampleMerge / kSampleMaxK * kSampleChunk;

struct SampleArgs {
  const float* logits;  // [vocab]
  int32_t vocab;
  float* cand_logit;    // [chunks][kSampleMaxK] partial candidates
  int32_t* cand_id;
  int32_t* out;         // [1] the token picked
};

inline int sample_chunks(int vocab) { return (vocab + kSampleChunk - 1) / kSampleChunk; }
// Whether this vocabulary and these settings can be sampled on the device.
inline bool sample_on_device_ok(int vocab, float temperature, int top_k, float repeat_penalty) {
  if (vocab > kSampleMaxVocab || repeat_penalty != 1.0f) return false;
  // top_k >= vocab: the CPU keeps the candidates in id order, not sorted
  return temperature <= 0.0f || (top_k >= 1 && top_k <= kSampleMaxK && top_k < vocab);
}
constexpr int kSamplePartialSmem = kSampleChunk * 8;  // (logit, id) pairs
constexpr int kSampleFinalSmem = kSampleMerge * 8;

__host__ __device__ inline int sample_partial_tiles(const SampleArgs& a, const StepState& st) {
  return st.sample ? (a.vocab + kSampleChunk - 1) / kSampleChunk : 0;
}
__host__ __device__ inline int sample_final_tiles(const SampleArgs&, const StepState& st) { return st.sample ? 1 : 0; }
__device__ inline void sample_partial_tile(const SampleArgs& a, const StepState& st, int tile, char* smem);
__device__ inline void sample_final_tile(const SampleArgs& a, const StepState& st, int tile, char* smem);
void launch_sample_partial(const SampleArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);
void launch_sample_final(const SampleArgs& a, const StepState* st, int max_tiles, cudaStream_t stream);

}  // namespace km::cuda

#include "ops/sample_tile.cuh"
