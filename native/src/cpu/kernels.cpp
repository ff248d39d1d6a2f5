// Choosing the kernel table, and the per-matrix kernel within it.
#include "cpu/kernels.h"

#include "keymate/error.h"

namespace km::cpu {

MatKernel Kernels::mat(const MatPart& p) const {
  MatKernel k = nullptr;
  switch (p.layout == Layout::Rows ? p.quant.type : RunType::None) {  // packed parts: by layout below
    case RunType::None: break;
    case RunType::Fp8: k = mat_run_fp8; break;
    case RunType::Int8: k = mat_run_int8; break;
    case RunType::Int4: k = mat_run_int4; break;
    case RunType::Nf4: k = mat_run_nf4; break;
    case RunType::W8A8: k = mat_run_w8a8; break;
  }
  if (!p.quant.none() && p.layout == Layout::Rows) {
    if (!k) fail("cpu backend: %s: no %s kernel for this run format", p.name.c_str(), simd_name(simd));
    return k;
  }
  switch (p.layout) {
    case Layout::Q8Packed: k = mat_q8_packed; break;
    case Layout::Q8PackedU: k = mat_q8_packed_u; break;
    case Layout::Q4Packed: k = mat_q4_packed; break;
    case Layout::Nf4Packed: k = mat_nf4_packed; break;
    case Layout::Q4KPacked: k = mat_q4k_packed; break;
    case Layout::Q6KPacked: k = mat_q6k_packed; break;
    case Layout::Rows:
      switch (p.type) {
        case GgmlType::F32: k = mat_f32; break;
        case GgmlType::F16: k = mat_f16; break;
        case GgmlType::BF16: k = mat_bf16; break;
        case GgmlType::Q8_0: k = mat_q8_0; break;
        case GgmlType::Q4_0: k = mat_q4_0; break;
        case GgmlType::Q4_K: k = mat_q4_k; break;
        case GgmlType::Q5_K: k = mat_q5_k; break;
        case GgmlType::Q6_K: k = mat_q6_k; break;
        default: break;
      }
      break;
  }
  if (!k) fail("cpu backend: %s: no %s kernel for this layout", p.name.c_str(), simd_name(simd));
  return k;
}

const Kernels& kernels_for(Simd s) {
  static const Kernels scalar = scalar_kernels();
  static const Kernels avx2 = avx2_kernels();
  static const Kernels vnni = vnni_kernels();
  switch (s) {
    case Simd::Scalar: return scalar;
    case Simd::Avx2: return avx2;
    case Simd::Avx512Vnni: return vnni;
  }
  return scalar;
}

}  // namespace km::cpu
