// The memory plan: what a model takes on a GPU in a given weight and KV
// format, and whether it fits. Two ways in: from a GGUF file that has not been
// loaded (the UI's model picker: shapes and types from the header only, no
// tensor is read or converted) and from a loaded Engine (the weights exactly
// as held). Both end in make_plan(), so they agree; a test holds the file
// route's weight bytes equal to a loaded, converted model's.
//
// Terms:
//   weights     every tensor as the chosen format holds it (convert.h policy)
//   KV          per token: K and V of every layer, kv_heads * head_dim
//               elements each in the KV format, plus INT8's fp16 scale per
//               head; times the context
//   activations the forward pass's buffers for a prefill batch of
//               kPlanBatch tokens (residual, q|k|v, attention output,
//               gate|up, the matmul input scratch) plus one row of logits
//   reserve     kPlanReserve for the runtime itself (CUDA context, library
//               workspaces, allocator slack): what a GPU loses before the
//               first weight is copied
#pragma once

#include <cstdint>

#include "keymate/engine.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "quant/weight_formats.h"

namespace km {

constexpr int kPlanBatch = 512;                           // tokens per prefill batch planned for
constexpr uint64_t kPlanReserve = 512ull * 1024 * 1024;   // bytes

struct PlanInput {
  uint64_t weights_bytes = 0;
  int layers = 0, kv_heads = 0, head_dim = 0, heads = 0, dim = 0, ffn = 0, vocab = 0;
  int context_max = 0;  // the model's trained context
};

// From a file's header: shapes, types and hyperparameters, weights sized as
// format f would convert them.
PlanInput plan_input(const GgufFile& file, const quant::WeightFormat& f);
// From a loaded model: weights as held.
PlanInput plan_input(const Model& m);
// From a shape alone: the tensors a llama-family file of that shape holds.
PlanInput plan_input(const ModelShape& s, const quant::WeightFormat& f);

// context 0 = the model's trained context; vram_bytes 0 = no memory to plan
// against (fits = false, max_context = 0).
MemoryPlan make_plan(const PlanInput& in, const quant::WeightFormat& wf, const quant::KvFormat& kf, int context,
                     uint64_t vram_bytes);

}  // namespace km
