// Runs one fused matmul group exactly as the CPU backend's forward pass does
// (MatGroup + matmul_phase on a thread pool), so matmul tests exercise the
// production driver rather than a kernel in isolation. Shared by the tests of
// the GGUF types (cpu_matmul) and of the run formats (quant_matmul).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/act_quant.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "keymate/model.h"

namespace kt {

// y = W x (+ y0 when accumulate) for tensors fused as one group, n tokens, on `threads` threads.
inline std::vector<float> run_group(km::cpu::Simd simd, const std::vector<const km::Tensor*>& ts,
                                    const std::vector<float>& x, int n, int threads, bool accumulate,
                                    const std::vector<float>& y0) {
  using namespace km::cpu;
  const MatGroup g = MatGroup::build(ts, simd);
  MatScratch s;
  uint64_t act = 0;
  for (const CpuMatrix& m : g.mats) act = std::max<uint64_t>(act, act_row_bytes(m.act(), m.cols()));
  s.reserve(n, g.cols, act);
  std::vector<float> y = y0;
  ThreadPool pool(threads);
  std::vector<WorkSlot> slots(g.mats.size() * (size_t)pool.size());
  std::vector<WorkSlot*> ptrs;
  for (size_t i = 0; i < g.mats.size(); i++) ptrs.push_back(&slots[i * (size_t)pool.size()]);
  MatInput in;
  in.x = x.data();
  in.ldx = g.cols;
  pool.run([&](int ith, int nth) {
    matmul_phase(ith, nth, pool, kernels_for(simd), g, in, n, y.data(), g.rows, accumulate, s, ptrs.data());
  });
  return y;
}

}  // namespace kt
