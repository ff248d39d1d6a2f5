// Device sampling; see sample.cuh.
#include "ops/sample.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

KM_OP_KERNEL(sample_partial, SampleArgs, kSamplePartialSmem)
KM_OP_KERNEL(sample_final, SampleArgs, kSampleFinalSmem)

}  // namespace km::cuda

