// Embed; see embed.cuh.
#include "ops/embed.cuh"

#include "common/op_kernel.cuh"

namespace km::cuda {

bool embed_supports(GgmlType type, RunQuant quant) {
  if (!quant.none()) return true;
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16 || type == GgmlType::Q8_0 ||
         type == GgmlType::Q4_0;
}

KM_OP_KERNEL(embed, EmbedArgs, 0)

}  // namespace km::cuda

