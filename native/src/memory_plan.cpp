// The memory plan; see memory_plan.h.
#include "memory_plan.h"

#include <algorithm>
#include <cstring>
#include <strings.h>
#include <string>

#include "keymate/error.h"
#include "quant/convert.h"

namespace km {

namespace {

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

// Bytes of one matrix under format f, `stored` being its size in the file.
// `tied`: the embedding doubles as the output matrix.
uint64_t matrix_bytes(const quant::WeightFormat& f, GgmlType type, uint64_t stored, int64_t cols, int64_t rows,
                      bool embd, bool is_output, bool tied) {
  const quant::TensorPlan p = quant::plan_tensor(f, cols, is_output);
  if (p.kind == quant::WeightKind::Run) return run_row_bytes(p.quant, cols) * (uint64_t)rows;
  if (p.kind == quant::WeightKind::F16 && type != GgmlType::F16) return 2 * (uint64_t)cols * rows;
  if (p.kind == quant::WeightKind::Native && !ggml_type_runs_as_stored(type) && (!embd || tied))
    return ggml_row_bytes(ggml_type_held_as(type), (uint64_t)cols) * (uint64_t)rows;  // converted at load
  return stored;
}

// A ggml type by the name llama.cpp prints ("q4_K"), case aside.
GgmlType ggml_type_named(const std::string& name) {
  for (uint32_t t = 0; t < 64; t++) {
    const char* n = ggml_type_info(t).name;
    if (n && strcasecmp(n, name.c_str()) == 0) return static_cast<GgmlType>(t);
  }
  fail("model shape: file type '%s' is not a ggml type name (f32, f16, bf16, q8_0, q4_0, q4_K, q6_K, ...)",
       name.c_str());
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
    in.weights_bytes += matrix_bytes(f, t.type, t.n_bytes, (int64_t)t.shape[0], (int64_t)t.rows(), embd, is_output, tied);
  }
  return in;
}

PlanInput plan_input(const ModelShape& s, const quant::WeightFormat& f) {
  if (s.layers <= 0 || s.dim <= 0 || s.heads <= 0 || s.kv_heads <= 0 || s.ffn <= 0 || s.vocab <= 0 || s.context <= 0)
    fail("model shape: every count must be positive (layers %d, dim %d, heads %d, kv heads %d, ffn %d, vocab %d, "
         "context %d)", s.layers, s.dim, s.heads, s.kv_heads, s.ffn, s.vocab, s.context);
  if (s.head_dim < 0 || (s.head_dim == 0 && s.dim % s.heads != 0) || s.heads % s.kv_heads != 0)
    fail("model shape: dim %d must divide into %d heads (or a head size be given), and heads into %d kv heads", s.dim,
         s.heads, s.kv_heads);
  const GgmlType type = ggml_type_named(s.file_type);
  PlanInput in;
  in.layers = s.layers;
  in.heads = s.heads;
  in.kv_heads = s.kv_heads;
  in.dim = s.dim;
  in.ffn = s.ffn;
  in.vocab = s.vocab;
  in.context_max = s.context;
  in.head_dim = s.head_dim ? s.head_dim : s.dim / s.heads;
  const int64_t q_dim = (int64_t)s.heads * in.head_dim;
  const int64_t kv_dim = (int64_t)s.kv_heads * in.head_dim;
  // A matrix as the file stores it: `cols` is the input width (ggml's ne0).
  auto add = [&](int64_t cols, int64_t rows, bool embd = false, bool output = false) {
    const uint64_t stored = ggml_row_bytes(type, (uint64_t)cols) * (uint64_t)rows;
    const bool is_output = output || (embd && s.tied_output);
    in.weights_bytes += matrix_bytes(f, type, stored, cols, rows, embd, is_output, s.tied_output);
  };
  add(s.dim, s.vocab, true, false);  // token_embd
  if (!s.tied_output) add(s.dim, s.vocab, false, true);  // output
  for (int l = 0; l < s.layers; l++) {
    add(s.dim, q_dim);   // attn_q
    add(s.dim, kv_dim);  // attn_k
    add(s.dim, kv_dim);  // attn_v
    add(q_dim, s.dim);   // attn_output
    add(s.dim, s.ffn);   // ffn_gate
    add(s.dim, s.ffn);   // ffn_up
    add(s.ffn, s.dim);   // ffn_down
  }
  in.weights_bytes += 4 * (uint64_t)s.dim * (2 * (uint64_t)s.layers + 1);  // attn/ffn norms per layer, output_norm
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

MemoryPlan plan_shape(const ModelShape& shape, const std::string& weights, const std::string& kv, int context,
                      uint64_t vram_bytes) {
  const quant::WeightFormat& wf = quant::weight_format(weights);
  const quant::KvFormat& kf = quant::kv_format(kv);
  return make_plan(plan_input(shape, wf), wf, kf, context, vram_bytes);
}

MemoryPlan Engine::plan(int context, uint64_t vram_bytes) const {
  return make_plan(plan_input(*model_), quant::weight_format(opts_.weights), quant::kv_format(opts_.kv),
                   context > 0 ? context : backend_->context(), vram_bytes);
}

}  // namespace km
