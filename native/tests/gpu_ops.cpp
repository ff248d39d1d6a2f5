// gpu_ops: every CUDA op of kernels/ops against its CPU twin, over a sweep of
// shapes and every KV format (native/gpu_harness/ops/ops_host.h runs one op on host
// data). Tolerances are named per op and format below, with why. Skipped
// (exit 77, with the reason) where the build has no CUDA or no GPU is usable.
#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "keymate/formats.h"
#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "cpu/kernels.h"
#include "cpu/kv_cache.h"
#include "cpu/rope.h"
#include "cpu/simd.h"
#include "keymate/cuda.h"
#include "ops/ops_host.h"
#include "quant/quantize_run.h"
#include "reference_attention.h"
#include "rng.h"
#include "sampler.h"
#endif

namespace {

#ifndef KEYMATE_HAVE_CUDA
[[noreturn]] void no_gpu() { kt::skip("built without the CUDA backend (KEYMATE_CUDA=off or no nvcc)"); }
TEST(gpu_ops, all) { no_gpu(); }
#else

using km::KvType;
namespace host = km::cuda::host;

void require_gpu() {
  static const km::CudaProbe p = km::cuda_probe();
  if (!p.available) kt::skip("no usable GPU: " + p.reason);
}

// RMSNorm: the same double sum and float steps as the CPU, up to the order of
// the double additions: equal but for a last-bit rounding, rarely.
constexpr double kTolRmsNorm = 1e-6;     // relative to max |y|
// RoPE'd q: cosf/sinf on the GPU may differ from the host's by an ulp or two.
constexpr double kTolRope = 2e-6;        // relative to max |q|
// The cache after rope_kv: the tiny rotation difference above can move a
// value across a rounding boundary of the cache format, by one step at most.
constexpr double kTolKvF16 = 1.0 / 1024;  // relative: one f16 ulp
constexpr double kTolKvFp8E4M3 = 1.0 / 8;  // one e4m3 ulp (3 mantissa bits)
constexpr double kTolKvFp8E5M2 = 1.0 / 4;  // one e5m2 ulp (2 mantissa bits)
constexpr double kTolKvInt8 = 1.0 / 127;   // one quant step of the head vector's range
// Attention in f32 (online softmax) against the float64 oracle on the same
// decoded cache: f32 rounding over up to ~1k keys.
constexpr double kTolAttention = 2e-5;   // relative to max |out|

const KvType kKvTypes[] = {KvType::F16, KvType::Int8, KvType::Fp8E4M3, KvType::Fp8E5M2};
const char* kv_name(KvType t) {
  switch (t) {
    case KvType::F16: return "f16";
    case KvType::Int8: return "int8";
    case KvType::Fp8E4M3: return "fp8-e4m3";
    case KvType::Fp8E5M2: return "fp8-e5m2";
  }
  return "?";
}
double kv_tolerance(KvType t) {
  switch (t) {
    case KvType::F16: return kTolKvF16;
    case KvType::Int8: return kTolKvInt8;
    case KvType::Fp8E4M3: return kTolKvFp8E4M3;
    case KvType::Fp8E5M2: return kTolKvFp8E5M2;
  }
  return 0;
}

// The smallest step of a format (its subnormal spacing), where a relative
// tolerance says nothing.
double kv_floor(KvType t) {
  switch (t) {
    case KvType::F16: return 6e-8;
    case KvType::Int8: return 0;
    case KvType::Fp8E4M3: return 1.0 / 512;
    case KvType::Fp8E5M2: return 1.0 / 65536;
  }
  return 0;
}

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, (double)std::fabs(x));
  return m;
}

const km::cpu::Kernels& cpu_kernels() { return km::cpu::kernels_for(km::cpu::simd_from_env()); }

// The cache decoded to f32 in the CPU layout, K and V.
void decode(const host::KvCache& c, std::vector<float>& k, std::vector<float>& v) {
  const int vecs = c.n_kv_heads * c.context;
  k.resize((size_t)vecs * c.head_dim);
  v.resize((size_t)vecs * c.head_dim);
  const uint16_t* ks = c.k_scale.empty() ? nullptr : c.k_scale.data();
  const uint16_t* vs = c.v_scale.empty() ? nullptr : c.v_scale.data();
  km::cpu::kv_load(cpu_kernels(), c.type, c.k.data(), ks, vecs, c.head_dim, k.data());
  km::cpu::kv_load(cpu_kernels(), c.type, c.v.data(), vs, vecs, c.head_dim, v.data());
}

// ---- rmsnorm ---------------------------------------------------------------------

TEST(gpu_ops, rmsnorm_matches_cpu) {
  require_gpu();
  for (int dim : {32, 64, 288, 4096})
    for (int n : {1, 3, 256}) {
      const std::vector<float> x = randn((size_t)n * dim, 1 + dim + n, 2.0f), w = randn(dim, 7 + dim);
      std::vector<float> gpu((size_t)n * dim), cpu((size_t)n * dim);
      host::rmsnorm(x.data(), w.data(), n, dim, 1e-5f, gpu.data());
      for (int t = 0; t < n; t++)
        cpu_kernels().rms_norm(&x[(size_t)t * dim], w.data(), 1e-5f, dim, &cpu[(size_t)t * dim]);
      double err = 0;
      for (size_t i = 0; i < gpu.size(); i++) err = std::max(err, (double)std::fabs(gpu[i] - cpu[i]));
      CHECK(err <= kTolRmsNorm * max_abs(cpu));
    }
}

// A post-norm (Gemma 3): acc += rmsnorm(x) * w, as the CPU backend's
// rms_norm followed by an add.
TEST(gpu_ops, rmsnorm_add_matches_cpu) {
  require_gpu();
  for (int dim : {64, 640})
    for (int n : {1, 5}) {
      const std::vector<float> x = randn((size_t)n * dim, 3 + dim + n, 0.05f), w = randn(dim, 9 + dim);
      const std::vector<float> acc0 = randn((size_t)n * dim, 4 + dim, 1.0f);
      std::vector<float> gpu = acc0, cpu = acc0, y(dim);
      host::rmsnorm_add(x.data(), w.data(), n, dim, 1e-6f, gpu.data());
      for (int t = 0; t < n; t++) {
        cpu_kernels().rms_norm(&x[(size_t)t * dim], w.data(), 1e-6f, dim, y.data());
        for (int i = 0; i < dim; i++) cpu[(size_t)t * dim + i] += y[i];
      }
      double err = 0;
      for (size_t i = 0; i < gpu.size(); i++) err = std::max(err, (double)std::fabs(gpu[i] - cpu[i]));
      CHECK(err <= kTolRmsNorm * max_abs(cpu));
    }
}

// ---- embed -----------------------------------------------------------------------

// Random rows of a type, with valid scales: every byte random, then each
// block's (or row's) scale set to a finite value.
km::Tensor random_table(km::GgmlType type, km::RunQuant q, int rows, int cols, std::vector<uint8_t>& bytes) {
  km::Tensor t;
  t.type = type;
  t.quant = q;
  t.rows = rows;
  t.cols = cols;
  t.name = "token_embd.weight";
  t.row_bytes = q.none() ? km::ggml_row_bytes(type, (uint64_t)cols) : km::run_row_bytes(q, cols);
  bytes.assign(t.row_bytes * (uint64_t)rows, 0);
  std::mt19937 g(99 + (int)type + 7 * (int)q.type);
  for (auto& b : bytes) b = (uint8_t)g();
  const uint16_t half_scale = km::fp32_to_fp16(0.03125f);
  for (int r = 0; r < rows; r++) {
    uint8_t* row = &bytes[(size_t)r * t.row_bytes];
    if (!q.none()) {
      uint8_t* s = row + km::run_quant_bytes(q.type, cols);
      if (q.group == 0) {
        const float d = 0.01f;
        std::memcpy(s, &d, 4);
      } else {
        for (int64_t gi = 0; gi < km::run_groups(q, cols); gi++) std::memcpy(s + 2 * gi, &half_scale, 2);
      }
      if (q.type == km::RunType::Fp8)  // no NaN codes: quantizers never write them
        for (uint64_t i = 0; i < km::run_quant_bytes(q.type, cols); i++)
          if ((row[i] & 0x7f) == 0x7f) row[i] = 0;
      continue;
    }
    switch (type) {
      case km::GgmlType::F32:
        for (int i = 0; i < cols; i++) {
          const float f = (float)((int)(row[4 * i] % 200) - 100) / 37.0f;
          std::memcpy(row + 4 * i, &f, 4);
        }
        break;
      case km::GgmlType::F16:
      case km::GgmlType::BF16:
        for (int i = 0; i < cols; i++) {
          const float f = (float)((int)(row[2 * i] % 200) - 100) / 37.0f;
          const uint16_t h = type == km::GgmlType::F16 ? km::fp32_to_fp16(f) : km::fp32_to_bf16(f);
          std::memcpy(row + 2 * i, &h, 2);
        }
        break;
      case km::GgmlType::Q8_0:
        for (int b = 0; b < cols / 32; b++) std::memcpy(row + b * 34, &half_scale, 2);
        break;
      case km::GgmlType::Q4_0:
        for (int b = 0; b < cols / 32; b++) std::memcpy(row + b * 18, &half_scale, 2);
        break;
      case km::GgmlType::Q4_K:
      case km::GgmlType::Q5_K:
        for (int b = 0; b < cols / km::QK_K; b++) {  // d and dmin
          uint8_t* blk = row + b * (type == km::GgmlType::Q4_K ? sizeof(km::block_q4_K) : sizeof(km::block_q5_K));
          std::memcpy(blk, &half_scale, 2);
          std::memcpy(blk + 2, &half_scale, 2);
        }
        break;
      case km::GgmlType::Q6_K:
        for (int b = 0; b < cols / km::QK_K; b++)
          std::memcpy(row + b * sizeof(km::block_q6_K) + offsetof(km::block_q6_K, d), &half_scale, 2);
        break;
      default: break;
    }
  }
  t.data = bytes.data();
  return t;
}

TEST(gpu_ops, embed_matches_cpu_in_every_type) {
  require_gpu();
  struct Case { km::GgmlType type; km::RunQuant q; };
  const Case cases[] = {
      {km::GgmlType::F32, {}}, {km::GgmlType::F16, {}}, {km::GgmlType::BF16, {}}, {km::GgmlType::Q8_0, {}},
      {km::GgmlType::Q4_0, {}}, {km::GgmlType::Q4_K, {}}, {km::GgmlType::Q5_K, {}}, {km::GgmlType::Q6_K, {}},
      {km::GgmlType::F32, {km::RunType::Fp8, 0}}, {km::GgmlType::F32, {km::RunType::Fp8, 128}},
      {km::GgmlType::F32, {km::RunType::Int8, 64}}, {km::GgmlType::F32, {km::RunType::Int4, 32}},
      {km::GgmlType::F32, {km::RunType::Nf4, 64}}, {km::GgmlType::F32, {km::RunType::W8A8, 0}},
  };
  const int rows = 50, cols = 512;  // K-quants: two super-blocks a row (Q6_K's second 2-byte aligned)
  const std::vector<int32_t> tokens = {0, 49, 7, 7, 23, 1};
  for (const Case& c : cases) {
    std::vector<uint8_t> bytes;
    const km::Tensor t = random_table(c.type, c.q, rows, cols, bytes);
    REQUIRE(host::embed_supported(t));
    for (float scale : {1.0f, 33.941125f}) {  // and Gemma's sqrt(dim), applied after the element is whole
      std::vector<float> gpu(tokens.size() * cols), cpu(tokens.size() * cols);
      host::embed(t, tokens.data(), (int)tokens.size(), gpu.data(), scale);
      for (size_t i = 0; i < tokens.size(); i++) km::quant::tensor_row(t, tokens[i], &cpu[i * cols]);
      if (scale != 1.0f)
        for (float& v : cpu) v *= scale;
      size_t bad = 0;
      for (size_t i = 0; i < gpu.size(); i++) bad += std::memcmp(&gpu[i], &cpu[i], 4) != 0;
      CHECK_EQ(bad, (size_t)0);  // the same decoding arithmetic: bit-identical
    }
  }
}

// ---- rope_kv ---------------------------------------------------------------------

struct Shape { int n_heads, n_kv, hd; };
const Shape kShapes[] = {{8, 4, 8}, {4, 4, 32}, {8, 2, 64}, {6, 2, 128}, {4, 1, 256}};

TEST(gpu_ops, rope_kv_matches_cpu_in_every_kv_format) {
  require_gpu();
  for (KvType kv : kKvTypes)
    for (const Shape& s : kShapes)
      for (int variant = 0; variant < 9; variant++) {
        // extras: biases, freq factors, freq scale; family: head norms, partial
        // rotation, LongRoPE's attention factor; variant 8: no rotation (SmolLM3)
        const bool neox = variant & 1, extras = variant & 2, family = variant & 4, rotate = variant != 8;
        const int ctx = 200, n = variant % 4 == 3 ? 5 : 1 + variant % 4, pos = 64 * (variant % 4) + 3;
        const int rd = family ? s.hd * 3 / 4 / 2 * 2 : s.hd;
        const int q_dim = s.n_heads * s.hd, kv_dim = s.n_kv * s.hd, ld = q_dim + 2 * kv_dim;
        std::vector<float> qkv = randn((size_t)n * ld, 11 + variant + s.hd, 1.5f);
        const std::vector<float> bq = randn(q_dim, 3), bk = randn(kv_dim, 4), bv = randn(kv_dim, 5);
        std::vector<float> ff(rd / 2);
        for (int i = 0; i < rd / 2; i++) ff[i] = 1.0f + (float)i / 4;
        const std::vector<float> qn = randn(s.hd, 6), kn = randn(s.hd, 7);
        const float eps = 1e-6f;

        km::cpu::RopeParams rp;
        rp.dims = rd;
        rp.base = 500000.f;
        rp.freq_scale = extras ? 0.25f : 1.0f;
        rp.freq_factors = extras ? ff.data() : nullptr;
        rp.style = neox ? km::RopeStyle::NeoX : km::RopeStyle::Normal;
        rp.attn_factor = family ? 1.19f : 1.0f;
        host::Rope r;
        r.n_heads = s.n_heads;
        r.rope_dims = rd;
        r.rotate = rotate;
        r.theta_scale = std::pow(rp.base, -2.0f / (float)rp.dims);
        r.freq_scale = rp.freq_scale;
        r.attn_factor = rp.attn_factor;
        r.freq_factors = rp.freq_factors;
        r.neox = neox;
        if (family || !rotate) {
          r.q_norm = qn.data();
          r.k_norm = kn.data();
          r.eps = eps;
        }
        if (extras) {
          r.bq = bq.data();
          r.bk = bk.data();
          r.bv = bv.data();
        }

        // CPU twin: the CPU backend's rope_and_store, per token and head.
        std::vector<float> cq = qkv;
        host::KvCache cc(kv, s.n_kv, s.hd, ctx), gc(kv, s.n_kv, s.hd, ctx);
        const uint64_t eb = km::kv_elem_bytes(kv);
        std::vector<float> cs(s.hd);
        for (int t = 0; t < n; t++) {
          km::cpu::rope_angles(rp, pos + t, cs.data());
          float* row = &cq[(size_t)t * ld];
          for (int h = 0; h < s.n_heads; h++) {
            float* q = row + h * s.hd;
            if (extras)
              for (int i = 0; i < s.hd; i++) q[i] += bq[h * s.hd + i];
            if (r.q_norm) cpu_kernels().rms_norm(q, qn.data(), eps, s.hd, q);
            if (rotate) km::cpu::rope_apply(rp, cs.data(), q);
          }
          for (int h = 0; h < s.n_kv; h++) {
            float* k = row + q_dim + h * s.hd;
            float* v = row + q_dim + kv_dim + h * s.hd;
            if (extras)
              for (int i = 0; i < s.hd; i++) {
                k[i] += bk[h * s.hd + i];
                v[i] += bv[h * s.hd + i];
              }
            if (r.k_norm) cpu_kernels().rms_norm(k, kn.data(), eps, s.hd, k);
            if (rotate) km::cpu::rope_apply(rp, cs.data(), k);
            const int64_t tok = (int64_t)h * ctx + pos + t;
            km::cpu::kv_store(cpu_kernels(), kv, k, s.hd, &cc.k[(size_t)tok * s.hd * eb],
                              cc.k_scale.empty() ? nullptr : &cc.k_scale[(size_t)tok]);
            km::cpu::kv_store(cpu_kernels(), kv, v, s.hd, &cc.v[(size_t)tok * s.hd * eb],
                              cc.v_scale.empty() ? nullptr : &cc.v_scale[(size_t)tok]);
          }
        }
        std::vector<float> gq = qkv;
        host::rope_kv(r, n, pos, gq.data(), gc);

        double qerr = 0, qmax = 0;
        for (int t = 0; t < n; t++)
          for (int i = 0; i < q_dim; i++) {
            const size_t at = (size_t)t * ld + i;
            qerr = std::max(qerr, (double)std::fabs(gq[at] - cq[at]));
            qmax = std::max(qmax, (double)std::fabs(cq[at]));
          }
        CHECK(qerr <= kTolRope * qmax);

        // V is not rotated: the same bits. K within one step of the format.
        CHECK(gc.v == cc.v);
        CHECK(gc.v_scale == cc.v_scale);
        std::vector<float> gk, gv, ck, cv;
        decode(gc, gk, gv);
        decode(cc, ck, cv);
        double kerr = 0;
        bool within = true;
        for (int h = 0; h < s.n_kv; h++)
          for (int t = 0; t < ctx; t++) {
            double amax = 0;
            for (int i = 0; i < s.hd; i++) amax = std::max(amax, (double)std::fabs(ck[((size_t)h * ctx + t) * s.hd + i]));
            for (int i = 0; i < s.hd; i++) {
              const size_t at = ((size_t)h * ctx + t) * s.hd + i;
              const double d = std::fabs(gk[at] - ck[at]);
              const double tol = kv == KvType::Int8 ? kv_tolerance(kv) * amax * 1.01
                                                    : kv_tolerance(kv) * std::fabs(ck[at]) + kv_floor(kv);
              kerr = std::max(kerr, d);
              within = within && d <= tol;
            }
          }
        if (!within) std::fprintf(stderr, "  rope_kv %s hd %d variant %d: max |dk| %g\n", kv_name(kv), s.hd, variant, kerr);
        CHECK(within);
      }
}

// ---- attention -------------------------------------------------------------------

// A cache of random vectors written by the CPU's own kv_store, so it holds
// valid codes of its format.
host::KvCache random_cache(KvType kv, const Shape& s, int ctx, uint32_t seed) {
  host::KvCache c(kv, s.n_kv, s.hd, ctx);
  const std::vector<float> k = randn((size_t)s.n_kv * ctx * s.hd, seed), v = randn((size_t)s.n_kv * ctx * s.hd, seed + 1);
  const uint64_t eb = km::kv_elem_bytes(kv);
  for (int i = 0; i < s.n_kv * ctx; i++) {
    km::cpu::kv_store(cpu_kernels(), kv, &k[(size_t)i * s.hd], s.hd, &c.k[(size_t)i * s.hd * eb],
                      c.k_scale.empty() ? nullptr : &c.k_scale[(size_t)i]);
    km::cpu::kv_store(cpu_kernels(), kv, &v[(size_t)i * s.hd], s.hd, &c.v[(size_t)i * s.hd * eb],
                      c.v_scale.empty() ? nullptr : &c.v_scale[(size_t)i]);
  }
  return c;
}

TEST(gpu_ops, attention_matches_reference_in_every_kv_format) {
  require_gpu();
  struct Step { int n, pos; };
  // decode (n <= 4: split + combine) and prefill (n > 4), across page and
  // split boundaries; ctx is not a multiple of the page size
  const Step steps[] = {{1, 0}, {1, 63}, {1, 300}, {3, 517}, {4, 1085}, {5, 0}, {17, 60}, {40, 250}, {256, 0}};
  const int ctx = 1090;
  for (KvType kv : kKvTypes)
    for (const Shape& s : kShapes) {
      const host::KvCache cache = random_cache(kv, s, ctx, 21 + s.hd);
      std::vector<float> k, v;
      decode(cache, k, v);
      for (const Step& st : steps) {
        const std::vector<float> q = randn((size_t)st.n * s.n_heads * s.hd, 5 + st.n + st.pos, 0.7f);
        std::vector<float> out((size_t)st.n * s.n_heads * s.hd);
        host::attention(s.n_heads, st.n, st.pos, q.data(), cache, out.data());
        const std::vector<double> ref = kt::reference_attention(q, k, v, st.n, st.pos, s.n_heads, s.n_kv, s.hd, ctx);
        double err = 0, mx = 0;
        for (size_t i = 0; i < out.size(); i++) {
          err = std::max(err, std::fabs(out[i] - ref[i]));
          mx = std::max(mx, std::fabs(ref[i]));
        }
        if (!(err <= kTolAttention * mx))
          std::fprintf(stderr, "  attention %s heads %d/%d hd %d n %d pos %d: err %g of %g\n", kv_name(kv), s.n_heads,
                       s.n_kv, s.hd, st.n, st.pos, err, mx);
        CHECK(err <= kTolAttention * mx);
      }
    }
}

// Sliding windows (Gemma 3), with Gemma 27B's other scale: decode and
// prefill, windows smaller than a split, a prefill block and a key chunk, and
// one of a single key.
TEST(gpu_ops, attention_in_a_window_matches_reference) {
  require_gpu();
  struct Step { int n, pos; };
  const Step steps[] = {{1, 300}, {3, 517}, {17, 60}, {40, 250}};
  const int ctx = 600;
  const Shape s = {8, 2, 64};
  const host::KvCache cache = random_cache(KvType::F16, s, ctx, 77);
  std::vector<float> k, v;
  decode(cache, k, v);
  for (int window : {1, 7, 20, 300})
    for (const Step& st : steps) {
      const std::vector<float> q = randn((size_t)st.n * s.n_heads * s.hd, 9 + st.n + window, 0.7f);
      std::vector<float> out((size_t)st.n * s.n_heads * s.hd);
      const float scale = 0.08f;
      host::attention(s.n_heads, st.n, st.pos, q.data(), cache, out.data(), window, scale);
      const std::vector<double> ref =
          kt::reference_attention(q, k, v, st.n, st.pos, s.n_heads, s.n_kv, s.hd, ctx, window, scale);
      double err = 0, mx = 0;
      for (size_t i = 0; i < out.size(); i++) {
        err = std::max(err, std::fabs(out[i] - ref[i]));
        mx = std::max(mx, std::fabs(ref[i]));
      }
      if (!(err <= kTolAttention * mx))
        std::fprintf(stderr, "  attention window %d n %d pos %d: err %g of %g\n", window, st.n, st.pos, err, mx);
      CHECK(err <= kTolAttention * mx);
    }
}

TEST(gpu_ops, attention_is_bit_identical_run_after_run) {
  require_gpu();
  const Shape s{8, 2, 64};
  const host::KvCache cache = random_cache(KvType::Fp8E4M3, s, 2000, 3);
  for (int n : {1, 30}) {
    const std::vector<float> q = randn((size_t)n * s.n_heads * s.hd, 8);
    std::vector<float> a(q.size()), b(q.size());
    host::attention(s.n_heads, n, 1900, q.data(), cache, a.data());
    for (int r = 0; r < 5; r++) {
      host::attention(s.n_heads, n, 1900, q.data(), cache, b.data());
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
    }
  }
}

// ---- sampling --------------------------------------------------------------------

TEST(gpu_ops, greedy_sampling_is_argmax_with_lowest_id_on_ties) {
  require_gpu();
  for (int vocab : {1, 100, 512, 4096, 4097, 32000, 128256}) {
    for (uint32_t seed = 0; seed < 4; seed++) {
      std::vector<float> l = randn(vocab, seed + vocab);
      if (seed == 1) std::fill(l.begin(), l.end(), 0.5f);               // all tied: token 0
      if (seed == 2 && vocab > 10) l[vocab - 1] = l[vocab / 2] = 1e9f;  // a tie between two
      km::DeviceSample s;
      const int32_t gpu = host::sample(l.data(), vocab, s);
      CHECK_EQ(gpu, km::argmax(l.data(), vocab));
    }
  }
}

TEST(gpu_ops, sampling_picks_the_host_samplers_token) {
  require_gpu();
  struct Setting { float t; int k; float p, min_p; };
  const Setting settings[] = {{0.8f, 40, 0.95f, 0.05f}, {1.0f, 1, 1.0f, 0.0f}, {1.5f, 64, 0.9f, 0.0f},
                              {0.3f, 10, 1.0f, 0.2f}, {2.0f, 64, 1.0f, 0.0f}};
  int runs = 0;
  for (int vocab : {100, 512, 32000, 128256})
    for (const Setting& st : settings)
      for (uint64_t seed = 1; seed <= 10; seed++) {
        const std::vector<float> l = randn(vocab, (uint32_t)(seed * 31 + vocab), 3.0f);
        km::SamplingParams sp;
        sp.temperature = st.t;
        sp.top_k = st.k;
        sp.top_p = st.p;
        sp.min_p = st.min_p;
        sp.repeat_penalty = 1.0f;
        sp.seed = seed;
        km::Sampler sampler(sp, vocab);
        km::DeviceSample ds;
        ds.temperature = st.t;
        ds.top_k = st.k;
        ds.top_p = st.p;
        ds.min_p = st.min_p;
        km::Rng rng(seed);
        ds.uniform = rng.uniform();  // the draw's number: the first the sampler takes
        REQUIRE(host::sample_supported(vocab, ds));
        CHECK_EQ(host::sample(l.data(), vocab, ds), sampler.sample(l.data()));
        runs++;
      }
  CHECK(runs > 0);
}

// NaN logits, ties, and uniforms right at a top-p boundary: the device and the
// host follow one rule (keymate/sample_rule.h), so they pick the same token
// whatever the logits hold. Before that rule a NaN in slot 0 made the host's
// greedy pick token 0 while the device picked the largest number.
TEST(gpu_ops, sampling_agrees_with_the_host_on_nan_and_ties) {
  require_gpu();
  const float nan = std::nanf("");
  int runs = 0;
  for (int vocab : {7, 100, 5000})
    for (uint32_t seed = 0; seed < 12; seed++) {
      std::vector<float> l = randn(vocab, seed * 7 + (uint32_t)vocab, 2.0f);
      for (int i = 0; i < vocab; i += 3 + (int)(seed % 5)) l[(size_t)i] = std::round(l[(size_t)i]);  // ties
      l[0] = nan;
      for (int i = (int)seed; i < vocab; i += 11) l[(size_t)i] = nan;
      if (seed == 5) std::fill(l.begin(), l.end(), nan);  // nothing but NaN: token 0
      for (float t : {0.0f, 0.7f, 1.3f}) {
        km::SamplingParams sp;
        sp.temperature = t;
        sp.top_k = std::min(vocab - 1, 40);
        sp.top_p = 0.9f;
        sp.min_p = 0.02f;
        sp.repeat_penalty = 1.0f;
        sp.seed = seed + 1;
        km::Sampler sampler(sp, vocab);
        km::DeviceSample ds;
        REQUIRE(sampler.device_settings(ds));
        REQUIRE(host::sample_supported(vocab, ds));
        const int32_t gpu = host::sample(l.data(), vocab, ds);
        const int32_t cpu = sampler.sample(l.data());
        CHECK_EQ(gpu, cpu);
        if (seed != 5) CHECK(!std::isnan(l[(size_t)cpu]));
        runs++;
      }
    }
  CHECK(runs > 0);
}

#endif  // KEYMATE_HAVE_CUDA

}  // namespace
