// The CPU backend's forward pass, end to end: the three stories260K files
// load and give finite logits, greedy text on stories260K (F32) is the text
// the models README quotes from llama.cpp; a prompt run as one batch gives the
// logits of the same tokens run one at a time (prefill vs decode); logits are
// bit-identical run after run and across thread counts; every SIMD level
// agrees with the scalar kernels; tiny random models of every weight type,
// with qwen2's NeoX RoPE and biases, Llama-3 rope_freqs and linear scaling,
// all run; bad calls fail with a message instead of crashing.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cpu/simd.h"
#include "cpu_test_models.h"
#include "keymate/backend.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "logit_diff.h"
#include "synth.h"
#include "test.h"

namespace {

// Tolerances relative to the logit range. Prefill vs decode: matmuls sum in
// the same order either way, but attention scores keys 8 at a time and the
// rest one by one, so a key may be summed differently (measured 2e-6); with
// quantized activations such a difference can flip a quant, which this small
// model amplifies.
constexpr double kBatchTolF32 = 1e-5;
constexpr double kBatchTolQuant = 1e-3;
// SIMD vs scalar: a different summation order (measured 1.5e-6 on F32); on the
// Q8_0 file one flipped activation quant moves logits by 5e-3 of the range.
constexpr double kSimdTolF32 = 1e-5;
constexpr double kSimdTolQuant = 1e-2;
// Tiny random models (no amplification): measured up to 3e-7.
constexpr double kTinyTol = 5e-6;
// Post-norms (Gemma 3) rescale each block's small output to unit size before
// the residual add, so a block's rounding reaches the stream undamped: on
// test-gemma3 F32, measured 2.2e-5 prefill vs decode and 8.7e-5 SIMD vs
// scalar (its exp differs from std::exp by a few ulp in GELU and softmax).
constexpr double kPostNormAmplification = 20;
// Head norms (Qwen3) rescale q and k the same way: measured 1.1e-5 SIMD vs
// scalar on test-qwen3 F32.
constexpr double kHeadNormAmplification = 4;

std::shared_ptr<const km::Model> load(const std::string& name) {
  const std::string path = kt::model_path(name);
  auto file = std::shared_ptr<const km::GgufFile>(km::GgufFile::open(path));
  return std::make_shared<const km::Model>(km::load_model(file));
}

// Sets KEYMATE_CPU_SIMD for its lifetime.
struct SimdEnv {
  std::string saved;
  bool had;
  explicit SimdEnv(const char* level) {
    const char* old = std::getenv("KEYMATE_CPU_SIMD");
    had = old != nullptr;
    if (old) saved = old;
    if (level) setenv("KEYMATE_CPU_SIMD", level, 1);
    else unsetenv("KEYMATE_CPU_SIMD");
  }
  ~SimdEnv() {
    if (had) setenv("KEYMATE_CPU_SIMD", saved.c_str(), 1);
    else unsetenv("KEYMATE_CPU_SIMD");
  }
};

std::unique_ptr<km::Backend> backend(std::shared_ptr<const km::Model> m, int threads, const char* simd = nullptr,
                                     int ctx = 0) {
  SimdEnv env(simd);
  km::BackendOptions o;
  o.threads = threads;
  o.context = ctx;
  return km::make_cpu_backend(std::move(m), o);
}

// Logits of every token of `tokens`, run as one batch ([n, vocab]).
std::vector<float> batch_logits(km::Backend& b, const std::vector<int32_t>& tokens, int vocab) {
  std::vector<float> out(tokens.size() * (size_t)vocab);
  b.forward(tokens.data(), (int)tokens.size(), 0, out.data(), true);
  return out;
}

// The same, one token per forward.
std::vector<float> step_logits(km::Backend& b, const std::vector<int32_t>& tokens, int vocab) {
  std::vector<float> out(tokens.size() * (size_t)vocab);
  for (size_t i = 0; i < tokens.size(); i++) b.forward(&tokens[i], 1, (int)i, out.data() + i * vocab, false);
  return out;
}

std::vector<int32_t> greedy(km::Backend& b, std::vector<int32_t> prompt, int n, int vocab) {
  std::vector<float> lg(vocab);
  b.forward(prompt.data(), (int)prompt.size(), 0, lg.data(), false);
  std::vector<int32_t> out;
  for (int i = 0; i < n; i++) {
    int best = 0;
    for (int j = 1; j < vocab; j++)
      if (lg[j] > lg[best]) best = j;
    out.push_back(best);
    const int32_t t = best;
    b.forward(&t, 1, (int)(prompt.size() + i), lg.data(), false);
  }
  return out;
}

// "Once upon a time" as the llama tokenizer of stories260K splits it (with BOS).
const std::vector<int32_t> kOnceUponATime = {1, 403, 407, 261, 378};

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

TEST(cpu_backend, stories260k_files_load_and_run) {
  for (const char* name : {"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf"}) {
    auto m = load(name);
    auto b = backend(m, 2);
    CHECK_EQ(b->name(), std::string("cpu"));
    CHECK_EQ(b->context(), 512);
    const std::vector<float> lg = batch_logits(*b, kOnceUponATime, m->config.vocab);
    CHECK(all_finite(lg));
  }
}

TEST(cpu_backend, stories260k_greedy_text_is_llama_cpps) {
  // The models README: llama.cpp continues "Once upon a time" with ", there was
  // a little girl named Lily. She loved to play outside in the park. ..." The
  // first tokens of that continuation, as ids of this vocabulary:
  auto m = load("stories260K.gguf");
  auto b = backend(m, 2);
  const std::vector<int32_t> got = greedy(*b, kOnceUponATime, 16, m->config.vocab);
  const std::vector<int32_t> want = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337};
  CHECK(got == want);
}

TEST(cpu_backend, prefill_equals_decode) {
  const std::vector<int32_t> toks = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421};
  struct F { const char* file; double tol; };
  for (F f : {F{"stories260K.gguf", kBatchTolF32}, F{"stories260K-Q8_0.gguf", kBatchTolQuant},
              F{"stories260K-Q4_0.gguf", kBatchTolQuant}}) {
    auto m = load(f.file);
    auto b = backend(m, 2);
    const int V = m->config.vocab;
    const double d = kt::max_rel_diff(step_logits(*b, toks, V), batch_logits(*b, toks, V), V);
    if (!(d <= f.tol)) kt::report_failure(__FILE__, __LINE__, km::format("%s: %.3g > %.3g", f.file, d, f.tol));
  }
}

TEST(cpu_backend, deterministic_across_runs_and_thread_counts) {
  for (const char* file : {"stories260K.gguf", "stories260K-Q8_0.gguf"}) {
    auto m = load(file);
    const int V = m->config.vocab;
    const std::vector<int32_t> toks = {1, 403, 407, 261, 378, 432, 383};
    auto b1 = backend(m, 1);
    const std::vector<float> ref = batch_logits(*b1, toks, V);
    CHECK(batch_logits(*b1, toks, V) == ref);
    for (int threads : {2, 3}) {
      auto b = backend(m, threads);
      CHECK(batch_logits(*b, toks, V) == ref);
      CHECK(batch_logits(*b, toks, V) == ref);
    }
  }
}

TEST(cpu_backend, simd_levels_agree_with_scalar) {
  if (km::cpu::detect_simd() == km::cpu::Simd::Scalar) kt::skip("no SIMD level on this processor");
  const std::vector<int32_t> toks = {1, 392, 287, 343, 269, 410, 447};
  struct F { const char* file; double tol; };
  for (F f : {F{"stories260K.gguf", kSimdTolF32}, F{"stories260K-Q8_0.gguf", kSimdTolQuant},
              F{"stories260K-Q4_0.gguf", kSimdTolQuant}}) {
    auto m = load(f.file);
    const int V = m->config.vocab;
    auto scalar = backend(m, 2, "scalar");
    const std::vector<float> ref = batch_logits(*scalar, toks, V);
    for (const char* lvl : {"avx2", "avx512vnni"}) {
      auto b = backend(m, 2, lvl);
      const double d = kt::max_rel_diff(batch_logits(*b, toks, V), ref, V);
      if (!(d <= f.tol))
        kt::report_failure(__FILE__, __LINE__, km::format("%s %s: %.3g > %.3g", f.file, lvl, d, f.tol));
    }
  }
}

TEST(cpu_backend, tiny_models_of_every_type_run) {
  using km::GgmlType;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K,
                     GgmlType::Q6_K}) {
    kt::TinySpec s;
    s.type = t;
    s.embd_type = t;
    if (t == GgmlType::Q4_K || t == GgmlType::Q6_K) s.dim = 256, s.heads = 4, s.ffn = 512;
    const kt::TinyModel tm = kt::tiny_model(s);
    const int V = tm.model->config.vocab;
    const std::vector<int32_t> toks = {1, 5, 9, 13, 21, 34, 55};
    auto scalar = backend(tm.model, 1, "scalar");
    const std::vector<float> ref = batch_logits(*scalar, toks, V);
    CHECK(all_finite(ref));
    const double tol = kTinyTol;
    auto fast = backend(tm.model, 2);
    const double d = kt::max_rel_diff(batch_logits(*fast, toks, V), ref, V);
    if (!(d <= tol))
      kt::report_failure(__FILE__, __LINE__, km::format("%s: simd vs scalar %.3g > %.3g", km::ggml_type_info(t).name, d, tol));
    const double pd = kt::max_rel_diff(step_logits(*scalar, toks, V), ref, V);
    if (!(pd <= tol))
      kt::report_failure(__FILE__, __LINE__, km::format("%s: batch vs steps %.3g > %.3g", km::ggml_type_info(t).name, pd, tol));
  }
}

TEST(cpu_backend, qwen2_rope_freqs_and_scaling_change_the_output) {
  // Each variant must run and must differ from the plain model: a knob that
  // changes nothing would mean it is ignored.
  kt::TinySpec base;
  const std::vector<int32_t> toks = {1, 5, 9, 13, 21, 34, 55, 60};
  auto logits_of = [&](const kt::TinySpec& s) {
    const kt::TinyModel tm = kt::tiny_model(s);
    auto b = backend(tm.model, 2);
    return batch_logits(*b, toks, tm.model->config.vocab);
  };
  const std::vector<float> plain = logits_of(base);
  kt::TinySpec qwen = base;
  qwen.arch = "qwen2";
  kt::TinySpec qwen_bias = qwen;
  qwen_bias.qkv_bias = true;
  kt::TinySpec freqs = base;
  freqs.rope_freqs = true;
  kt::TinySpec scaled = base;
  scaled.rope_scale = 4;
  for (const kt::TinySpec* s : {&qwen, &qwen_bias, &freqs, &scaled}) {
    const std::vector<float> lg = logits_of(*s);
    CHECK(all_finite(lg));
    CHECK(kt::max_rel_diff(lg, plain, base.vocab) > 1e-4);
  }
  // qwen2 with biases: still prefill == decode
  const kt::TinyModel tm = kt::tiny_model(qwen_bias);
  auto b = backend(tm.model, 2);
  CHECK(kt::max_rel_diff(step_logits(*b, toks, base.vocab), batch_logits(*b, toks, base.vocab), base.vocab) < kBatchTolF32);
}

TEST(cpu_backend, long_prompts_run_in_batches) {
  // More tokens than one internal batch (256): later batches must see the
  // cache the earlier ones wrote, exactly as one token at a time would.
  kt::TinySpec s;
  s.context = 640;
  s.layers = 1;
  const kt::TinyModel tm = kt::tiny_model(s);
  const int V = s.vocab;
  std::vector<int32_t> toks(600);
  for (size_t i = 0; i < toks.size(); i++) toks[i] = (int32_t)((i * 37 + 1) % V);
  auto b = backend(tm.model, 2);
  const std::vector<float> all = batch_logits(*b, toks, V);
  std::vector<float> last(V);
  b->forward(toks.data(), (int)toks.size(), 0, last.data(), false);
  CHECK(std::equal(last.begin(), last.end(), all.end() - V));
  const std::vector<float> steps = step_logits(*b, toks, V);
  CHECK(kt::max_rel_diff(steps, all, V) < kBatchTolF32);
}

TEST(cpu_backend, bad_calls_fail_with_a_message) {
  auto m = load("stories260K.gguf");
  auto b = backend(m, 1, nullptr, 16);
  CHECK_EQ(b->context(), 16);
  std::vector<float> lg(512 * 20);
  std::vector<int32_t> toks(20, 1);
  CHECK_THROWS_WITH(b->forward(toks.data(), 17, 0, lg.data(), false), "exceed the context");
  CHECK_THROWS_WITH(b->forward(toks.data(), 1, 16, lg.data(), false), "exceed the context");
  const int32_t bad = 512;
  CHECK_THROWS_WITH(b->forward(&bad, 1, 0, lg.data(), false), "outside the vocabulary");
  CHECK_THROWS_WITH(b->forward(toks.data(), 0, 0, lg.data(), false), "at least one token");
  km::BackendOptions o;
  o.threads = -1;
  CHECK_THROWS_WITH(km::make_cpu_backend(m, o), "negative");
}

TEST(cpu_backend, profile_collects_stage_times) {
  auto m = load("stories260K.gguf");
  km::BackendOptions o;
  o.threads = 2;
  o.profile = true;
  auto b = km::make_cpu_backend(m, o);
  std::vector<float> lg(512);
  b->forward(kOnceUponATime.data(), 5, 0, lg.data(), false);
  const km::StageTimes s = b->stats();
  CHECK(s.qkv > 0);
  CHECK(s.attention > 0);
  CHECK(s.ffn > 0);
  CHECK(s.logits > 0);
  b->reset_stats();
  CHECK_EQ(b->stats().ffn, 0.0);
  // without profile nothing is collected
  auto q = backend(m, 2);
  q->forward(kOnceUponATime.data(), 5, 0, lg.data(), false);
  CHECK_EQ(q->stats().ffn, 0.0);
  CHECK(b->device().find("threads") != std::string::npos);
}

// Every architecture family (the synth test shapes: Qwen3's head norms,
// Gemma 3's window, post-norms and GeGLU, Phi's fused tensors, partial
// rotation and LongRoPE, SmolLM3's unrotated layers, Llama 3's rope_freqs),
// F32 and Q8_0: a 40-token prompt (past Gemma's 16-token window) as one batch
// gives the logits of the same tokens one at a time, whatever the thread
// count, and every SIMD level agrees with the scalar kernels. Parity with
// llama.cpp itself is parity_families.cpp's.
TEST(cpu_backend, families_prefill_equals_decode_and_simd_agrees) {
  for (const char* shape : {"test-llama3", "test-qwen3", "test-gemma3", "test-phi3", "test-smollm3"}) {
    for (const char* type : {"f32", "q8_0"}) {
      const bool f32 = std::string(type) == "f32";
      km::SynthOptions o;
      o.shape = shape;
      o.type = type;
      o.seed = 5;
      auto m = std::make_shared<const km::Model>(km::load_model(km::build_synthetic_gguf(o)));
      const int V = m->config.vocab;
      std::vector<int32_t> toks;
      for (int i = 0; i < 40; i++) toks.push_back((int32_t)((i * 7919 + 13) % V));
      auto b = backend(m, 2);
      const std::vector<float> ref = batch_logits(*b, toks, V);
      CHECK(all_finite(ref));
      const double d = kt::max_rel_diff(step_logits(*b, toks, V), ref, V);
      const double amp = m->config.post_norms ? kPostNormAmplification : m->config.qk_norm ? kHeadNormAmplification : 1;
      const double tol = (f32 ? kBatchTolF32 : kBatchTolQuant) * amp;
      if (!(d <= tol)) kt::report_failure(__FILE__, __LINE__, km::format("%s %s prefill vs decode: %.3g", shape, type, d));
      auto b3 = backend(m, 3);
      CHECK(batch_logits(*b3, toks, V) == ref);
      if (km::cpu::detect_simd() == km::cpu::Simd::Scalar) continue;
      auto scalar = backend(m, 2, "scalar");
      const double ds = kt::max_rel_diff(batch_logits(*scalar, toks, V), ref, V);
      const double stol = (f32 ? kSimdTolF32 : kSimdTolQuant) * amp;
      if (!(ds <= stol)) kt::report_failure(__FILE__, __LINE__, km::format("%s %s simd vs scalar: %.3g", shape, type, ds));
    }
  }
}
