// The launch path's kernels of the attention ops; see attention.cuh.
#include "ops/attention.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

KM_OP_KERNEL(attn_partial, AttentionArgs, attn_partial_smem(a.kv.head_dim, a.n_heads / a.kv.n_kv_heads))
KM_OP_KERNEL(attn_combine, AttentionArgs, 0)
KM_OP_KERNEL(attn_prefill, AttentionArgs, attn_prefill_smem(a.kv.head_dim))

}  // namespace km::cuda

