// The memory plan; see memory_plan.h.
#include "memory_plan.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "keymate/error.h"
#include "quant/convert.h"

namespace km {

namespace {

// Types the CPU kernels multiply directly; other matrices are decoded to f32
// at load (model.cpp), and a native plan must count them so.
bool runnable(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q8_0:
    case GgmlType::Q4_0: case GgmlType::Q4_K: case GgmlType::Q6_K: return true;
    default: return false;
  }
}

// A hyperparameter that may be a scalar or a per-layer array (first item).
uint64_t hparam(const GgufFile& f, const std::string& key, uint64_t fallback) {
  const GgufValue* v = f.find(key);
  if (!v) {
    if (fallback) return fallback;
    fail("%s: missing metadata %s", f.path().c_str(), key.c_str());
  }
  if (v->kind != GgufKind::ARRAY) return v->as_uint(key);
  if (v->count == 0 || !v->items) fail("%s: %s is an empty or non-integer array", f.path().c_str(), key.c_str());
  uint32_t x = 0;
  switch (v->item_kind) {
    case GgufKind::U32: case GgufKind::I32: std::memcpy(&x, v->items, 4); return x;
    default: fail("%s: %s is an array of a kind that is not a 32-bit integer", f.path().c_str(), key.c_str());
  }
}

}  // namespace

PlanInput plan_input(const GgufFile& file, const quant::WeightFormat& f) {
  PlanInput in;
  const std::string arch(file.get_string("general.architecture"));
  auto key = [&](const char* k) { return arch + "." + k; };
  in.layers = (int)hparam(file, key("block_count"), 0);
  in.heads = (int)hparam(file, key("attention.head_count"), 0);
  in.kv_heads = (int)hparam(file, key("attention.head_count_kv"), (uint64_t)in.heads);
  in.dim = (int)hparam(file, key("embedding_length"), 0);
  in.ffn = (int)hparam(file, key("feed_forward_length"), 0);
  in.context_max = (int)hparam(file, key("context_length"), 0);
  if (in.heads <= 0 || in.kv_heads <= 0 || in.layers <= 0 || in.dim <= 0)
    fail("%s: layer, head or width count is zero", file.path().c_str());
  in.head_dim = (int)file.get_uint(key("attention.key_length"), (uint64_t)(in.dim / in.heads));

  const bool tied = file.tensor("output.weight") == nullptr;
  for (const GgufTensor& t : file.tensors()) {
    const bool matrix = t.shape.size() >= 2 && t.rows() > 1;
    if (t.name == "token_embd.weight") in.vocab = (int)t.rows();
    if (!matrix) {
      in.weights_bytes += t.n_bytes;
      continue;
    }
    const bool embd = t.name == "token_embd.weight";
    const bool is_output = t.name == "output.weight" || (embd && tied);
    const int64_t cols = (int64_t)t.shape[0], rows = (int64_t)t.rows();
    const quant::TensorPlan p = quant::plan_tensor(f, cols, is_output);
    uint64_t bytes = t.n_bytes;
    if (p.kind == quant::WeightKind::Run) bytes = run_row_bytes(p.quant, cols) * (uint64_t)rows;
    else if (p.kind == quant::WeightKind::F16 && t.type != GgmlType::F16) bytes = 2 * (uint64_t)cols * rows;
    else if (p.kind == quant::WeightKind::Native && !runnable(t.type) && (!embd || tied))
      bytes = 4 * (uint64_t)cols * rows;  // decoded at load
    in.weights_bytes += bytes;
  }
  return in;
}

PlanInput plan_input(const Model& m) {
  const Config& c = m.config;
  PlanInput in;
  in.weights_bytes = m.weight_bytes();
  in.layers = c.n_layers;
  in.heads = c.n_heads;
  in.kv_heads = c.n_kv_heads;
  in.head_dim = c.head_dim;
  in.dim = c.dim;
  in.ffn = c.ffn_dim;
  in.vocab = c.vocab;
  in.context_max = c.context;
  return in;
}

MemoryPlan make_plan(const PlanInput& in, const quant::WeightFormat& wf, const quant::KvFormat& kf, int context,
                     uint64_t vram_bytes) {
  if (context < 0) fail("memory plan: context %d is negative", context);
  MemoryPlan p;
  p.weights = wf.name;
  p.kv = kf.name;
  p.context = context > 0 ? context : in.context_max;
  p.weights_bytes = in.weights_bytes;
  const uint64_t kv_elems = (uint64_t)in.kv_heads * (uint64_t)in.head_dim;
  const uint64_t scales = kv_has_scales(kf.type) ? 2 * (uint64_t)in.kv_heads : 0;
  p.kv_bytes_per_token = 2 * (uint64_t)in.layers * (kv_elems * kv_elem_bytes(kf.type) + scales);
  p.kv_bytes = p.kv_bytes_per_token * (uint64_t)p.context;
  const uint64_t q_dim = (uint64_t)in.heads * in.head_dim;
  const uint64_t per_token = 2 * (uint64_t)in.dim + q_dim + 2 * kv_elems + q_dim + 2 * (uint64_t)in.ffn +
                             (uint64_t)std::max(in.dim, in.ffn);
  p.activation_bytes = 4 * ((uint64_t)kPlanBatch * per_token + (uint64_t)in.vocab);
  p.reserve_bytes = kPlanReserve;
  p.total_bytes = p.weights_bytes + p.kv_bytes + p.activation_bytes + p.reserve_bytes;
  p.vram_bytes = vram_bytes;
  p.fits = vram_bytes > 0 && p.total_bytes <= vram_bytes;
  const uint64_t fixed = p.weights_bytes + p.activation_bytes + p.reserve_bytes;
  if (vram_bytes > fixed && p.kv_bytes_per_token > 0) {
    const uint64_t tokens = (vram_bytes - fixed) / p.kv_bytes_per_token;
    p.max_context = (int)std::min<uint64_t>(tokens, (uint64_t)in.context_max);
  }
  return p;
}

}  // namespace km

namespace km {

MemoryPlan plan_memory(const std::string& path, const std::string& weights, const std::string& kv, int context,
                       uint64_t vram_bytes) {
  const quant::WeightFormat& wf = quant::weight_format(weights);
  const quant::KvFormat& kf = quant::kv_format(kv);
  const std::unique_ptr<GgufFile> file = GgufFile::open(path);
  return make_plan(plan_input(*file, wf), wf, kf, context, vram_bytes);
}

MemoryPlan Engine::plan(int context, uint64_t vram_bytes) const {
  return make_plan(plan_input(*model_), quant::weight_format(opts_.weights), quant::kv_format(opts_.kv),
                   context > 0 ? context : backend_->context(), vram_bytes);
}

}  // namespace km
