// One matrix multiply of the forward pass, run by every thread of a pool run:
// (1) each thread prepares its share of input rows (the prologue: RMSNorm,
// SwiGLU or GeGLU when the op is fused with one, then conversion to the matrix's
// activation form), (2) a barrier, (3) threads take chunks of output rows,
// each from its own span first (work_share.h), until none are left. Each
// output is computed whole by one thread in a fixed order, so results do not
// depend on the thread count or on which thread took which chunk. A chunk covers every token of
// the batch, so a chunk's weights are read from memory once per batch: the
// prefill is a real GEMM, not a series of matrix-vector products.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/matrix.h"
#include "cpu/thread_pool.h"
#include "cpu/work_share.h"

namespace km::cpu {

// Where a matmul's input rows come from.
struct MatInput {
  enum Kind { Plain, RmsNorm, SwiGlu, GeGlu } kind = Plain;
  const float* x = nullptr;  // rows (SwiGlu, GeGlu: the gate rows)
  int64_t ldx = 0;           // floats between rows
  const float* u = nullptr;  // SwiGlu, GeGlu: the up rows (same ldx)
  const float* norm = nullptr;  // RmsNorm: the weight [cols]
  float eps = 0;
};

// Matrices that read the same input, fused where their activation forms
// agree; matrix i writes outputs from column offsets[i] of an output row.
struct MatGroup {
  std::vector<CpuMatrix> mats;
  std::vector<int64_t> offsets;
  int64_t rows = 0, cols = 0;

  static MatGroup build(const std::vector<const Tensor*>& tensors, Simd simd);
};

// Buffers a matmul phase needs for batches of up to max_tokens rows.
struct MatScratch {
  AlignedBuffer rows;  // [max_tokens][max_cols] floats: prologue output
  AlignedBuffer act;   // [max_tokens][max act row bytes]
  int64_t max_cols = 0;
  uint64_t act_row = 0;
  void reserve(int max_tokens, int64_t max_cols, uint64_t max_act_row);
};

// Runs on every thread of a pool run. Ends without a barrier: the caller puts
// one before anything reads y. `shares` supplies, per matrix of the group, the
// nth WorkSlots its chunks are shared out by (work_share.h; zeroed before the run).
void matmul_phase(int ith, int nth, ThreadPool& pool, const Kernels& k, const MatGroup& g, const MatInput& in,
                  int n, float* y, int64_t ldy, bool accumulate, MatScratch& s, WorkSlot* const* shares);

}  // namespace km::cpu
