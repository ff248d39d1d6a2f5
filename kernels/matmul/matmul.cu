// The host side of the matmul op: what it supports, the checks that keep the
// device code's alignment assumptions true, and the launch path's kernels
// (a block per tile; blocks past this step's tile count return at once).
#include "keymate/error.h"
#include "matmul.cuh"

namespace km::cuda {

namespace {

// One kernel per weight format (the format is known on the host; only n is
// read on the device), so each gets the registers its own code needs rather
// than the largest of all formats.
template <mm::WFmt F>
__global__ void __launch_bounds__(kThreads, 2) matmul_kernel(const MatmulArgs a, const StepState* st) {
  extern __shared__ __align__(16) char smem[];
  if ((int)blockIdx.x >= matmul_tiles(a, *st)) return;
  mm::matmul_tile_as<F>(a, *st, blockIdx.x, smem);
}

template <mm::WFmt F>
void launch_as(const MatmulArgs& a, const StepState* st, int max_tiles, cudaStream_t s) {
  matmul_kernel<F><<<max_tiles, kThreads, matmul_smem_bytes(a), s>>>(a, st);
}

const char* format_name(const MatmulArgs& a) {
  if (!a.quant.none()) {
    switch (a.quant.type) {
      case RunType::Fp8: return "fp8";
      case RunType::Int8: return "int8";
      case RunType::Int4: return "int4";
      case RunType::Nf4: return "nf4";
      case RunType::W8A8: return "w8a8";
      case RunType::None: break;
    }
  }
  const char* n = ggml_type_info(a.type).name;
  return n ? n : "unknown type";
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) fail("cuda %s: %s", what, cudaGetErrorString(e));
}

}  // namespace

bool matmul_supports(GgmlType t, RunQuant q) {
  if (!q.none()) {
    if (q.group % 32) return false;                       // a 32-column chunk never straddles two groups
    if (q.type == RunType::W8A8 && q.group) return false; // W8A8 is per row by definition
    return true;
  }
  return ggml_type_runs_as_stored(t);  // the kernels run every type the engine keeps as stored
}

void matmul_check(const MatmulArgs& a) {
  const char* f = format_name(a);
  if (!matmul_supports(a.type, a.quant))
    fail("cuda matmul: %s weights (group %d) are not run by the GPU kernels: convert them at load", f,
         (int)a.quant.group);
  if (a.rows <= 0 || a.cols <= 0 || a.cols % 32)
    fail("cuda matmul: %s matrix %dx%d: rows must be positive and cols a positive multiple of 32", f, (int)a.rows,
         (int)a.cols);
  if (gated(a.epilogue) && a.rows % 2)
    fail("cuda matmul: gate|up matrix has %d rows: a gated epilogue needs the gate and up halves stacked",
         (int)a.rows);
  const bool kquant = a.quant.none() && mm::is_kquant(mm::weight_format(a));
  if (kquant && a.cols % QK_K)
    fail("cuda matmul: %s matrix %dx%d: a K-quant row holds whole super-blocks of %d columns", f, (int)a.rows,
         (int)a.cols, QK_K);
  if (a.ldy && a.ldy < matmul_out_rows(a))
    fail("cuda matmul: %s output rows of %d floats cannot hold %d outputs", f, (int)a.ldy, matmul_out_rows(a));
  const uint64_t want = a.quant.none() ? ggml_row_bytes(a.type, a.cols) : run_row_bytes(a.quant, a.cols);
  if (a.row_bytes != want)
    fail("cuda matmul: %s rows of %d columns take %llu bytes, not %llu", f, (int)a.cols,
         (unsigned long long)want, (unsigned long long)a.row_bytes);
  const bool gguf_block =
      a.quant.none() && (a.type == GgmlType::Q8_0 || a.type == GgmlType::Q4_0 || a.type == GgmlType::Q6_K);
  if (!gguf_block && (!aligned16(a.w) || a.row_bytes % 16))
    fail("cuda matmul: %s weights must start 16-byte aligned with 16-byte rows", f);
  if (gguf_block && (reinterpret_cast<uintptr_t>(a.w) & 1)) fail("cuda matmul: %s weights must be 2-byte aligned", f);
  if (!aligned16(a.x) || !aligned16(a.y)) fail("cuda matmul: x and y must be 16-byte aligned");
  if (matmul_scratch_bytes(a) && !aligned16(a.scratch))
    fail("cuda matmul: %s needs a 16-byte aligned scratch of %llu bytes", f,
         (unsigned long long)matmul_scratch_bytes(a));
}

namespace {

// The activation form an integer matmul reads (QuantizeActArgs::block).
int quant_act_block(const MatmulArgs& a) { return mm::act_block(mm::weight_format(a)); }

}  // namespace

bool matmul_needs_quantize_act(const MatmulArgs& a) { return mm::int_activations(mm::weight_format(a)); }

uint64_t matmul_scratch_bytes(const MatmulArgs& a) {
  if (!matmul_needs_quantize_act(a)) return 0;
  return (uint64_t)(a.last_only ? 1 : kMaxStepTokens) * quant_act_row_bytes(a.cols, quant_act_block(a));
}

int matmul_max_tiles(const MatmulArgs& a) {
  matmul_check(a);
  StepState st{};
  st.n = 1;
  int m = matmul_tiles(a, st);
  st.n = kMaxStepTokens;
  const int at_max = matmul_tiles(a, st);
  return m > at_max ? m : at_max;
}

int matmul_smem_bytes(const MatmulArgs& a) { return matmul_gemm_capable(a) ? mm::kGemmSmem : 0; }

void launch_matmul(const MatmulArgs& a, const StepState* st, int max_tiles, cudaStream_t s) {
  if (max_tiles <= 0) return;
  using mm::WFmt;
#define KM_LAUNCH_CASE(f) \
  case WFmt::f: launch_as<WFmt::f>(a, st, max_tiles, s); break;
  switch (mm::weight_format(a)) { KM_WEIGHT_FORMATS(KM_LAUNCH_CASE) }
#undef KM_LAUNCH_CASE
  check_launch("matmul launch");
}

QuantizeActArgs quantize_act_args_for(const MatmulArgs& a) {
  QuantizeActArgs q{};
  q.x = a.x;
  q.cols = a.cols;
  q.block = quant_act_block(a);
  q.last_only = a.last_only;
  q.out = a.scratch;
  return q;
}

}  // namespace km::cuda
