// The launch path's kernels of the attention ops; see attention.cuh.
#include "ops/attention.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

KM_OP_KERNEL(attn_partial, AttentionArgs, kWarps * (a.kv.head_dim + 2) * sizeof(float))
KM_OP_KERNEL(attn_combine, AttentionArgs, 0)
KM_OP_KERNEL(attn_prefill, AttentionArgs, attn_prefill_smem(a.kv.head_dim))

}  // namespace km::cuda

