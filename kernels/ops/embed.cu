// Embed; see embed.cuh.
#include "ops/embed.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

bool embed_supports(GgmlType type, RunQuant quant) {
  if (!quant.none()) return true;
  return ggml_type_runs_as_stored(type);
}

KM_OP_KERNEL(embed, EmbedArgs, 0)

}  // namespace km::cuda

