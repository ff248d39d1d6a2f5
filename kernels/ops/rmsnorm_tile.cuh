// The device code of rmsnorm.cuh (its tile functions), in a header so that every
// translation unit that runs tiles (the launch kernels, the persistent kernel)
// compiles them without relocatable device code.
#pragma once

#include "common/arch.cuh"

namespace km::cuda {

__device__ inline void rmsnorm_tile(const RmsNormArgs& a, const StepState& st, int tile, char* smem) {
  const int row = a.last_only ? st.n - 1 : tile;
  const float* x = a.x + (int64_t)row * a.dim;
  float* y = a.add_to ? a.add_to + (int64_t)row * a.dim : a.y + (int64_t)row * a.dim;
  double s = 0;
  for (int i = threadIdx.x; i < a.dim; i += kThreads) s += (double)(x[i] * x[i]);
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  double* red = reinterpret_cast<double*>(smem);
  __syncthreads();  // the previous tile's readers of red are done
  if ((threadIdx.x & (kWarp - 1)) == 0) red[threadIdx.x / kWarp] = s;
  __syncthreads();
  double sum = 0;
#pragma unroll
  for (int w = 0; w < kWarps; w++) sum += red[w];
  const float mean = (float)(sum / (double)a.dim);
  const float scale = 1.0f / sqrtf(mean + a.eps);
  // __fadd_rn: the add is never contracted with the product into an fma, as on the CPU.
  if (a.add_to) {
    for (int i = threadIdx.x; i < a.dim; i += kThreads) y[i] = __fadd_rn(y[i], x[i] * scale * a.w[i]);
  } else {
    for (int i = threadIdx.x; i < a.dim; i += kThreads) y[i] = x[i] * scale * a.w[i];
  }
}

}  // namespace km::cuda
