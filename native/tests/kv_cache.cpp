// The KV cache formats (F16, INT8 per head and token, FP8 e4m3 and e5m2):
// storing a head vector and widening it back, attention over a cache in each
// format against float64 on the cache's own decoded values (at every SIMD
// level and thread count), and a whole model run on each cache format
// against the f16 cache.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kv_cache.h"
#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "keymate/engine.h"
#include "keymate/error.h"
#include "keymate/formats_run.h"
#include "keymate/tokenizer.h"
#include "reference_attention.h"
#include "test.h"

using namespace km::cpu;
using km::KvType;

namespace {

constexpr double kAttnTol = 2e-5;  // f32 softmax and accumulation over ~100 keys

std::vector<float> randv(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

const KvType kTypes[] = {KvType::F16, KvType::Int8, KvType::Fp8E4M3, KvType::Fp8E5M2};

std::vector<Simd> levels() {
  std::vector<Simd> out{Simd::Scalar};
  if (detect_simd() >= Simd::Avx2) out.push_back(Simd::Avx2);
  if (detect_simd() >= Simd::Avx512Vnni) out.push_back(Simd::Avx512Vnni);
  return out;
}

}  // namespace

TEST(kv_cache, store_and_load_follow_each_format) {
  const int hd = 40;
  const Kernels& k = kernels_for(Simd::Scalar);
  std::vector<float> x = randv(hd, 1, -3, 3);
  x[5] = 0.0f;
  x[6] = -0.0f;
  x[7] = 1e-9f;  // below every format's smallest step
  for (KvType t : kTypes) {
    std::vector<uint8_t> q(hd * km::kv_elem_bytes(t));
    uint16_t scale = 0xffff;
    kv_store(k, t, x.data(), hd, q.data(), &scale);
    std::vector<float> y(hd);
    kv_load(k, t, q.data(), &scale, 1, hd, y.data());
    for (int i = 0; i < hd; i++) {
      switch (t) {
        case KvType::F16: CHECK_EQ(y[i], km::fp16_to_fp32(km::fp32_to_fp16(x[i]))); break;
        case KvType::Fp8E4M3: CHECK_EQ(y[i], km::fp8_e4m3_to_fp32(km::fp32_to_fp8_e4m3(x[i]))); break;
        case KvType::Fp8E5M2: CHECK_EQ(y[i], km::fp8_e5m2_to_fp32(km::fp32_to_fp8_e5m2(x[i]))); break;
        case KvType::Int8: {
          float amax = 0;
          for (float v : x) amax = std::max(amax, std::fabs(v));
          const float d = km::fp16_to_fp32(km::kv_int8_scale(amax));
          CHECK_EQ(scale, km::kv_int8_scale(amax));
          CHECK(std::fabs(y[i] - x[i]) <= 0.5f * d * 1.0001f);
          CHECK_EQ(y[i], d * (float)km::quant_i8(x[i], 1.0f / d));
          break;
        }
      }
    }
  }
  // An all-zero vector: INT8's scale is 0 and everything decodes to 0.
  std::vector<float> z(hd, 0.0f), y(hd, 1.0f);
  std::vector<uint8_t> q(hd);
  uint16_t s = 1;
  kv_store(k, KvType::Int8, z.data(), hd, q.data(), &s);
  kv_load(k, KvType::Int8, q.data(), &s, 1, hd, y.data());
  CHECK_EQ(s, (uint16_t)0);
  for (float v : y) CHECK_EQ(v, 0.0f);
  // Sizes.
  CHECK_EQ(kv_quant_bytes(KvType::F16, 4, 10, 8), (uint64_t)640);
  CHECK_EQ(kv_quant_bytes(KvType::Int8, 4, 10, 8), (uint64_t)320);
  CHECK_EQ(kv_scale_bytes(KvType::Int8, 4, 10), (uint64_t)80);
  CHECK_EQ(kv_scale_bytes(KvType::Fp8E4M3, 4, 10), (uint64_t)0);
}

TEST(kv_cache, attention_over_every_format_matches_float64) {
  // GQA (6 query heads on 2 KV heads); 11 queries at positions 60..70, so key
  // tiles (64) and query tiles (8) both end partially.
  const int n_heads = 6, n_kv = 2, hd = 40, ctx = 80, n = 11, pos = 60;
  const std::vector<float> kf = randv((size_t)n_kv * ctx * hd, 11, -2, 2), vf = randv(kf.size(), 12, -2, 2);
  const std::vector<float> q = randv((size_t)n * n_heads * hd, 13, -1, 1);
  for (KvType t : kTypes) {
    const Kernels& k0 = kernels_for(Simd::Scalar);
    const size_t eb = km::kv_elem_bytes(t);
    std::vector<uint8_t> kc(kf.size() * eb), vc(kc.size());
    std::vector<uint16_t> ks((size_t)n_kv * ctx), vs(ks.size());
    for (int i = 0; i < n_kv * ctx; i++) {
      kv_store(k0, t, kf.data() + (size_t)i * hd, hd, kc.data() + (size_t)i * hd * eb, &ks[(size_t)i]);
      kv_store(k0, t, vf.data() + (size_t)i * hd, hd, vc.data() + (size_t)i * hd * eb, &vs[(size_t)i]);
    }
    // The cache as its format represents it.
    std::vector<float> kd(kf.size()), vd(vf.size());
    kv_load(k0, t, kc.data(), ks.data(), n_kv * ctx, hd, kd.data());
    kv_load(k0, t, vc.data(), vs.data(), n_kv * ctx, hd, vd.data());
    const std::vector<double> ref = kt::reference_attention(q, kd, vd, n, pos, n_heads, n_kv, hd, ctx);
    for (Simd lvl : levels())
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> out((size_t)n * n_heads * hd, -1),
            scratch((size_t)threads * attention_scratch_floats(n_heads, n_kv, hd));
        AttentionArgs a;
        a.q = q.data();
        a.ldq = n_heads * hd;
        a.kv = t;
        a.k = kc.data();
        a.v = vc.data();
        a.k_scale = km::kv_has_scales(t) ? ks.data() : nullptr;
        a.v_scale = km::kv_has_scales(t) ? vs.data() : nullptr;
        a.context = ctx;
        a.n = n;
        a.pos = pos;
        a.n_heads = n_heads;
        a.n_kv_heads = n_kv;
        a.head_dim = hd;
        a.scale = 1.0f / std::sqrt((float)hd);
        a.out = out.data();
        a.ldo = n_heads * hd;
        a.scratch = scratch.data();
        std::vector<WorkSlot> share((size_t)pool.size());
        pool.run([&](int ith, int nth) { attention_phase(ith, nth, kernels_for(lvl), a, share.data()); });
        int failures = 0;
        for (size_t i = 0; i < ref.size(); i++)
          if (!(std::fabs(out[i] - ref[i]) <= kAttnTol) && failures++ < 3)
            kt::report_failure(__FILE__, __LINE__,
                               km::format("kv %d %s threads %d: output %zu (token %zu head %zu dim %zu): %.7g vs %.7g",
                                          (int)t, simd_name(lvl), threads, i, i / (n_heads * hd), i / hd % n_heads,
                                          i % hd, (double)out[i], ref[i]));
      }
  }
}

TEST(kv_cache, a_model_runs_on_every_cache_format) {
  // stories260K over 96 tokens of a prompt: logits of the last 32 positions
  // on each cache format against the f16 cache. INT8 is close; FP8 (3 and 2
  // mantissa bits, unscaled) is looser, but every format keeps the model's
  // choice on most positions.
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = 128;
  std::unique_ptr<km::Engine> ref = km::Engine::load(kt::model_path("stories260K.gguf"), o);
  const std::vector<int32_t> toks = ref->tokenizer().encode(
      "Once upon a time, there was a little dog named Max. Max liked to run in the park with his friend, a small "
      "cat named Sue. One day, they found a big red ball under a tree.",
      true, false);
  REQUIRE(toks.size() >= 40);
  const std::vector<float> base = ref->logits(toks, true);
  const int vocab = ref->model().config.vocab, n = (int)toks.size();
  struct Case { const char* kv; double max_kld; double min_top1; };
  for (const Case& c : {Case{"int8", 0.003, 0.9}, Case{"fp8", 0.02, 0.85}, Case{"fp8-e5m2", 0.08, 0.8}}) {
    o.kv = c.kv;
    std::unique_ptr<km::Engine> e = km::Engine::load(kt::model_path("stories260K.gguf"), o);
    CHECK_EQ(e->info().kv, std::string(c.kv == std::string("fp8") ? "fp8-e4m3" : c.kv));
    const std::vector<float> got = e->logits(toks, true);
    double kld = 0;
    int same = 0;
    for (int t = n / 2; t < n; t++) {
      const float* p = base.data() + (size_t)t * vocab;
      const float* q = got.data() + (size_t)t * vocab;
      double mp = -1e30, mq = -1e30, zp = 0, zq = 0;
      int ap = 0, aq = 0;
      for (int i = 0; i < vocab; i++) {
        if (p[i] > mp) mp = p[i], ap = i;
        if (q[i] > mq) mq = q[i], aq = i;
      }
      for (int i = 0; i < vocab; i++) zp += std::exp(p[i] - mp), zq += std::exp(q[i] - mq);
      for (int i = 0; i < vocab; i++) {
        const double lp = p[i] - mp - std::log(zp), lq = q[i] - mq - std::log(zq);
        kld += std::exp(lp) * (lp - lq);
      }
      same += ap == aq;
    }
    const int scored = n - n / 2;
    kld /= scored;
    if (!(kld <= c.max_kld && (double)same / scored >= c.min_top1))
      kt::report_failure(__FILE__, __LINE__,
                         km::format("kv %s: mean KLD %.5f (max %.3f), top-1 %d/%d", c.kv, kld, c.max_kld, same, scored));
    CHECK(kld > 0);  // the cache format really is in use
  }
}
