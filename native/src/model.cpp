// load_model: a model of one of the architecture families (kFamilies below)
// from a parsed GGUF, described as model.h's Config. Hyperparameters come
// from "<arch>.*" metadata with llama.cpp's defaults and meanings; every
// tensor is looked up by llama.cpp's name, and its shape and type are checked
// before anything uses it, so a malformed or unsupported file fails here with
// one message naming the file, the tensor and what was expected, never later
// in a kernel. Weights stay in the file mapping, in their file type; only
// types the engine cannot multiply directly are converted, into buffers the
// model owns: Q5_0 to Q8_0 (exactly), Q4_1, Q5_1, Q2_K and Q3_K to f32
// (ggml_type_held_as).
#include "keymate/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "keymate/error.h"
#include "keymate/gguf.h"

namespace km {
namespace {

constexpr ArchFamily kFamilies[] = {
    // name      rope               activation            qk_n   post   embed  fused  norope swa  ign    wide
    {"llama",    RopeStyle::Normal, Activation::Silu,     false, false, false, false, 0,     0,   false, 0},
    {"qwen2",    RopeStyle::NeoX,   Activation::Silu,     false, false, false, false, 0,     0,   false, 0},
    {"qwen3",    RopeStyle::NeoX,   Activation::Silu,     true,  false, false, false, 0,     0,   false, 0},
    // Gemma 3 27B (62 layers) scales queries by its query_pre_attn_scalar, dim/heads, which the
    // file does not carry; llama.cpp recognizes it by its depth, and so does this.
    {"gemma3",   RopeStyle::NeoX,   Activation::GeluTanh, true,  true,  true,  false, 0,     6,   false, 62},
    {"phi3",     RopeStyle::NeoX,   Activation::Silu,     false, false, false, true,  0,     0,   true,  0},
    {"smollm3",  RopeStyle::Normal, Activation::Silu,     false, false, false, false, 4,     0,   false, 0},
};

// Limits that keep every size computed from them far from overflow.
constexpr uint64_t kMaxDim = 1u << 16, kMaxLayers = 1024, kMaxHeads = 1024, kMaxContext = 1u << 24;

std::string type_name(GgmlType t) {
  const GgmlTypeInfo i = ggml_type_info(t);
  return i.name ? i.name : "type " + std::to_string(static_cast<uint32_t>(t));
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Loader {
 public:
  Loader(const GgufFile& f, Model& m) : f_(f), m_(m), path_(f.path().c_str()) {}

  void hparams() {
    Config& c = m_.config;
    c.architecture = std::string(f_.get_string("general.architecture"));
    fam_ = find_family(c.architecture);
    if (!fam_)
      fail("%s: architecture '%s' is not supported (supported: %s)", path_, c.architecture.c_str(),
           supported_architectures().c_str());
    c.name = std::string(f_.get_string("general.name", ""));
    c.rope_style = fam_->rope;
    c.activation = fam_->activation;
    c.qk_norm = fam_->qk_norm;
    c.post_norms = fam_->post_norms;

    c.dim = (int)bounded(key("embedding_length"), kMaxDim);
    c.n_layers = (int)bounded(key("block_count"), kMaxLayers);
    c.n_heads = (int)per_layer_uint(key("attention.head_count"), 0, kMaxHeads);
    c.n_kv_heads = (int)per_layer_uint(key("attention.head_count_kv"), (uint64_t)c.n_heads, kMaxHeads);
    c.ffn_dim = (int)per_layer_uint(key("feed_forward_length"), 0, 4 * kMaxDim);
    c.context = (int)bounded(key("context_length"), kMaxContext);
    if (c.n_heads % c.n_kv_heads != 0)
      fail("%s: %d attention heads is not a multiple of %d KV heads", path_, c.n_heads, c.n_kv_heads);

    const uint64_t def_head = c.dim % c.n_heads == 0 ? (uint64_t)(c.dim / c.n_heads) : 0;
    const uint64_t head_k = f_.get_uint(key("attention.key_length"), def_head);
    const uint64_t head_v = f_.get_uint(key("attention.value_length"), def_head);
    if (head_k == 0)
      fail("%s: embedding length %d is not a multiple of %d heads and %s is absent", path_, c.dim, c.n_heads,
           key("attention.key_length").c_str());
    if (head_k != head_v)
      fail("%s: key length %llu differs from value length %llu, which the engine does not support", path_,
           (unsigned long long)head_k, (unsigned long long)head_v);
    if (head_k > 1024 || head_k % 2)
      fail("%s: head size %llu is not an even number up to 1024", path_, (unsigned long long)head_k);
    c.head_dim = (int)head_k;
    // Partial rotation (Phi-4-mini turns 96 of 128): llama.cpp refuses it for
    // the llama architecture, and so does this.
    const uint64_t rot = f_.get_uint(key("rope.dimension_count"), head_k);
    if (rot > head_k || rot % 2 || rot == 0 || (c.architecture == "llama" && rot != head_k))
      fail("%s: rope.dimension_count %llu does not fit the head size %llu (%s)", path_, (unsigned long long)rot,
           (unsigned long long)head_k, c.architecture == "llama" ? "the llama architecture rotates whole heads"
                                                                  : "an even number up to the head size");
    c.rope_dims = (int)rot;
    c.embed_scale = fam_->embed_scale ? std::sqrt((float)c.dim) : 1.0f;
    c.attn_scale = fam_->wide_scale_layers == c.n_layers ? 1.0f / std::sqrt((float)(c.dim / c.n_heads))
                                                         : 1.0f / std::sqrt((float)c.head_dim);

    const GgufValue* eps = f_.find(key("attention.layer_norm_rms_epsilon"));
    if (!eps) fail("%s: missing metadata %s", path_, key("attention.layer_norm_rms_epsilon").c_str());
    c.norm_eps = (float)eps->as_float(key("attention.layer_norm_rms_epsilon"));
    if (!(c.norm_eps >= 0 && c.norm_eps < 1)) fail("%s: RMSNorm epsilon %g is out of range", path_, c.norm_eps);
    c.rope_theta = (float)f_.get_float(key("rope.freq_base"), 10000.0);
    if (!(c.rope_theta > 0 && std::isfinite(c.rope_theta)))
      fail("%s: rope.freq_base %g is not a positive number", path_, c.rope_theta);

    // RoPE scaling as llama.cpp reads it: a factor applies whatever the type
    // says (linear, none); YaRN and LongRoPE change the formula itself.
    const std::string scaling(f_.get_string(key("rope.scaling.type"), "linear"));
    if (scaling != "linear" && scaling != "none")
      fail("%s: rope scaling '%s' is not supported (linear and none are)", path_, scaling.c_str());
    double factor = f_.get_float(key("rope.scaling.factor"), 0.0);
    if (factor == 0.0) factor = f_.get_float(key("rope.scale_linear"), 0.0);
    if (!(factor >= 0 && std::isfinite(factor))) fail("%s: rope scaling factor %g is invalid", path_, factor);
    c.rope_freq_scale = factor == 0.0 ? 1.0f : (float)(1.0 / factor);
    const double attn_factor = f_.get_float(key("rope.scaling.attn_factor"), 1.0);
    if (!(attn_factor > 0 && attn_factor < 16)) fail("%s: rope.scaling.attn_factor %g is invalid", path_, attn_factor);
    c.rope_attn_factor = (float)attn_factor;
    c.rope_orig_context = (int)std::min<uint64_t>(f_.get_uint(key("rope.scaling.original_context_length"),
                                                              (uint64_t)c.context), kMaxContext);
    layer_specs();
  }

  // Which rotation and which window each layer has.
  void layer_specs() {
    Config& c = m_.config;
    c.ropes = {RopeSpec{c.rope_theta, c.rope_freq_scale}};
    c.layers.assign((size_t)c.n_layers, LayerSpec{});
    if (fam_->no_rope_every)
      for (int l = 0; l < c.n_layers; l++)
        if ((l + 1) % fam_->no_rope_every == 0) c.layers[(size_t)l].rope = -1;

    const uint64_t window = f_.get_uint(key("attention.sliding_window"), 0);
    if (window == 0 || fam_->swa_ignored) return;
    if (!fam_->swa_pattern)
      fail("%s: %s has a sliding window, which the %s graph does not use", path_, key("attention.sliding_window").c_str(),
           c.architecture.c_str());
    if (window > kMaxContext) fail("%s: sliding window %llu is out of range", path_, (unsigned long long)window);
    // Sliding layers rotate with their own base (llama.cpp's default 10000) and no scaling.
    const double base = f_.get_float(key("rope.freq_base_swa"), 10000.0);
    if (!(base > 0 && std::isfinite(base))) fail("%s: rope.freq_base_swa %g is not a positive number", path_, base);
    c.ropes.push_back(RopeSpec{(float)base, 1.0f});
    std::vector<bool> slides((size_t)c.n_layers);
    const std::string pk = key("attention.sliding_window_pattern");
    const GgufValue* pv = f_.find(pk);
    if (pv && pv->kind == GgufKind::ARRAY) {  // one flag per layer
      if (pv->count != (uint64_t)c.n_layers || (pv->item_kind != GgufKind::BOOL && item_size(pv->item_kind) != 1))
        fail("%s: %s must hold one boolean per layer (%d)", path_, pk.c_str(), c.n_layers);
      for (int l = 0; l < c.n_layers; l++) slides[(size_t)l] = pv->items[l] != 0;
    } else {
      const uint64_t n = pv ? pv->as_uint(pk) : (uint64_t)fam_->swa_pattern;
      for (int l = 0; l < c.n_layers; l++) slides[(size_t)l] = n == 0 || (uint64_t)l % n < n - 1;
    }
    for (int l = 0; l < c.n_layers; l++)
      if (slides[(size_t)l]) c.layers[(size_t)l] = LayerSpec{1, (int)window};
  }

  void tensors() {
    Config& c = m_.config;
    Weights& w = m_.weights;
    const uint64_t dim = c.dim, q_dim = (uint64_t)c.n_heads * c.head_dim, kv_dim = (uint64_t)c.n_kv_heads * c.head_dim;
    const uint64_t ffn = c.ffn_dim;

    const GgufTensor* embd = need("token_embd.weight");
    if (embd->shape.size() < 2 || embd->shape[0] != dim)
      fail("%s: tensor token_embd.weight has shape %s, expected [%llu, vocab]", path_, shape_str(embd->shape).c_str(),
           (unsigned long long)dim);
    if (embd->shape[1] == 0 || embd->shape[1] > (1u << 22))
      fail("%s: tensor token_embd.weight has %llu rows, not a vocabulary size", path_,
           (unsigned long long)embd->shape[1]);
    c.vocab = (int)embd->shape[1];
    if (const GgufValue* toks = f_.find("tokenizer.ggml.tokens"))
      if (toks->kind == GgufKind::ARRAY && toks->count != (uint64_t)c.vocab)
        fail("%s: the tokenizer has %llu tokens but token_embd.weight has %d rows", path_,
             (unsigned long long)toks->count, c.vocab);
    w.token_embd = bind(*embd, {dim, (uint64_t)c.vocab}, Use::Embedding);

    w.output_norm = bind(*need("output_norm.weight"), {dim}, Use::Vector);
    if (const GgufTensor* out = f_.tensor("output.weight")) {
      w.output = bind(*out, {dim, (uint64_t)c.vocab}, Use::Matrix);
    } else {
      c.tied_embeddings = true;
      // The embedding doubles as the output matrix, so it must be multipliable.
      if (!ggml_type_runs_as_stored(w.token_embd.type)) w.token_embd = held(*embd, w.token_embd);
      w.output = w.token_embd;
    }
    const uint64_t half_rot = (uint64_t)c.rope_dims / 2;
    w.rope_freqs = factors("rope_freqs.weight", half_rot);
    w.rope_long = factors("rope_factors_long.weight", half_rot);
    w.rope_short = factors("rope_factors_short.weight", half_rot);
    if (w.rope_long.empty() != w.rope_short.empty())
      fail("%s: rope_factors_long.weight and rope_factors_short.weight come together; the file has one", path_);
    if (!w.rope_freqs.empty() && !w.rope_long.empty())
      fail("%s: the file has both rope_freqs.weight and LongRoPE factors; a model uses one", path_);
    c.has_rope_freqs = !w.rope_freqs.empty() || !w.rope_long.empty();

    w.layers.resize((size_t)c.n_layers);
    bool any_bias = false;
    for (int l = 0; l < c.n_layers; l++) {
      LayerWeights& L = w.layers[(size_t)l];
      const std::string p = "blk." + std::to_string(l) + ".";
      L.attn_norm = bind(*need(p + "attn_norm.weight"), {dim}, Use::Vector);
      if (const GgufTensor* qkv = f_.tensor(p + "attn_qkv.weight")) {
        const Tensor fused = bind(*qkv, {dim, q_dim + 2 * kv_dim}, Use::Matrix);
        L.wq = rows(fused, 0, q_dim, "q");
        L.wk = rows(fused, q_dim, kv_dim, "k");
        L.wv = rows(fused, q_dim + kv_dim, kv_dim, "v");
      } else {
        L.wq = bind(*need(p + "attn_q.weight"), {dim, q_dim}, Use::Matrix);
        L.wk = bind(*need(p + "attn_k.weight"), {dim, kv_dim}, Use::Matrix);
        L.wv = bind(*need(p + "attn_v.weight"), {dim, kv_dim}, Use::Matrix);
      }
      L.wo = bind(*need(p + "attn_output.weight"), {q_dim, dim}, Use::Matrix);
      L.ffn_norm = bind(*need(p + "ffn_norm.weight"), {dim}, Use::Vector);
      if (fam_->fused_ffn_up) {
        const Tensor up = bind(*need(p + "ffn_up.weight"), {dim, 2 * ffn}, Use::Matrix);
        L.w_gate = rows(up, 0, ffn, "gate");
        L.w_up = rows(up, ffn, ffn, "up");
      } else {
        L.w_gate = bind(*need(p + "ffn_gate.weight"), {dim, ffn}, Use::Matrix);
        L.w_up = bind(*need(p + "ffn_up.weight"), {dim, ffn}, Use::Matrix);
      }
      L.w_down = bind(*need(p + "ffn_down.weight"), {ffn, dim}, Use::Matrix);
      if (const GgufTensor* b = f_.tensor(p + "attn_q.bias")) L.bq = bind(*b, {q_dim}, Use::Vector), any_bias = true;
      if (const GgufTensor* b = f_.tensor(p + "attn_k.bias")) L.bk = bind(*b, {kv_dim}, Use::Vector), any_bias = true;
      if (const GgufTensor* b = f_.tensor(p + "attn_v.bias")) L.bv = bind(*b, {kv_dim}, Use::Vector), any_bias = true;
      if (c.qk_norm) {
        L.q_norm = bind(*need(p + "attn_q_norm.weight"), {(uint64_t)c.head_dim}, Use::Vector);
        L.k_norm = bind(*need(p + "attn_k_norm.weight"), {(uint64_t)c.head_dim}, Use::Vector);
      }
      if (c.post_norms) {
        L.attn_post_norm = bind(*need(p + "post_attention_norm.weight"), {dim}, Use::Vector);
        L.ffn_post_norm = bind(*need(p + "post_ffw_norm.weight"), {dim}, Use::Vector);
      }
      // Tensors this graph has no place for: refusing beats silently wrong output.
      std::vector<std::string> extras = {"attn_output.bias", "ffn_gate.bias", "ffn_up.bias", "ffn_down.bias",
                                         "attn_qkv.bias", "ffn_gate_inp.weight"};
      if (!c.qk_norm) extras.insert(extras.end(), {"attn_q_norm.weight", "attn_k_norm.weight"});
      if (!c.post_norms) extras.insert(extras.end(), {"post_attention_norm.weight", "post_ffw_norm.weight"});
      if (fam_->fused_ffn_up) extras.push_back("ffn_gate.weight");
      for (const std::string& extra : extras)
        if (f_.tensor(p + extra))
          fail("%s: tensor %s%s is not part of the %s graph the engine runs", path_, p.c_str(), extra.c_str(),
               c.architecture.c_str());
    }
    c.qkv_bias = any_bias;
  }

 private:
  enum class Use { Vector, Matrix, Embedding };

  std::string key(const char* suffix) const { return m_.config.architecture + "." + suffix; }

  uint64_t bounded(const std::string& k, uint64_t max) const {
    const uint64_t v = f_.get_uint(k);
    if (v == 0 || v > max) fail("%s: %s = %llu is out of range (1..%llu)", path_, k.c_str(), (unsigned long long)v,
                                (unsigned long long)max);
    return v;
  }

  // A hyperparameter llama.cpp allows per layer (a scalar or an array with
  // one value per layer); the engine needs every layer the same.
  uint64_t per_layer_uint(const std::string& k, uint64_t fallback, uint64_t max) const {
    const GgufValue* v = f_.find(k);
    uint64_t out = fallback;
    if (!v) {
      if (fallback == 0) fail("%s: missing metadata %s", path_, k.c_str());
    } else if (v->kind == GgufKind::ARRAY) {
      const size_t size = item_size(v->item_kind);
      if (!size || v->count == 0) fail("%s: %s is an array of a kind that is not an integer", path_, k.c_str());
      for (uint64_t i = 0; i < v->count; i++) {
        const uint64_t x = read_int(v->items + i * size, v->item_kind);
        if (i == 0) out = x;
        else if (x != out)
          fail("%s: %s differs between layers (%llu vs %llu), which the engine does not support", path_, k.c_str(),
               (unsigned long long)out, (unsigned long long)x);
      }
    } else {
      out = v->as_uint(k);
    }
    if (out == 0 || out > max)
      fail("%s: %s = %llu is out of range (1..%llu)", path_, k.c_str(), (unsigned long long)out,
           (unsigned long long)max);
    return out;
  }

  static size_t item_size(GgufKind k) {
    switch (k) {
      case GgufKind::U8: case GgufKind::I8: return 1;
      case GgufKind::U16: case GgufKind::I16: return 2;
      case GgufKind::U32: case GgufKind::I32: return 4;
      case GgufKind::U64: case GgufKind::I64: return 8;
      default: return 0;
    }
  }
  static uint64_t read_int(const uint8_t* p, GgufKind k) {
    switch (k) {
      case GgufKind::U8: return *p;
      case GgufKind::I8: return (uint64_t)(int64_t)(int8_t)*p;
      case GgufKind::U16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
      case GgufKind::I16: { int16_t v; std::memcpy(&v, p, 2); return (uint64_t)(int64_t)v; }
      case GgufKind::U32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
      case GgufKind::I32: { int32_t v; std::memcpy(&v, p, 4); return (uint64_t)(int64_t)v; }
      default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    }
  }

  const GgufTensor* need(const std::string& name) const {
    const GgufTensor* t = f_.tensor(name);
    if (!t) fail("%s: missing tensor %s (the %s architecture needs it)", path_, name.c_str(),
                 m_.config.architecture.c_str());
    return t;
  }

  // Checks shape (GGUF order, ne[0] first; trailing 1s allowed) and type, and
  // makes the Tensor view.
  Tensor bind(const GgufTensor& g, const std::vector<uint64_t>& want, Use use) {
    std::vector<uint64_t> have = g.shape;
    while (have.size() > want.size() && have.back() == 1) have.pop_back();
    if (have != want)
      fail("%s: tensor %s has shape %s, expected %s", path_, g.name.c_str(), shape_str(g.shape).c_str(),
           shape_str(want).c_str());
    const GgmlTypeInfo info = ggml_type_info(g.type);
    Tensor t;
    t.type = g.type;
    t.cols = (int64_t)want[0];
    t.rows = want.size() > 1 ? (int64_t)want[1] : 1;
    t.name = g.name;
    t.data = g.data;
    if (use == Use::Vector) {
      if (g.type != GgmlType::F32)
        fail("%s: tensor %s has type %s, expected f32", path_, g.name.c_str(), type_name(g.type).c_str());
      t.row_bytes = 4 * (uint64_t)t.cols;
    } else {
      if (!info.name || !info.decodable)
        fail("%s: tensor %s has type %s, which the engine cannot read", path_, g.name.c_str(),
             type_name(g.type).c_str());
      if (want[0] % info.block_elems)
        fail("%s: tensor %s has rows of %llu elements, not a multiple of the %s block of %u", path_, g.name.c_str(),
             (unsigned long long)want[0], info.name, info.block_elems);
      t.row_bytes = ggml_row_bytes(g.type, want[0]);
    }
    if (t.row_bytes * (uint64_t)t.rows != g.n_bytes)
      fail("%s: tensor %s holds %llu bytes, expected %llu for its shape and type", path_, g.name.c_str(),
           (unsigned long long)g.n_bytes, (unsigned long long)(t.row_bytes * (uint64_t)t.rows));
    if (use == Use::Matrix && !ggml_type_runs_as_stored(g.type)) t = held(g, t);
    return t;
  }

  // Rows [first, first + n) of a bound matrix: a fused tensor's parts.
  static Tensor rows(const Tensor& t, uint64_t first, uint64_t n, const char* part) {
    Tensor out = t;
    out.rows = (int64_t)n;
    out.data = static_cast<const uint8_t*>(t.data) + first * t.row_bytes;
    out.name = t.name + "[" + part + "]";
    return out;
  }

  // An optional vector of positive RoPE frequency factors.
  Tensor factors(const char* name, uint64_t n) {
    const GgufTensor* g = f_.tensor(name);
    if (!g) return Tensor{};
    Tensor t = bind(*g, {n}, Use::Vector);
    const float* ff = static_cast<const float*>(t.data);
    for (uint64_t i = 0; i < n; i++)
      if (!(ff[i] > 0 && std::isfinite(ff[i])))
        fail("%s: %s[%llu] = %g is not a positive factor", path_, name, (unsigned long long)i, ff[i]);
    return t;
  }

  // A tensor the kernels cannot multiply as stored, in the type it is held
  // in (ggml_type_held_as: Q8_0 for Q5_0, exactly; f32 otherwise), owned by
  // the model.
  Tensor held(const GgufTensor& g, const Tensor& t) {
    Tensor out = t;
    out.type = ggml_type_held_as(t.type);
    out.row_bytes = ggml_row_bytes(out.type, (uint64_t)t.cols);
    const uint64_t bytes = out.row_bytes * (uint64_t)t.rows;
    std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[bytes]);
    if (!buf) fail("%s: out of memory converting tensor %s (%llu bytes)", path_, g.name.c_str(), (unsigned long long)bytes);
    for (int64_t r = 0; r < t.rows; r++) {
      const uint8_t* src = static_cast<const uint8_t*>(t.data) + r * t.row_bytes;
      uint8_t* dst = buf.get() + r * out.row_bytes;
      if (out.type == GgmlType::Q8_0) q5_0_to_q8_0(src, dst, t.cols);
      else dequantize_row(t.type, src, reinterpret_cast<float*>(dst), t.cols);
    }
    out.data = buf.get();
    m_.weights.owned.push_back(std::move(buf));
    return out;
  }

  const GgufFile& f_;
  Model& m_;
  const char* path_;
  const ArchFamily* fam_ = nullptr;
};

}  // namespace

Model load_model(std::shared_ptr<const GgufFile> file) {
  if (!file) fail("load_model: no file");
  Model m;
  m.file = file;
  Loader ld(*file, m);
  ld.hparams();
  ld.tensors();
  return m;
}

// Every distinct weight tensor once (a tied output is the embedding).
static std::vector<const Tensor*> distinct_weights(const Model& m) {
  const Weights& w = m.weights;
  std::vector<const Tensor*> all{&w.token_embd, &w.output_norm, &w.output, &w.rope_freqs, &w.rope_long,
                                 &w.rope_short};
  for (const LayerWeights& L : w.layers)
    for (const Tensor* t : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.bq, &L.bk, &L.bv, &L.q_norm, &L.k_norm, &L.wo,
                            &L.attn_post_norm, &L.ffn_norm, &L.w_gate, &L.w_up, &L.w_down, &L.ffn_post_norm})
      all.push_back(t);
  std::set<const void*> seen;
  std::vector<const Tensor*> out;
  for (const Tensor* t : all)
    if (!t->empty() && seen.insert(t->data).second) out.push_back(t);
  return out;
}

const ArchFamily* find_family(std::string_view architecture) {
  for (const ArchFamily& f : kFamilies)
    if (architecture == f.name) return &f;
  return nullptr;
}

std::string supported_architectures() {
  std::string names;
  for (const ArchFamily& f : kFamilies) names += std::string(names.empty() ? "" : ", ") + f.name;
  return names;
}

int Config::sliding_window() const {
  int w = 0;
  for (const LayerSpec& l : layers) w = std::max(w, l.window);
  return w;
}

const float* rope_factors(const Model& m, int context) {
  const Weights& w = m.weights;
  if (!w.rope_freqs.empty()) return static_cast<const float*>(w.rope_freqs.data);
  if (w.rope_long.empty()) return nullptr;
  return static_cast<const float*>(context > m.config.rope_orig_context ? w.rope_long.data : w.rope_short.data);
}

uint64_t Model::parameters() const {
  uint64_t n = 0;
  for (const Tensor* t : distinct_weights(*this)) n += (uint64_t)t->rows * (uint64_t)t->cols;
  return n;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const Tensor* t : distinct_weights(*this)) n += t->bytes();
  return n;
}

}  // namespace km
