// The zero-launch path: ONE persistent kernel, launched
// cooperatively when the executor is made (the GPU is "armed"), serves every
// step of the model's life:
//
//   block 0 / warp 0 polls the doorbell (exec/doorbell.cuh) in mapped memory,
//   copies the step into device memory and arrives at the grid barrier,
//   where every other block has been waiting on a counter in L2;
//   then for each instruction of the program: tiles t = blockIdx.x,
//   t + gridDim.x, ... < instr_tiles() run through run_tile(), and a grid
//   barrier separates it from the next; block 0 stamps %globaltimer at each
//   barrier (the per-Stage device times, free on this path: the barriers are
//   there anyway); finally block 0 writes the sampled token, the stamps and
//   `done` into the mapped answer.
//
// Per step the host writes ~1 KB into its own memory and rings: no kernel
// launch, no cudaMemcpy. What the device keeps per block: the StepState and
// the current and next Instr in shared memory (the next one is fetched before
// the barrier, so argument loads never wait on L2 after it), the op's tile
// memory after them.
//
// While armed, the kernel holds every SM: nothing else may be launched on the
// device (it would wait for SMs that never free up), and nothing may wait for
// the whole device (cudaDeviceSynchronize, cudaFree) until the executor is
// destroyed. Copies on other streams (cudaMemcpy to/from device memory) run
// beside it: the armed kernel has its own non-blocking stream.
#pragma once

namespace km::cuda {

// Blocks of the armed grid on the current device: SMs x blocks of the
// zero-launch kernel resident per SM at kThreads threads and kTileSmem bytes,
// capped by KEYMATE_ZL_BLOCKS_PER_SM when set (fewer blocks = cheaper
// barriers, fewer warps in flight: a knob to measure, not to guess).
// Throws where the device cannot run an armed kernel.
int zero_launch_grid_blocks(int* sms);

}  // namespace km::cuda
