// RoPE fused with the paged KV-cache write; see rope_kv.cuh.
#include "ops/rope_kv.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

KM_OP_KERNEL(rope_kv, RopeKvArgs, 0)

}  // namespace km::cuda

