// One matrix product on the GPU from host data, for the GPU tests
// (native/tests/gpu_matmul.cpp) and the kernel benchmark
// (native/bench/gpu_kernels.cpp). Plain C++, no CUDA header, so .cpp files
// include it; every CUDA failure becomes a km::Error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "matmul/matmul_args.h"

namespace km::cuda {

class MatmulHarness {
 public:
  // `shape` as the backend would fill it, except that w points at host
  // memory (rows * row_bytes bytes) and x, y, scratch are ignored. `copies`
  // device copies of the weights are made: timing rotates among them so that
  // no copy is still in the L2 cache when it is read again.
  explicit MatmulHarness(const MatmulArgs& shape, int copies = 1);
  ~MatmulHarness();
  MatmulHarness(const MatmulHarness&) = delete;
  MatmulHarness& operator=(const MatmulHarness&) = delete;

  int out_rows() const;  // outputs per token (gated: rows / 2)
  int y_rows(int n) const { return a_.last_only ? 1 : n; }
  int y_ld() const { return a_.ldy ? a_.ldy : out_rows(); }  // floats per row of y
  // Whether n tokens run the tensor-core GEMM (else the GEMV): chooser.cuh.
  bool uses_gemm(int n) const;

  // y = epilogue(W x) for n tokens (1..kMaxStepTokens): x is [n][cols], y is
  // [y_rows(n)][y_ld()] and holds the residual on entry for Residual.
  // grid 0 runs the launch path (a block per tile); grid > 0 runs every tile
  // through matmul_tile() on `grid` blocks in a loop, as the persistent
  // kernel does. W8A8 runs its QuantizeAct first. Synchronous.
  void run(const float* x, int n, float* y, int grid = 0);

  // Milliseconds per call (QuantizeAct included for W8A8), the median of
  // `iters` calls timed with events after warm-up, at n tokens of random x.
  double time_ms(int n, int iters);

  uint64_t weight_bytes() const { return (uint64_t)a_.rows * a_.row_bytes; }

 private:
  void enqueue(int n, int copy, int grid);

  MatmulArgs a_{};
  std::vector<void*> w_;
  float* x_ = nullptr;
  float* y_ = nullptr;
  void* scratch_ = nullptr;
  void* st_ = nullptr;  // StepState on the device
  void* stream_ = nullptr;
};

// Device-to-device copy bandwidth of the current device: cudaMemcpyAsync of
// `bytes` between two buffers, timed with events, median of `iters`; GB/s
// counts bytes read plus bytes written.
double d2d_copy_gbps(uint64_t bytes, int iters);

struct DeviceInfo {
  std::string name;
  int cc = 0;            // 89 for sm_89
  int sms = 0;
  uint64_t l2_bytes = 0;
  std::string driver;    // "13.0"
};
DeviceInfo current_device();

}  // namespace km::cuda
