// The ops run once on host data, for the GPU tests; see ops_host.h. Each call
// allocates, uploads, launches the op's launch-path kernels on the default
// stream and downloads: slow and simple, which is what a test wants.
#include "ops/ops_host.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "ops/attention.cuh"
#include "ops/embed.cuh"
#include "ops/rmsnorm.cuh"
#include "ops/rope_kv.cuh"
#include "ops/sample.cuh"

namespace km::cuda::host {

namespace {

// KEYMATE_OPS_MAX_BLOCKS=N: each launch uses at most N blocks, so a block runs
// several tiles in turn, as the persistent kernel's blocks do: what shows a
// barrier missing between one tile and the next (unset: a block per tile).
int grid(int tiles) {
  static const int cap = [] {
    const char* v = std::getenv("KEYMATE_OPS_MAX_BLOCKS");
    return v && *v ? std::atoi(v) : 0;
  }();
  return cap > 0 && tiles > cap ? cap : tiles;
}

DeviceBuffer upload(const void* p, uint64_t bytes) {
  DeviceBuffer b(bytes);
  b.upload(p, bytes);
  return b;
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& v) {
  return upload(v.data(), v.size() * sizeof(T));
}

DeviceBuffer step(int n, int pos, const int32_t* tokens = nullptr) {
  if (n < 1 || n > kMaxStepTokens) fail("ops_host: %d tokens: a step takes 1..%d", n, kMaxStepTokens);
  StepState st{};
  st.n = n;
  st.pos = pos;
  if (tokens) std::memcpy(st.tokens, tokens, (size_t)n * sizeof(int32_t));
  return upload(&st, sizeof st);
}

void finish() {
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaDeviceSynchronize());
}

// The cache on the device, paged with a reversed page table (logical page p
// lives in physical page pages - 1 - p).
struct DevCache {
  int pages = 0;
  DeviceBuffer k, v, ks, vs, table;
  std::vector<int32_t> phys;

  uint64_t dev_vector(const KvCache& c, int h, int t) const {
    return ((uint64_t)phys[(size_t)(t / kKvPageTokens)] * c.n_kv_heads + h) * kKvPageTokens + t % kKvPageTokens;
  }
  uint64_t cpu_vector(const KvCache& c, int h, int t) const { return (uint64_t)h * c.context + t; }

  explicit DevCache(const KvCache& c) {
    pages = (c.context + kKvPageTokens - 1) / kKvPageTokens;
    phys.resize((size_t)pages);
    for (int p = 0; p < pages; p++) phys[(size_t)p] = pages - 1 - p;
    table = upload(phys);
    const uint64_t vecs = (uint64_t)pages * c.n_kv_heads * kKvPageTokens;
    const uint64_t vb = (uint64_t)c.head_dim * kv_elem_bytes(c.type);
    std::vector<uint8_t> hk(vecs * vb), hv(vecs * vb);
    std::vector<uint16_t> hks(vecs), hvs(vecs);
    for (int h = 0; h < c.n_kv_heads; h++)
      for (int t = 0; t < c.context; t++) {
        const uint64_t d = dev_vector(c, h, t), s = cpu_vector(c, h, t);
        std::memcpy(&hk[d * vb], &c.k[s * vb], vb);
        std::memcpy(&hv[d * vb], &c.v[s * vb], vb);
        if (kv_has_scales(c.type)) {
          hks[d] = c.k_scale[s];
          hvs[d] = c.v_scale[s];
        }
      }
    k = upload(hk);
    v = upload(hv);
    ks = upload(hks);
    vs = upload(hvs);
  }

  KvLayer layer(const KvCache& c) const {
    KvLayer l{};
    l.type = c.type;
    l.k = k.get<uint8_t>();
    l.v = v.get<uint8_t>();
    l.k_scale = kv_has_scales(c.type) ? ks.get<uint16_t>() : nullptr;
    l.v_scale = kv_has_scales(c.type) ? vs.get<uint16_t>() : nullptr;
    l.page_table = table.get<int32_t>();
    l.n_kv_heads = c.n_kv_heads;
    l.head_dim = c.head_dim;
    l.context = c.context;
    return l;
  }

  void download(KvCache& c) const {
    const uint64_t vecs = (uint64_t)pages * c.n_kv_heads * kKvPageTokens;
    const uint64_t vb = (uint64_t)c.head_dim * kv_elem_bytes(c.type);
    std::vector<uint8_t> hk(vecs * vb), hv(vecs * vb);
    std::vector<uint16_t> hks(vecs), hvs(vecs);
    k.download(hk.data(), hk.size());
    v.download(hv.data(), hv.size());
    ks.download(hks.data(), hks.size() * 2);
    vs.download(hvs.data(), hvs.size() * 2);
    for (int h = 0; h < c.n_kv_heads; h++)
      for (int t = 0; t < c.context; t++) {
        const uint64_t d = dev_vector(c, h, t), s = cpu_vector(c, h, t);
        std::memcpy(&c.k[s * vb], &hk[d * vb], vb);
        std::memcpy(&c.v[s * vb], &hv[d * vb], vb);
        if (kv_has_scales(c.type)) {
          c.k_scale[s] = hks[d];
          c.v_scale[s] = hvs[d];
        }
      }
  }
};

}  // namespace

KvCache::KvCache(KvType t, int n_kv, int hd, int ctx) : type(t), n_kv_heads(n_kv), head_dim(hd), context(ctx) {
  const size_t vecs = (size_t)n_kv * ctx;
  k.assign(vecs * hd * kv_elem_bytes(t), 0);
  v.assign(vecs * hd * kv_elem_bytes(t), 0);
  if (kv_has_scales(t)) {
    k_scale.assign(vecs, 0);
    v_scale.assign(vecs, 0);
  }
}

// y = rmsnorm(x) * w, or acc += that when add.
static void rmsnorm_run(const float* x, const float* w, int n, int dim, float eps, float* out, bool add) {
  DeviceBuffer dx = upload(x, (uint64_t)n * dim * 4), dw = upload(w, (uint64_t)dim * 4);
  DeviceBuffer dy = add ? upload(out, (uint64_t)n * dim * 4) : DeviceBuffer((uint64_t)n * dim * 4), st = step(n, 0);
  RmsNormArgs a{};
  a.x = dx.get<float>();
  a.w = dw.get<float>();
  (add ? a.add_to : a.y) = dy.get<float>();
  a.dim = dim;
  a.eps = eps;
  launch_rmsnorm(a, st.get<StepState>(), grid(n), nullptr);
  finish();
  dy.download(out, (uint64_t)n * dim * 4);
}

void rmsnorm(const float* x, const float* w, int n, int dim, float eps, float* y) {
  rmsnorm_run(x, w, n, dim, eps, y, false);
}

void rmsnorm_add(const float* x, const float* w, int n, int dim, float eps, float* acc) {
  rmsnorm_run(x, w, n, dim, eps, acc, true);
}

bool embed_supported(const Tensor& table) { return embed_supports(table.type, table.quant); }

void embed(const Tensor& table, const int32_t* tokens, int n, float* x, float scale) {
  if (!embed_supported(table)) fail("ops_host: embed does not read %s's type", table.name.c_str());
  DeviceBuffer dt = upload(table.data, table.bytes()), dx((uint64_t)n * table.cols * 4), st = step(n, 0, tokens);
  EmbedArgs a{};
  a.table = dt.get();
  a.row_bytes = table.row_bytes;
  a.dim = (int32_t)table.cols;
  a.vocab = (int32_t)table.rows;
  a.type = table.type;
  a.quant = table.quant;
  a.x = dx.get<float>();
  a.scale = scale;
  launch_embed(a, st.get<StepState>(), grid(n), nullptr);
  finish();
  dx.download(x, (uint64_t)n * table.cols * 4);
}

void rope_kv(const Rope& r, int n, int pos, float* qkv, KvCache& cache) {
  const int hd = cache.head_dim, ld = (r.n_heads + 2 * cache.n_kv_heads) * hd;
  DevCache dc(cache);
  DeviceBuffer dq = upload(qkv, (uint64_t)n * ld * 4), st = step(n, pos);
  const int rd = r.rope_dims ? r.rope_dims : hd;
  DeviceBuffer bq, bk, bv, ff, qn, kn;
  if (r.bq) bq = upload(r.bq, (uint64_t)r.n_heads * hd * 4);
  if (r.bk) bk = upload(r.bk, (uint64_t)cache.n_kv_heads * hd * 4);
  if (r.bv) bv = upload(r.bv, (uint64_t)cache.n_kv_heads * hd * 4);
  if (r.freq_factors) ff = upload(r.freq_factors, (uint64_t)rd / 2 * 4);
  if (r.q_norm) qn = upload(r.q_norm, (uint64_t)hd * 4);
  if (r.k_norm) kn = upload(r.k_norm, (uint64_t)hd * 4);
  RopeKvArgs a{};
  a.qkv = dq.get<float>();
  a.ld = ld;
  a.bq = bq.get<float>();
  a.bk = bk.get<float>();
  a.bv = bv.get<float>();
  a.n_heads = r.n_heads;
  a.q_norm = qn.get<float>();
  a.k_norm = kn.get<float>();
  a.eps = r.eps;
  a.rope_dims = rd;
  a.rotate = r.rotate;
  a.theta_scale = r.theta_scale;
  a.freq_scale = r.freq_scale;
  a.attn_factor = r.attn_factor;
  a.freq_factors = ff.get<float>();
  a.neox = r.neox;
  a.kv = dc.layer(cache);
  launch_rope_kv(a, st.get<StepState>(), grid(n), nullptr);
  finish();
  dq.download(qkv, (uint64_t)n * ld * 4);
  dc.download(cache);
}

void attention(int n_heads, int n, int pos, const float* q, const KvCache& cache, float* out, int window,
               float scale) {
  const int hd = cache.head_dim;
  const uint64_t qbytes = (uint64_t)n * n_heads * hd * 4;
  DevCache dc(cache);
  DeviceBuffer dq = upload(q, qbytes), dout(qbytes), st = step(n, pos);
  DeviceBuffer partials(attention_partial_floats(n_heads, hd, cache.context) * 4);
  AttentionArgs a{};
  a.q = dq.get<float>();
  a.ldq = n_heads * hd;
  a.kv = dc.layer(cache);
  a.n_heads = n_heads;
  a.scale = scale != 0 ? scale : 1.0f / std::sqrt((float)hd);
  a.window = window;
  a.out = dout.get<float>();
  a.ldo = n_heads * hd;
  a.partials = partials.get<float>();
  a.max_splits = (cache.context + kAttnSplitKeys - 1) / kAttnSplitKeys;
  StepState hs{};
  hs.n = n;
  hs.pos = pos;
  launch_attn_partial(a, st.get<StepState>(), grid(attn_partial_tiles(a, hs)), nullptr);
  launch_attn_combine(a, st.get<StepState>(), grid(attn_combine_tiles(a, hs)), nullptr);
  launch_attn_prefill(a, st.get<StepState>(), grid(attn_prefill_tiles(a, hs)), nullptr);
  finish();
  dout.download(out, qbytes);
}

bool sample_supported(int vocab, const DeviceSample& s) {
  return sample_on_device_ok(vocab, s.temperature, s.top_k, 1.0f);
}

int32_t sample(const float* logits, int vocab, const DeviceSample& s) {
  if (!sample_supported(vocab, s)) fail("ops_host: these sampling settings are not run on the device");
  StepState hs{};
  hs.n = 1;
  hs.sample = 1;
  hs.temperature = s.temperature;
  hs.top_k = s.top_k;
  hs.top_p = s.top_p;
  hs.min_p = s.min_p;
  hs.uniform = s.uniform;
  DeviceBuffer st = upload(&hs, sizeof hs), dl = upload(logits, (uint64_t)vocab * 4);
  DeviceBuffer cl((uint64_t)sample_chunks(vocab) * kSampleMaxK * 4), ci((uint64_t)sample_chunks(vocab) * kSampleMaxK * 4);
  DeviceBuffer out(4);
  SampleArgs a{};
  a.logits = dl.get<float>();
  a.vocab = vocab;
  a.cand_logit = cl.get<float>();
  a.cand_id = ci.get<int32_t>();
  a.out = out.get<int32_t>();
  launch_sample_partial(a, st.get<StepState>(), grid(sample_partial_tiles(a, hs)), nullptr);
  launch_sample_final(a, st.get<StepState>(), 1, nullptr);
  finish();
  int32_t tok = -1;
  out.download(&tok, 4);
  return tok;
}

}  // namespace km::cuda::host
