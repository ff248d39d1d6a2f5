// Every matrix product of the forward pass (qkv, wo, gate|up, down, logits):
// the op interface of the shared CUDA plan (kernels/common/op.cuh's tile
// convention). The argument structs are in matmul_args.h (plain C++, so .cpp
// code can fill them in); the chooser between decode GEMV and prefill GEMM is
// chooser.cuh.
//
// Weights are read through the read-only (non-coherent) cache path, as they
// never change while a program runs. Activations, outputs and scratch are
// written by earlier instructions of the same kernel on the zero-launch path,
// so they are read with ordinary loads.
//
// Alignment the caller guarantees (launch_matmul and the harness check it on
// the host): w, x, y and scratch 16-byte aligned; cols a multiple of 32; for
// run formats row_bytes = run_row_bytes(quant, cols); for GGUF types
// row_bytes = ggml_row_bytes(type, cols).
//
// The integer formats (W8A8, and the GGUF Q8_0 and Q4_0) multiply int8
// activations, as their CPU twins do: the QuantizeAct op (quantize_act.cuh)
// writes them into the matmul's scratch, per token (W8A8) or per 32 columns
// (Q8_0, Q4_0), and the program puts it right before the matmul
// (matmul_needs_quantize_act(), quantize_act_args_for()). The other formats
// multiply f32 activations (GEMV) or f16 ones (GEMM) as they are.
//
// Determinism: each output is one warp's (GEMV) or one thread's accumulator
// (GEMM) summed in a fixed order; no atomics, no split-K.
//
// The device functions are defined in headers (inline), so any translation
// unit (the launch path, the persistent kernel) can call them without
// relocatable device code.
#pragma once

#include <cuda_runtime.h>

#include "../common/op.cuh"
#include "matmul_args.h"

namespace km::cuda {

uint64_t matmul_scratch_bytes(const MatmulArgs&);                         // host
__host__ __device__ int matmul_tiles(const MatmulArgs&, const StepState&);
__device__ void matmul_tile(const MatmulArgs&, const StepState&, int tile, char* smem);
void launch_matmul(const MatmulArgs&, const StepState* st, int max_tiles, cudaStream_t);
int matmul_max_tiles(const MatmulArgs&);  // host: tiles needed at n = kMaxStepTokens
bool matmul_supports(GgmlType, RunQuant); // host: whether a weight can be run as is

// Host: throws km::Error naming what is wrong when the arguments break the
// alignment and size rules above (launch_matmul and matmul_max_tiles call it).
void matmul_check(const MatmulArgs&);
// Host: dynamic shared memory one tile may use (<= kTileSmem).
int matmul_smem_bytes(const MatmulArgs&);

// The integer formats' preparatory op (quantize_act.cuh).
bool matmul_needs_quantize_act(const MatmulArgs&);
QuantizeActArgs quantize_act_args_for(const MatmulArgs&);

}  // namespace km::cuda

#include "matmul_impl.cuh"
