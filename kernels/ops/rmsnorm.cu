// RMSNorm; see rmsnorm.cuh.
#include "ops/rmsnorm.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

KM_OP_KERNEL(rmsnorm, RmsNormArgs, kWarps * sizeof(double))

}  // namespace km::cuda

