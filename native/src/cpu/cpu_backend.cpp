// The CPU backend: the Llama forward pass on the thread pool. One forward
// batch is ONE pool run; its ops are phases separated by barriers (as ggml's
// graph executor does), so a decoded token costs a few barriers per layer and
// no thread wake-ups. Phases of a layer (the block model.h's Config describes):
//   qkv:       RMSNorm fused into the input conversion, one fused q|k|v matmul
//   rope:      biases (qwen2), q/k head norms (qwen3, gemma3), RoPE on q and k
//              with the layer's rotation (or none), k and v stored into the
//              cache in its format (fp16, int8 or fp8; kv_cache.h)
//   attention: causal GQA over the cache (in the layer's window), then the
//              output projection with the residual add in its epilogue
//              (x += Wo att); with post-norms, Wo att goes to a buffer and is
//              normed before the add
//   ffn:       RMSNorm fused, one fused gate|up matmul; SwiGLU or GeGLU fused
//              into the down projection's input conversion, the residual in
//              its epilogue (or after the post-norm, as above)
// Long prompts run in batches of kMaxBatch tokens, each seeing the cache the
// previous ones wrote. read_kv / write_kv copy the cache to and from the KV
// state layout (keymate/backend.h), one run per layer, array and head.
// With an observer (BackendOptions::observer, calibration only), thread 0
// also hands it each matmul's input rows before the matmul runs: the normed
// inputs are made again for it, since the matmul never writes them out. The
// other threads meanwhile take the matmul's chunks (work shares balance),
// so the forward pass without an observer is untouched but for one test.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "cpu/kv_cache.h"
#include "cpu/matmul.h"
#include "cpu/rope.h"
#include "cpu/thread_pool.h"
#include "keymate/backend.h"
#include "keymate/error.h"
#include "quant/quantize_run.h"
#include "timer.h"

namespace km {
namespace cpu {
namespace {

constexpr int kMaxBatch = 256;       // tokens per forward batch
constexpr int kDefaultContext = 4096;

struct Layer {
  MatGroup qkv;      // outputs [q | k | v]
  MatGroup wo;
  MatGroup gate_up;  // outputs [gate | up]
  MatGroup down;
  const float* attn_norm = nullptr;
  const float* ffn_norm = nullptr;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;    // [head_dim], qk_norm only
  const float* k_norm = nullptr;
  const float* attn_post = nullptr; // [dim], post_norms only
  const float* ffn_post = nullptr;
  int rope = 0;                     // index into ropes_, -1: none
  int window = 0;
  AlignedBuffer k_cache, v_cache;  // [n_kv_heads][context][head_dim] in the KV format (kv_cache.h)
  AlignedBuffer k_scale, v_scale;  // INT8 KV: [n_kv_heads][context] fp16
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& opts)
      : model_(std::move(model)), simd_(simd_from_env()), k_(kernels_for(simd_)),
        pool_(opts.threads > 0 ? opts.threads : default_thread_count()), profile_(opts.profile), kv_(opts.kv),
        observer_(opts.observer) {
    const Config& c = model_->config;
    if (opts.threads < 0) fail("cpu backend: --threads %d is negative", opts.threads);
    if (opts.context < 0) fail("cpu backend: context %d is negative", opts.context);
    ctx_ = opts.context > 0 ? opts.context : std::min(c.context, kDefaultContext);
    q_dim_ = (int64_t)c.n_heads * c.head_dim;
    kv_dim_ = (int64_t)c.n_kv_heads * c.head_dim;

    const Weights& w = model_->weights;
    for (const RopeSpec& r : c.ropes) {
      RopeParams rp;
      rp.dims = c.rope_dims;
      rp.base = r.base;
      rp.freq_scale = r.freq_scale;
      rp.freq_factors = rope_factors(*model_, ctx_);
      rp.style = c.rope_style;
      rp.attn_factor = c.rope_attn_factor;
      ropes_.push_back(rp);
    }
    layers_.resize((size_t)c.n_layers);
    int64_t max_cols = c.dim;
    uint64_t max_act = 0;
    std::vector<const MatGroup*> groups;
    for (int l = 0; l < c.n_layers; l++) {
      const LayerWeights& L = w.layers[(size_t)l];
      Layer& y = layers_[(size_t)l];
      y.qkv = MatGroup::build({&L.wq, &L.wk, &L.wv}, simd_);
      y.wo = MatGroup::build({&L.wo}, simd_);
      y.gate_up = MatGroup::build({&L.w_gate, &L.w_up}, simd_);
      y.down = MatGroup::build({&L.w_down}, simd_);
      y.attn_norm = static_cast<const float*>(L.attn_norm.data);
      y.ffn_norm = static_cast<const float*>(L.ffn_norm.data);
      y.bq = static_cast<const float*>(L.bq.data);
      y.bk = static_cast<const float*>(L.bk.data);
      y.bv = static_cast<const float*>(L.bv.data);
      y.q_norm = static_cast<const float*>(L.q_norm.data);
      y.k_norm = static_cast<const float*>(L.k_norm.data);
      y.attn_post = static_cast<const float*>(L.attn_post_norm.data);
      y.ffn_post = static_cast<const float*>(L.ffn_post_norm.data);
      y.rope = c.layers[(size_t)l].rope;
      y.window = c.layers[(size_t)l].window;
      const size_t cache = kv_quant_bytes(kv_, c.n_kv_heads, ctx_, c.head_dim);
      y.k_cache = aligned_buffer(cache);
      y.v_cache = aligned_buffer(cache);
      if (kv_has_scales(kv_)) {
        y.k_scale = aligned_buffer(kv_scale_bytes(kv_, c.n_kv_heads, ctx_));
        y.v_scale = aligned_buffer(kv_scale_bytes(kv_, c.n_kv_heads, ctx_));
      }
      for (const MatGroup* g : {&y.qkv, &y.wo, &y.gate_up, &y.down}) groups.push_back(g);
    }
    output_ = MatGroup::build({&w.output}, simd_);
    groups.push_back(&output_);
    for (const MatGroup* g : groups) {
      max_cols = std::max(max_cols, g->cols);
      for (const CpuMatrix& m : g->mats) {
        max_act = std::max(max_act, act_row_bytes(m.act(), m.cols()));
        for (const MatPart& p : m.parts()) (void)k_.mat(p);  // every kernel exists before any thread runs
      }
      max_mats_ = std::max(max_mats_, g->mats.size());
    }

    scratch_.reserve(kMaxBatch, max_cols, max_act);
    x_ = aligned_buffer((size_t)kMaxBatch * c.dim * sizeof(float));
    qkv_ = aligned_buffer((size_t)kMaxBatch * (q_dim_ + 2 * kv_dim_) * sizeof(float));
    att_ = aligned_buffer((size_t)kMaxBatch * q_dim_ * sizeof(float));
    gu_ = aligned_buffer((size_t)kMaxBatch * 2 * c.ffn_dim * sizeof(float));
    rope_cs_ = aligned_buffer(ropes_.size() * (size_t)kMaxBatch * c.rope_dims * sizeof(float));
    if (c.post_norms) post_ = aligned_buffer((size_t)kMaxBatch * c.dim * sizeof(float));
    if (observer_) observed_ = aligned_buffer((size_t)kMaxBatch * max_cols * sizeof(float));
    scores_ = aligned_buffer((size_t)pool_.size() *
                             (size_t)attention_scratch_floats(c.n_heads, c.n_kv_heads, c.head_dim) * sizeof(float));
    // Work shares (work_share.h), one slot per thread each: per layer, one per
    // matrix of qkv, wo, gate_up, down, plus attention; then the output matrix.
    n_shares_ = (size_t)c.n_layers * (4 * max_mats_ + 1) + max_mats_;
    slots_.reset(new WorkSlot[n_shares_ * (size_t)pool_.size()]);
  }

  std::string name() const override { return "cpu"; }

  std::string device() const override {
    std::string cpu = cpu_model_name();
    if (cpu.empty()) cpu = "CPU";
    return format("%s (%d threads, %s)", cpu.c_str(), pool_.size(), simd_name(simd_));
  }

  int context() const override { return ctx_; }

  void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) override {
    const Config& c = model_->config;
    if (n <= 0) fail("cpu backend: forward needs at least one token (got %d)", n);
    if (pos < 0) fail("cpu backend: position %d is negative", pos);
    if ((int64_t)pos + n > ctx_)
      fail("cpu backend: %d tokens at position %d exceed the context of %d tokens", n, pos, ctx_);
    for (int i = 0; i < n; i++)
      if (tokens[i] < 0 || tokens[i] >= c.vocab)
        fail("cpu backend: token id %d is outside the vocabulary (0..%d)", tokens[i], c.vocab - 1);
    for (int b = 0; b < n; b += kMaxBatch) {
      const int nb = std::min(kMaxBatch, n - b);
      const bool last = b + nb == n;
      float* out = all_logits ? logits + (int64_t)b * c.vocab : (last ? logits : nullptr);
      batch(tokens + b, nb, pos + b, out, all_logits);
    }
  }

  uint64_t kv_bytes(int n) const override {
    check_state_tokens(n);
    return kv_state_layout(model_->config, kv_, n).total();
  }

  // The cache is [n_kv_heads][context][...] per array, so each head's first
  // n entries are one run both here and in the state.
  void read_kv(int n, uint8_t* out) const override {
    check_state_tokens(n);
    const KvStateLayout s = kv_state_layout(model_->config, kv_, n);
    const uint64_t vec = vector_bytes();
    for (int l = 0; l < (int)layers_.size(); l++) {
      const Layer& L = layers_[(size_t)l];
      copy_heads(L.k_cache.get(), ctx_, out + s.k_quants(l), n, n, vec);
      copy_heads(L.v_cache.get(), ctx_, out + s.v_quants(l), n, n, vec);
      if (s.scales) {
        copy_heads(L.k_scale.get(), ctx_, out + s.k_scales(l), n, n, sizeof(uint16_t));
        copy_heads(L.v_scale.get(), ctx_, out + s.v_scales(l), n, n, sizeof(uint16_t));
      }
    }
  }

  void write_kv(int n, const uint8_t* in) override {
    check_state_tokens(n);
    const KvStateLayout s = kv_state_layout(model_->config, kv_, n);
    const uint64_t vec = vector_bytes();
    for (int l = 0; l < (int)layers_.size(); l++) {
      Layer& L = layers_[(size_t)l];
      copy_heads(in + s.k_quants(l), n, L.k_cache.get(), ctx_, n, vec);
      copy_heads(in + s.v_quants(l), n, L.v_cache.get(), ctx_, n, vec);
      if (s.scales) {
        copy_heads(in + s.k_scales(l), n, L.k_scale.get(), ctx_, n, sizeof(uint16_t));
        copy_heads(in + s.v_scales(l), n, L.v_scale.get(), ctx_, n, sizeof(uint16_t));
      }
    }
  }

  StageTimes stats() const override { return stats_; }
  void reset_stats() override { stats_ = StageTimes{}; }

 private:
  // One batch of n <= kMaxBatch tokens in one pool run. logits: null (a batch
  // before the last one of a prompt), [vocab] for the last token, or [n, vocab].
  void batch(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) {
    const Config& c = model_->config;
    for (size_t i = 0; i < n_shares_ * (size_t)pool_.size(); i++) slots_[i].taken.store(0, std::memory_order_relaxed);
    double t_last = profile_ ? now_ms() : 0;
    StageTimes st;
    pool_.run([&](int ith, int nth) {
      // Thread 0 charges the time since the last stage end to `bucket`, after
      // the barrier that ends the stage.
      auto stage_end = [&](double& bucket) {
        pool_.barrier();
        if (profile_ && ith == 0) {
          const double t = now_ms();
          bucket += t - t_last;
          t_last = t;
        }
      };
      size_t ci = 0;  // next work share; every thread walks them in the same order

      embed(ith, nth, tokens, n, pos);
      stage_end(st.embed);
      const int64_t ld_qkv = q_dim_ + 2 * kv_dim_;
      for (size_t l = 0; l < layers_.size(); l++) {
        Layer& L = layers_[l];
        // qkv
        MatInput in;
        in.kind = MatInput::RmsNorm;
        in.x = x();
        in.ldx = c.dim;
        in.norm = L.attn_norm;
        in.eps = c.norm_eps;
        if (observer_ && ith == 0) observe((int)l, MatSite::AttnIn, in, n, c.dim);
        matmul_phase(ith, nth, pool_, k_, L.qkv, in, n, qkv(), ld_qkv, false, scratch_, next_shares(ci, L.qkv));
        pool_.barrier();
        rope_and_store(ith, nth, L, n, pos);
        stage_end(st.qkv);
        // attention
        AttentionArgs aa;
        aa.q = qkv();
        aa.ldq = ld_qkv;
        aa.kv = kv_;
        aa.k = L.k_cache.get();
        aa.v = L.v_cache.get();
        aa.k_scale = reinterpret_cast<const uint16_t*>(L.k_scale.get());
        aa.v_scale = reinterpret_cast<const uint16_t*>(L.v_scale.get());
        aa.context = ctx_;
        aa.n = n;
        aa.pos = pos;
        aa.n_heads = c.n_heads;
        aa.n_kv_heads = c.n_kv_heads;
        aa.head_dim = c.head_dim;
        aa.scale = c.attn_scale;
        aa.window = L.window;
        aa.out = att();
        aa.ldo = q_dim_;
        aa.scratch = reinterpret_cast<float*>(scores_.get());
        attention_phase(ith, nth, k_, aa, share(ci++));
        pool_.barrier();
        MatInput ai;
        ai.x = att();
        ai.ldx = q_dim_;
        if (observer_ && ith == 0) observe((int)l, MatSite::AttnOut, ai, n, q_dim_);
        project_residual(ith, nth, L.wo, ai, n, L.attn_post, ci);
        stage_end(st.attention);
        // ffn
        MatInput fi;
        fi.kind = MatInput::RmsNorm;
        fi.x = x();
        fi.ldx = c.dim;
        fi.norm = L.ffn_norm;
        fi.eps = c.norm_eps;
        if (observer_ && ith == 0) observe((int)l, MatSite::FfnIn, fi, n, c.dim);
        matmul_phase(ith, nth, pool_, k_, L.gate_up, fi, n, gu(), 2 * c.ffn_dim, false, scratch_,
                     next_shares(ci, L.gate_up));
        pool_.barrier();
        MatInput di;
        di.kind = c.activation == Activation::GeluTanh ? MatInput::GeGlu : MatInput::SwiGlu;
        di.x = gu();
        di.u = gu() + c.ffn_dim;
        di.ldx = 2 * c.ffn_dim;
        if (observer_ && ith == 0) observe((int)l, MatSite::FfnDownIn, di, n, c.ffn_dim);
        project_residual(ith, nth, L.down, di, n, L.ffn_post, ci);
        stage_end(st.ffn);
      }
      if (logits) {
        const int rows = all_logits ? n : 1;
        MatInput oi;
        oi.kind = MatInput::RmsNorm;
        oi.x = x() + (int64_t)(n - rows) * c.dim;
        oi.ldx = c.dim;
        oi.norm = static_cast<const float*>(model_->weights.output_norm.data);
        oi.eps = c.norm_eps;
        if (observer_ && ith == 0) observe(-1, MatSite::Output, oi, rows, c.dim);
        matmul_phase(ith, nth, pool_, k_, output_, oi, rows, logits, c.vocab, false, scratch_,
                     next_shares(ci, output_));
        stage_end(st.logits);
      }
    });
    if (profile_) {
      stats_.embed += st.embed;
      stats_.qkv += st.qkv;
      stats_.attention += st.attention;
      stats_.ffn += st.ffn;
      stats_.logits += st.logits;
    }
  }

  // x += W in, the residual add in the matmul's epilogue; or, with a
  // post-norm, x += rmsnorm(W in) * post, through the post_ buffer.
  void project_residual(int ith, int nth, const MatGroup& g, const MatInput& in, int n, const float* post,
                        size_t& ci) {
    const Config& c = model_->config;
    if (!post) {
      matmul_phase(ith, nth, pool_, k_, g, in, n, x(), c.dim, true, scratch_, next_shares(ci, g));
      return;
    }
    float* y = reinterpret_cast<float*>(post_.get());
    matmul_phase(ith, nth, pool_, k_, g, in, n, y, c.dim, false, scratch_, next_shares(ci, g));
    pool_.barrier();
    const Range r = split_range(n, ith, nth);
    for (int64_t t = r.begin; t < r.end; t++) {
      float* yt = y + t * c.dim;
      k_.rms_norm(yt, post, c.norm_eps, c.dim, yt);
      add(x() + t * c.dim, yt, c.dim);
    }
  }

  // The rows a matmul with input `in` multiplies, made as its prologue makes
  // them (before any conversion to the matrix's activation form), to the observer.
  void observe(int layer, MatSite site, const MatInput& in, int n, int64_t cols) {
    if (in.kind == MatInput::Plain) {
      observer_->rows(layer, site, in.x, n, cols, in.ldx);
      return;
    }
    float* y = reinterpret_cast<float*>(observed_.get());
    for (int t = 0; t < n; t++) {
      const float* src = in.x + (int64_t)t * in.ldx;
      if (in.kind == MatInput::RmsNorm) k_.rms_norm(src, in.norm, in.eps, cols, y + t * cols);
      else (in.kind == MatInput::SwiGlu ? k_.swiglu : k_.geglu)(src, in.u + (int64_t)t * in.ldx, y + t * cols, (int)cols);
    }
    observer_->rows(layer, site, y, n, cols, cols);
  }

  // Work share i: its pool_.size() slots.
  WorkSlot* share(size_t i) { return &slots_[i * (size_t)pool_.size()]; }

  // Hands out `g.mats.size()` fresh shares; every thread advances `ci` alike.
  WorkSlot* const* next_shares(size_t& ci, const MatGroup& g) {
    thread_local std::vector<WorkSlot*> ptrs;
    ptrs.resize(g.mats.size());
    for (size_t i = 0; i < g.mats.size(); i++) ptrs[i] = share(ci + i);
    ci += g.mats.size();
    return ptrs.data();
  }

  // Token embeddings into x, and the RoPE angles of each position for each
  // rotation (shared by the layers that use it).
  void embed(int ith, int nth, const int32_t* tokens, int n, int pos) {
    const Config& c = model_->config;
    const Tensor& e = model_->weights.token_embd;
    const Range r = split_range(n, ith, nth);
    for (int64_t t = r.begin; t < r.end; t++) {
      float* xt = x() + t * c.dim;
      quant::tensor_row(e, tokens[t], xt);
      if (c.embed_scale != 1.0f)
        for (int i = 0; i < c.dim; i++) xt[i] *= c.embed_scale;
      for (size_t ri = 0; ri < ropes_.size(); ri++) rope_angles(ropes_[ri], pos + t, rope_cs((int)ri) + t * c.rope_dims);
    }
  }

  void rope_and_store(int ith, int nth, const Layer& L, int n, int pos) {
    const Config& c = model_->config;
    const int hd = c.head_dim;
    const int64_t ld = q_dim_ + 2 * kv_dim_;
    const RopeParams* rp = L.rope >= 0 ? &ropes_[(size_t)L.rope] : nullptr;
    uint8_t* kc = L.k_cache.get();
    uint8_t* vc = L.v_cache.get();
    uint16_t* ks = reinterpret_cast<uint16_t*>(L.k_scale.get());
    uint16_t* vs = reinterpret_cast<uint16_t*>(L.v_scale.get());
    const uint64_t eb = kv_elem_bytes(kv_);
    // Items: (token, head) over the query heads then the KV heads.
    const int heads = c.n_heads + c.n_kv_heads;
    const Range r = split_range((int64_t)n * heads, ith, nth);
    for (int64_t it = r.begin; it < r.end; it++) {
      const int t = (int)(it / heads), h = (int)(it % heads);
      float* row = qkv() + t * ld;
      const float* cs = rp ? rope_cs(L.rope) + (int64_t)t * c.rope_dims : nullptr;
      if (h < c.n_heads) {
        float* q = row + (int64_t)h * hd;
        if (L.bq) add(q, L.bq + (int64_t)h * hd, hd);
        if (L.q_norm) k_.rms_norm(q, L.q_norm, c.norm_eps, hd, q);
        if (rp) rope_apply(*rp, cs, q);
      } else {
        const int kh = h - c.n_heads;
        float* k = row + q_dim_ + (int64_t)kh * hd;
        float* v = row + q_dim_ + kv_dim_ + (int64_t)kh * hd;
        if (L.bk) add(k, L.bk + (int64_t)kh * hd, hd);
        if (L.bv) add(v, L.bv + (int64_t)kh * hd, hd);
        if (L.k_norm) k_.rms_norm(k, L.k_norm, c.norm_eps, hd, k);
        if (rp) rope_apply(*rp, cs, k);
        const int64_t tok = (int64_t)kh * ctx_ + pos + t;  // (head, token) index
        kv_store(k_, kv_, k, hd, kc + (uint64_t)tok * hd * eb, ks ? ks + tok : nullptr);
        kv_store(k_, kv_, v, hd, vc + (uint64_t)tok * hd * eb, vs ? vs + tok : nullptr);
      }
    }
  }

  void check_state_tokens(int n) const {
    if (n < 0 || n > ctx_) fail("cpu backend: a KV state of %d tokens does not fit the context of %d tokens", n, ctx_);
  }

  uint64_t vector_bytes() const { return (uint64_t)model_->config.head_dim * kv_elem_bytes(kv_); }

  // The first n entries (`entry` bytes each) of every KV head, from an array
  // of [n_kv_heads][src_len] entries to one of [n_kv_heads][dst_len].
  void copy_heads(const uint8_t* src, int src_len, uint8_t* dst, int dst_len, int n, uint64_t entry) const {
    for (int h = 0; h < model_->config.n_kv_heads; h++)
      std::memcpy(dst + (uint64_t)h * (uint64_t)dst_len * entry, src + (uint64_t)h * (uint64_t)src_len * entry,
                  (uint64_t)n * entry);
  }

  static void add(float* x, const float* b, int n) {
    for (int i = 0; i < n; i++) x[i] += b[i];
  }

  float* x() { return reinterpret_cast<float*>(x_.get()); }
  float* qkv() { return reinterpret_cast<float*>(qkv_.get()); }
  float* att() { return reinterpret_cast<float*>(att_.get()); }
  float* gu() { return reinterpret_cast<float*>(gu_.get()); }
  float* rope_cs(int r) {
    return reinterpret_cast<float*>(rope_cs_.get()) + (int64_t)r * kMaxBatch * model_->config.rope_dims;
  }

  std::shared_ptr<const Model> model_;
  Simd simd_;
  const Kernels& k_;
  ThreadPool pool_;
  bool profile_;
  KvType kv_;
  MatInputObserver* observer_;
  int ctx_ = 0;
  int64_t q_dim_ = 0, kv_dim_ = 0;
  std::vector<RopeParams> ropes_;  // one per Config::ropes entry
  std::vector<Layer> layers_;
  MatGroup output_;
  size_t max_mats_ = 1;
  MatScratch scratch_;
  AlignedBuffer x_, qkv_, att_, gu_, rope_cs_, post_, scores_;
  AlignedBuffer observed_;  // [kMaxBatch][max_cols]: an observed matmul's input rows
  std::unique_ptr<WorkSlot[]> slots_;
  size_t n_shares_ = 0;
  StageTimes stats_;
};

}  // namespace
}  // namespace cpu

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model, const BackendOptions& opts) {
  if (!model) fail("cpu backend: no model");
  return std::make_unique<cpu::CpuBackend>(std::move(model), opts);
}

}  // namespace km
