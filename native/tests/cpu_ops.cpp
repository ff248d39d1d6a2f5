// The CPU backend's small kernels, each SIMD level against the scalar twin and
// against a float64 reference: activation conversion (must be bit-identical
// to scalar: the integer parts of every quantized dot product depend on it),
// fp16 conversions, the attention dot/axpy, exp-and-sum, SwiGLU, RoPE and the
// attention phase. Levels the processor lacks are skipped, not faked.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "cpu/kquant.h"
#include "cpu/matmul.h"
#include "cpu/rope.h"
#include "cpu/simd.h"
#include "keymate/half.h"
#include "reference_attention.h"
#include "test.h"

using namespace km::cpu;
using km::RopeStyle;

namespace {

// Tolerances, relative to the magnitude named at each use.
constexpr double kDotTol = 1e-6;     // f32 dot / axpy of up to 256 terms, relative to sum |x*y|
constexpr double kExpTol = 4e-7;     // vector exp: a few ulp
constexpr double kSwigluTol = 1e-6;  // silu through the vector exp and a division
constexpr double kGegluTol = 2e-6;   // the same, and the cubic before the exp
constexpr double kRopeTol = 2e-6;    // relative to |x|; float angles from repeated products
constexpr double kAttnTol = 2e-6;    // relative to max |v|

std::vector<float> randv(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// The SIMD levels this processor has (scalar excluded).
std::vector<Simd> simd_levels() {
  std::vector<Simd> out;
  const Simd hw = detect_simd();
  if (hw >= Simd::Avx2) out.push_back(Simd::Avx2);
  if (hw >= Simd::Avx512Vnni) out.push_back(Simd::Avx512Vnni);
  return out;
}

void require_simd() {
  if (simd_levels().empty()) kt::skip("this processor has no AVX2: only the scalar kernels exist here");
}

}  // namespace

TEST(cpu_ops, activation_quantization_matches_scalar_bitwise) {
  require_simd();
  const Kernels& s = kernels_for(Simd::Scalar);
  for (Simd lvl : simd_levels()) {
    const Kernels& k = kernels_for(lvl);
    for (uint32_t seed = 1; seed <= 20; seed++) {
      std::vector<float> x = randv(512, seed, -3, 3);
      if (seed == 2) std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero block
      if (seed == 3) x[5] = 1e30f;                                   // one huge value
      std::vector<block_q8a> a(16), b(16);
      s.quantize_q8a(x.data(), a.data(), 512);
      k.quantize_q8a(x.data(), b.data(), 512);
      CHECK(std::memcmp(a.data(), b.data(), sizeof(block_q8a) * 16) == 0);
      std::vector<block_q8k> c(2), d(2);
      s.quantize_q8k(x.data(), c.data(), 512);
      k.quantize_q8k(x.data(), d.data(), 512);
      CHECK(std::memcmp(c.data(), d.data(), sizeof(block_q8k) * 2) == 0);
      std::vector<float> f1(512), f2(512);
      s.round_f16(x.data(), f1.data(), 509);
      k.round_f16(x.data(), f2.data(), 509);
      CHECK(std::memcmp(f1.data(), f2.data(), 4 * 509) == 0);
      s.round_bf16(x.data(), f1.data(), 509);
      k.round_bf16(x.data(), f2.data(), 509);
      CHECK(std::memcmp(f1.data(), f2.data(), 4 * 509) == 0);
      std::vector<uint16_t> h1(509), h2(509);
      s.to_f16(x.data(), h1.data(), 509);
      k.to_f16(x.data(), h2.data(), 509);
      CHECK(h1 == h2);
    }
  }
}

TEST(cpu_ops, activation_quantization_is_faithful) {
  // q * d reproduces x within half a quantization step (plus the scale's fp16
  // rounding), and the stored sums are the sums of the stored quants.
  std::vector<float> x = randv(256, 7, -2, 2);
  std::vector<block_q8a> a(8);
  quantize_q8a_scalar(x.data(), a.data(), 256);
  for (int b = 0; b < 8; b++) {
    int sum = 0;
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = std::fmax(amax, std::fabs(x[32 * b + j]));
    for (int j = 0; j < 32; j++) {
      sum += a[b].qs[j];
      CHECK_NEAR(a[b].qs[j] * a[b].d, x[32 * b + j], amax / 127 * 0.5 + amax * 1e-3);
    }
    CHECK_EQ(sum, a[b].sum);
  }
  block_q8k k;
  quantize_q8k_scalar(x.data(), &k, 256);
  for (int g = 0; g < 16; g++) {
    int sum = 0;
    for (int j = 0; j < 16; j++) sum += k.qs[16 * g + j];
    CHECK_EQ(sum, k.bsums[g]);
  }
}

TEST(cpu_ops, attention_tile_kernels) {
  for (Simd lvl : {Simd::Scalar, Simd::Avx2, Simd::Avx512Vnni}) {
    if (lvl > detect_simd()) continue;
    const Kernels& k = kernels_for(lvl);
    for (int hd : {8, 40, 64, 128, 12}) {
      const int nq = 5, nk = 19;
      const std::vector<float> q = randv((size_t)nq * (hd + 3), hd), keys = randv((size_t)nk * hd, hd + 1);
      const std::vector<float> vals = randv((size_t)nk * hd, hd + 2), p = randv((size_t)nq * 24, hd + 3, 0, 1);
      std::vector<float> s((size_t)nq * 24, -7);
      k.attn_scores(q.data(), hd + 3, nq, keys.data(), nk, hd, 0.25f, s.data(), 24);
      for (int i = 0; i < nq; i++) {
        for (int j = 0; j < nk; j++) {
          double ref = 0, mag = 0;
          for (int c = 0; c < hd; c++) {
            ref += (double)q[(size_t)i * (hd + 3) + c] * keys[(size_t)j * hd + c];
            mag += std::fabs((double)q[(size_t)i * (hd + 3) + c] * keys[(size_t)j * hd + c]);
          }
          CHECK_NEAR(s[(size_t)i * 24 + j], 0.25 * ref, kDotTol * mag);
        }
        for (int j = nk; j < 24; j++) CHECK_EQ(s[(size_t)i * 24 + j], -7.0f);  // untouched past nk
      }
      std::vector<float> o = randv((size_t)nq * hd, hd + 4), o0 = o;
      k.attn_values(p.data(), 24, nq, vals.data(), nk, hd, o.data(), hd);
      for (int i = 0; i < nq; i++)
        for (int c = 0; c < hd; c++) {
          double ref = o0[(size_t)i * hd + c], mag = std::fabs(ref);
          for (int j = 0; j < nk; j++) {
            ref += (double)p[(size_t)i * 24 + j] * vals[(size_t)j * hd + c];
            mag += std::fabs((double)p[(size_t)i * 24 + j] * vals[(size_t)j * hd + c]);
          }
          CHECK_NEAR(o[(size_t)i * hd + c], ref, kDotTol * mag);
        }
    }
    std::vector<float> x = randv(77, 9), y(77);
    std::vector<uint16_t> h(77);
    k.to_f16(x.data(), h.data(), 77);
    k.to_f32(h.data(), y.data(), 77);
    for (int i = 0; i < 77; i++) CHECK_EQ(y[i], km::fp16_to_fp32(km::fp32_to_fp16(x[i])));
  }
}

TEST(cpu_ops, exp_sum_and_swiglu) {
  for (Simd lvl : {Simd::Scalar, Simd::Avx2, Simd::Avx512Vnni}) {
    if (lvl > detect_simd()) continue;
    const Kernels& k = kernels_for(lvl);
    for (int n : {1, 5, 8, 13, 100}) {
      std::vector<float> x = randv(n, n, -30, 5);
      x[0] = -200;  // underflows to 0
      std::vector<float> e = x;
      const float mx = 5.0f;
      const float sum = k.exp_sum(e.data(), n, mx);
      double ref_sum = 0;
      for (int i = 0; i < n; i++) {
        const double r = std::exp((double)(x[i] - mx));  // the difference as the kernels form it, in float
        ref_sum += r;
        CHECK_NEAR(e[i], r, kExpTol * r + 1e-37);
      }
      CHECK_NEAR(sum, ref_sum, 1e-6 * ref_sum + 1e-37);

      std::vector<float> g = randv(n, n + 1, -20, 20), u = randv(n, n + 2), y(n);
      k.swiglu(g.data(), u.data(), y.data(), n);
      for (int i = 0; i < n; i++) {
        const double ref = g[i] / (1.0 + std::exp(-(double)g[i])) * u[i];
        CHECK_NEAR(y[i], ref, kSwigluTol * (std::fabs(ref) + 1e-30));
      }
    }
  }
}

// GeGLU against GELU's tanh form itself in float64 (not the exp rewrite the
// kernels use), over the range where it bends, past ggml's +-10 ends, and at
// the ends themselves.
TEST(cpu_ops, geglu_matches_gelu_tanh) {
  for (Simd lvl : {Simd::Scalar, Simd::Avx2, Simd::Avx512Vnni}) {
    if (lvl > detect_simd()) continue;
    const Kernels& k = kernels_for(lvl);
    for (int n : {1, 7, 8, 29, 256}) {
      std::vector<float> g = randv(n, n + 3, -12, 12), u = randv(n, n + 4), y(n);
      g[0] = -10.0f;
      if (n > 1) g[1] = 10.0f;
      k.geglu(g.data(), u.data(), y.data(), n);
      for (int i = 0; i < n; i++) {
        const double x = g[i];
        double gelu = 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
        if (x <= -10) gelu = 0;
        if (x >= 10) gelu = x;
        const double ref = gelu * u[i];
        CHECK_NEAR(y[i], ref, kGegluTol * std::fabs(u[i]) * (std::fabs(x) + 1e-3));
      }
    }
  }
}

TEST(cpu_ops, rope_matches_formula) {
  for (RopeStyle style : {RopeStyle::Normal, RopeStyle::NeoX}) {
    for (bool factors : {false, true}) {
      RopeParams rp;
      rp.dims = 64;
      rp.base = 500000.f;
      rp.freq_scale = 0.5f;
      rp.style = style;
      std::vector<float> ff(32);
      for (int i = 0; i < 32; i++) ff[i] = 1.0f + 0.25f * i;
      if (factors) rp.freq_factors = ff.data();
      for (int64_t pos : {0, 1, 17, 300}) {
        std::vector<float> cs(64), x = randv(64, (uint32_t)pos + 3), y = x;
        rope_angles(rp, pos, cs.data());
        rope_apply(rp, cs.data(), y.data());
        for (int i = 0; i < 32; i++) {
          const double theta = pos * std::pow(500000.0, -2.0 * i / 64) / (factors ? ff[i] : 1.0) * 0.5;
          const int a = style == RopeStyle::Normal ? 2 * i : i, b = style == RopeStyle::Normal ? 2 * i + 1 : i + 32;
          const double x0 = x[a], x1 = x[b];
          const double mag = std::hypot(x0, x1) + 1e-6;
          // float theta carries relative error ~pos * 1e-7 from the repeated products
          const double tol = kRopeTol * mag * (1 + (double)pos);
          CHECK_NEAR(y[a], x0 * std::cos(theta) - x1 * std::sin(theta), tol);
          CHECK_NEAR(y[b], x0 * std::sin(theta) + x1 * std::cos(theta), tol);
        }
      }
    }
  }
}

// Partial rotation (Phi-4-mini turns 96 of 128 dimensions): the first `dims`
// of a 40-wide head rotate as a 24-wide head would, the rest pass through;
// LongRoPE's attention factor scales the rotated part only.
TEST(cpu_ops, rope_partial_rotation_and_attn_factor) {
  for (RopeStyle style : {RopeStyle::Normal, RopeStyle::NeoX}) {
    RopeParams full;
    full.dims = 24;
    full.style = style;
    RopeParams scaled = full;
    scaled.attn_factor = 1.25f;
    for (int64_t pos : {0, 5, 99}) {
      std::vector<float> cs(24), cs2(24), x = randv(40, (uint32_t)pos + 7), y = x, z = x;
      rope_angles(full, pos, cs.data());
      rope_angles(scaled, pos, cs2.data());
      rope_apply(full, cs.data(), y.data());
      rope_apply(scaled, cs2.data(), z.data());
      std::vector<float> head(x.begin(), x.begin() + 24);
      rope_apply(full, cs.data(), head.data());
      for (int i = 0; i < 24; i++) {
        CHECK_EQ(y[i], head[i]);
        CHECK_NEAR(z[i], 1.25 * y[i], 1e-6 * (std::fabs(y[i]) + 1));
      }
      for (int i = 24; i < 40; i++) CHECK(y[i] == x[i] && z[i] == x[i]);
    }
  }
}

TEST(cpu_ops, attention_phase_matches_reference) {
  // GQA (6 query heads on 2 KV heads); a batch of 11 queries at positions
  // 60..70, so key tiles (64) and query tiles (8) both have partial ends.
  // Windows: none; one whose lower edge crosses the key tile boundary at 64
  // within the batch; one smaller than the batch; one of a single key.
  const int n_heads = 6, n_kv = 2, hd = 40, ctx = 80, n = 11, pos = 60;
  std::vector<uint16_t> kc((size_t)n_kv * ctx * hd), vc(kc.size());
  std::vector<float> kf = randv(kc.size(), 11, -2, 2), vf = randv(vc.size(), 12, -2, 2);
  for (size_t i = 0; i < kc.size(); i++) {
    kc[i] = km::fp32_to_fp16(kf[i]), vc[i] = km::fp32_to_fp16(vf[i]);
    kf[i] = km::fp16_to_fp32(kc[i]), vf[i] = km::fp16_to_fp32(vc[i]);  // the cache as the kernels read it
  }
  std::vector<float> q = randv((size_t)n * n_heads * hd, 13, -1, 1);
  for (int window : {0, 6, 9, 1}) {
    const std::vector<double> ref = kt::reference_attention(q, kf, vf, n, pos, n_heads, n_kv, hd, ctx, window);
    for (Simd lvl : {Simd::Scalar, Simd::Avx2, Simd::Avx512Vnni}) {
      if (lvl > detect_simd()) continue;
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> out((size_t)n * n_heads * hd, -1),
            scratch((size_t)threads * attention_scratch_floats(n_heads, n_kv, hd));
        AttentionArgs a;
        a.q = q.data();
        a.ldq = n_heads * hd;
        a.k = kc.data();
        a.v = vc.data();
        a.context = ctx;
        a.n = n;
        a.pos = pos;
        a.n_heads = n_heads;
        a.n_kv_heads = n_kv;
        a.head_dim = hd;
        a.scale = 1.0f / std::sqrt((float)hd);
        a.window = window;
        a.out = out.data();
        a.ldo = n_heads * hd;
        a.scratch = scratch.data();
        std::vector<WorkSlot> share((size_t)pool.size());
        pool.run([&](int ith, int nth) { attention_phase(ith, nth, kernels_for(lvl), a, share.data()); });
        for (size_t i = 0; i < ref.size(); i++) CHECK_NEAR(out[i], ref[i], kAttnTol * 2);
      }
    }
  }
}

TEST(cpu_ops, q4k_scales_all_at_once_match_one_by_one) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; trial++) {
    uint8_t s[12], sc[8], m[8];
    for (auto& b : s) b = (uint8_t)rng();
    q4k_scales_mins(s, sc, m);
    for (int j = 0; j < 8; j++) {
      int a, b;
      q4k_scale_min(s, j, &a, &b);
      CHECK_EQ((int)sc[j], a);
      CHECK_EQ((int)m[j], b);
    }
  }
}

TEST(cpu_ops, rms_norm_matches_reference) {
  for (Simd lvl : {Simd::Scalar, Simd::Avx2, Simd::Avx512Vnni}) {
    if (lvl > detect_simd()) continue;
    for (int n : {300, 768, 5}) {
      std::vector<float> x = randv(n, n + 5, -4, 4), w = randv(n, n + 6, 0.5, 1.5), y(n), ys(n);
      kernels_for(lvl).rms_norm(x.data(), w.data(), 1e-5f, n, y.data());
      kernels_for(Simd::Scalar).rms_norm(x.data(), w.data(), 1e-5f, n, ys.data());
      double ss = 0;
      for (float v : x) ss += (double)v * v;
      const double scale = 1.0 / std::sqrt(ss / n + 1e-5);
      for (int i = 0; i < n; i++) {
        CHECK_NEAR(y[i], x[i] * scale * w[i], 1e-6 * std::fabs(x[i] * scale * w[i]) + 1e-7);
        CHECK_EQ(y[i], ys[i]);  // the double sum leaves no room for a different rounding
      }
    }
  }
}

TEST(cpu_ops, simd_env_lowers_the_level) {
  const char* old = std::getenv("KEYMATE_CPU_SIMD");
  const std::string saved = old ? old : "";
  setenv("KEYMATE_CPU_SIMD", "scalar", 1);
  CHECK(simd_from_env() == Simd::Scalar);
  setenv("KEYMATE_CPU_SIMD", "avx512vnni", 1);
  CHECK(simd_from_env() == detect_simd());  // never above the hardware
  setenv("KEYMATE_CPU_SIMD", "sse9", 1);
  CHECK_THROWS_WITH(simd_from_env(), "KEYMATE_CPU_SIMD");
  if (old) setenv("KEYMATE_CPU_SIMD", saved.c_str(), 1);
  else unsetenv("KEYMATE_CPU_SIMD");
}
