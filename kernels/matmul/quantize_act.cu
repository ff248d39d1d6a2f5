// The launch path of QuantizeAct (quantize_act.cuh): a block per token row.
#include "keymate/error.h"
#include "quantize_act.cuh"

namespace km::cuda {

namespace {

__global__ void __launch_bounds__(kThreads) quantize_act_kernel(const QuantizeActArgs a, const StepState* st) {
  __shared__ __align__(16) char smem[kQuantizeActSmem];
  if ((int)blockIdx.x >= quantize_act_tiles(a, *st)) return;
  quantize_act_tile(a, *st, blockIdx.x, smem);
}

}  // namespace

int quantize_act_max_tiles(const QuantizeActArgs& a) { return a.last_only ? 1 : kMaxStepTokens; }

void launch_quantize_act(const QuantizeActArgs& a, const StepState* st, int max_tiles, cudaStream_t s) {
  if (max_tiles <= 0) return;
  quantize_act_kernel<<<max_tiles, kThreads, 0, s>>>(a, st);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) fail("cuda quantize_act launch: %s", cudaGetErrorString(e));
}

}  // namespace km::cuda
