// gpu_model: the whole model on the CUDA backend against the CPU backend (the
// oracle) on the real stories260K files: greedy parity over 64 tokens in
// every KV format, logits of every position, bit-identical logits over 100
// runs, device sampling, and the engine's fallback to the CPU when the CUDA
// backend fails (forced by the KEYMATE_CUDA_FAIL_AT hook); and a tiny model
// of every architecture family, prefill and decode. Skipped (exit 77,
// with the reason) where the build has no CUDA or no GPU is usable.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend_factory.h"
#include "cpu_test_models.h"
#include "golden.h"
#include "keymate/engine.h"
#include "keymate/tokenizer.h"
#include "logit_diff.h"
#include "sampling_settings.h"
#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "keymate/cuda.h"
#include "quant/quantize_run.h"
#include "sampler.h"
#endif

namespace {

#ifndef KEYMATE_HAVE_CUDA
TEST(gpu_model, all) { kt::skip("built without the CUDA backend (KEYMATE_CUDA=off or no nvcc)"); }
#else

void require_gpu() {
  static const km::CudaProbe p = km::cuda_probe();
  if (!p.available) kt::skip("no usable GPU: " + p.reason);
}

const char* const kModels[] = {"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf"};
const char* const kKvFormats[] = {"f16", "int8", "fp8", "fp8-e5m2"};
constexpr int kParityTokens = 64;
// Logits of the two backends, relative to the CPU's logit range: the GPU's
// products run in a different order (and the prefill GEMM of F16/BF16 weights
// on f16 tensor-core inputs), which moves logits by far less than this.
constexpr double kLogitTolerance = 2e-3;
// On the SIMT harness (kernels on the CPU, a thousand times slower than a GPU)
// the repetitions that only a GPU makes cheap are fewer: still enough to see a
// race (run-ahead and round-robin schedules each run this suite).
constexpr bool kOnHarness = std::string_view(KEYMATE_TEST_CUDA_ARCHS) == "simt";
constexpr int kRepeats = kOnHarness ? 10 : 100;
constexpr uint64_t kSeeds = kOnHarness ? 3 : 10;

std::unique_ptr<km::Engine> load(const std::string& model, const std::string& backend, const std::string& kv) {
  km::LoadOptions o;
  o.backend = backend;
  o.threads = 2;
  o.kv = kv;
  return km::Engine::load(kt::model_path(model), o);
}

// The CPU backend with its scalar kernels: the definition the GPU kernels
// follow operation for operation. Quantized formats quantize activations
// (int8 per 32 columns), so a float difference in the last bit, as any two
// summation orders give, can move one activation across a rounding boundary
// and every later position with it: on stories260K-Q4_0 the CPU's own AVX2
// kernels differ from its scalar ones by 0.7% of the logit range from the
// 12th position of logit_parity's prompt on, as the GPU did against them.
// Against the scalar kernels the GPU agrees to float rounding.
std::unique_ptr<km::Engine> load_cpu_reference(const std::string& model, const std::string& kv) {
  const char* old = std::getenv("KEYMATE_CPU_SIMD");
  const std::string keep = old ? old : "";
  setenv("KEYMATE_CPU_SIMD", "scalar", 1);
  auto e = load(model, "cpu", kv);
  if (old) setenv("KEYMATE_CPU_SIMD", keep.c_str(), 1);
  else unsetenv("KEYMATE_CPU_SIMD");
  return e;
}

// The same for a backend made from a model in memory.
auto scalar_cpu_backend(const std::shared_ptr<const km::Model>& model, const km::BackendOptions& o) {
  const char* old = std::getenv("KEYMATE_CPU_SIMD");
  const std::string keep = old ? old : "";
  setenv("KEYMATE_CPU_SIMD", "scalar", 1);
  auto b = km::make_backend("cpu", model, o);
  if (old) setenv("KEYMATE_CPU_SIMD", keep.c_str(), 1);
  else unsetenv("KEYMATE_CPU_SIMD");
  return b;
}

km::GenerateResult greedy(km::Engine& e, int tokens, const std::string& prompt = "Once upon a time") {
  km::GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = tokens;
  r.sampling.temperature = 0;
  r.sampling.repeat_penalty = 1.0f;
  return e.generate(r, nullptr);
}

// One test per model, so a failure names the weight format (and the harness
// can hold the quantized ones apart while their known difference stands).
void greedy_parity(const char* model) {
  require_gpu();
  for (const char* kv : kKvFormats) {
    auto cpu = load_cpu_reference(model, kv);
    auto gpu = load(model, "cuda", kv);
    REQUIRE(gpu->info().backend == "cuda");
    const km::GenerateResult a = greedy(*cpu, kParityTokens), b = greedy(*gpu, kParityTokens);
    CHECK(b.fallback.empty());
    if (a.tokens != b.tokens) std::fprintf(stderr, "  %s kv %s: cpu '%s'\n  gpu '%s'\n", model, kv,
                                           a.completion.c_str(), b.completion.c_str());
    CHECK(a.tokens == b.tokens);
    CHECK_EQ((int)b.tokens.size(), (int)a.tokens.size());
  }
}

void logit_parity(const char* model) {
  require_gpu();
  for (const char* kv : {"f16", "int8"}) {
    auto cpu = load_cpu_reference(model, kv);
    auto gpu = load(model, "cuda", kv);
    const std::vector<int32_t> toks = cpu->tokenizer().encode("Lily and Ben went to the park to play with a ball.", true, false);
    const int vocab = cpu->info().vocab;
    const std::vector<float> a = cpu->logits(toks, true), b = gpu->logits(toks, true);
    REQUIRE(a.size() == b.size());
    const double d = kt::max_rel_diff(b, a, vocab);
    if (d > kLogitTolerance) std::fprintf(stderr, "  %s kv %s: max logit difference %g of the range\n", model, kv, d);
    CHECK(d <= kLogitTolerance);
    // the last-token path (decode GEMV) agrees with the all-positions one
    const std::vector<float> last = gpu->logits(toks, false);
    const std::vector<float> tail(b.end() - vocab, b.end());
    CHECK(kt::max_rel_diff(last, tail, vocab) <= kLogitTolerance);
  }
}

// The model's logits for `tokens` tokens on the CUDA backend, as one prefill
// and one token at a time (the decode kernels), against the CPU backend's
// scalar kernels on `reference` run as one batch: the largest differences,
// relative to the logit range. `device` gets the GPU backend's description.
struct Parity {
  double prefill, decode;
};
Parity cuda_parity(const std::shared_ptr<const km::Model>& model, const std::shared_ptr<const km::Model>& reference,
                   int tokens, std::string* device = nullptr) {
  const int V = model->config.vocab;
  std::vector<int32_t> toks;
  for (int i = 0; i < tokens; i++) toks.push_back((int32_t)((i * 37 + 5) % V));
  km::BackendOptions o;
  o.threads = 2;
  auto cpu = scalar_cpu_backend(reference, o);
  auto gpu = km::make_backend("cuda", model, o);
  if (device) *device = gpu->device();
  std::vector<float> want(toks.size() * (size_t)V), batch(want.size()), steps(want.size());
  cpu->forward(toks.data(), (int)toks.size(), 0, want.data(), true);
  gpu->forward(toks.data(), (int)toks.size(), 0, batch.data(), true);
  auto gpu2 = km::make_backend("cuda", model, o);
  for (size_t i = 0; i < toks.size(); i++) gpu2->forward(&toks[i], 1, (int)i, steps.data() + i * V, false);
  return {kt::max_rel_diff(batch, want, V), kt::max_rel_diff(steps, want, V)};
}

// Every architecture family (cpu_test_models.h's family_spec: head norms,
// post-norms, GeGLU, scaled embeddings, sliding windows with their own
// rotation, partial rotation, LongRoPE, unrotated layers, fused tensors),
// F32 and Q8_0: 30 tokens (past gemma3's window of 8).
void family_parity(const char* arch, km::GgmlType type) {
  require_gpu();
  kt::TinySpec s = kt::family_spec(arch);
  s.type = type;
  const kt::TinyModel tm = kt::tiny_model(s);
  const Parity p = cuda_parity(tm.model, tm.model, 30);
  std::fprintf(stderr, "  %s %s: prefill %.2g, decode %.2g of the logit range\n", arch,
               type == km::GgmlType::F32 ? "f32" : "q8_0", p.prefill, p.decode);
  CHECK(p.prefill <= kLogitTolerance);
  CHECK(p.decode <= kLogitTolerance);
}

// The model with every K-quant matrix decoded to f32 by the reference
// decoder: the values the GPU's K-quant kernels multiply, with float
// activations as they take them (the CPU's K-quant kernels quantize the
// activations to int8 per 256, which alone moves these logits by ~0.5% of
// their range).
std::shared_ptr<const km::Model> decoded_twin(const km::Model& m) {
  auto t = std::make_shared<km::Model>();
  t->config = m.config;
  t->file = m.file;
  t->weights.token_embd = m.weights.token_embd;
  t->weights.layers = m.weights.layers;
  t->weights.output_norm = m.weights.output_norm;
  t->weights.output = m.weights.output;
  t->weights.rope_freqs = m.weights.rope_freqs;
  auto decode = [&](km::Tensor& x) {
    if (x.empty() || !x.quant.none() || !(x.type == km::GgmlType::Q4_K || x.type == km::GgmlType::Q5_K ||
                                          x.type == km::GgmlType::Q6_K))
      return;
    auto buf = std::make_unique<uint8_t[]>((size_t)x.rows * x.cols * 4);
    for (int64_t r = 0; r < x.rows; r++)
      km::quant::tensor_row(x, r, reinterpret_cast<float*>(buf.get()) + r * x.cols);
    x.type = km::GgmlType::F32;
    x.row_bytes = (uint64_t)x.cols * 4;
    x.data = buf.get();
    t->weights.owned.push_back(std::move(buf));
  };
  decode(t->weights.token_embd);
  decode(t->weights.output);
  for (km::LayerWeights& L : t->weights.layers)
    for (km::Tensor* x : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) decode(*x);
  return t;
}

// A model laid out as llama-quantize writes Q4_K_M and Q5_K_M files: q and
// k in Q4_K with v in Q6_K (so the fused q|k|v matrix runs as three
// products into one buffer), Q5_K and Q6_K down projections, a Q4_K
// embedding and a Q6_K output. The GPU holds every matrix as stored (no
// conversion at upload) and agrees with the CPU's scalar kernels on the
// decoded weights, as one prefill and one token at a time.
TEST(gpu_model, k_quant_models_run_as_stored_and_match_the_cpu) {
  require_gpu();
  kt::TinySpec s = kt::family_spec("llama");
  s.dim = 256;
  s.ffn = 512;
  s.type = km::GgmlType::Q4_K;
  s.embd_type = km::GgmlType::Q4_K;
  s.type_of["blk.0.attn_v.weight"] = km::GgmlType::Q6_K;
  s.type_of["blk.0.ffn_down.weight"] = km::GgmlType::Q6_K;
  s.type_of["blk.1.ffn_gate.weight"] = km::GgmlType::Q5_K;
  s.type_of["blk.1.ffn_up.weight"] = km::GgmlType::Q5_K;
  s.type_of["blk.1.ffn_down.weight"] = km::GgmlType::Q5_K;
  s.type_of["output.weight"] = km::GgmlType::Q6_K;
  const kt::TinyModel tm = kt::tiny_model(s);
  std::string device;
  const Parity p = cuda_parity(tm.model, decoded_twin(*tm.model), 20, &device);
  CHECK(device.find("converted") == std::string::npos);
  std::fprintf(stderr, "  k-quants: prefill %.2g, decode %.2g of the logit range\n", p.prefill, p.decode);
  CHECK(p.prefill <= kLogitTolerance);
  CHECK(p.decode <= kLogitTolerance);
}

TEST(gpu_model, families_match_the_cpu) {
  for (const char* arch : {"qwen3", "gemma3", "phi3", "smollm3", "llama"})
    for (km::GgmlType t : {km::GgmlType::F32, km::GgmlType::Q8_0}) family_parity(arch, t);
}

// The families' golden files (llama.cpp's own logits, tests/fixtures/golden/
// test-*.json) on the CUDA backend: the same tolerance the CPU backend meets.
// A GPU's test: their real vocabularies (up to 151,936 rows of logits per
// position) take the SIMT harness hours; there, families_match_the_cpu's tiny
// models against the CPU backend, which parity_families holds to these
// files, stand in.
TEST(gpu_model, families_match_llama_cpps_golden_logits) {
  require_gpu();
  if (kOnHarness) kt::skip("the families' golden vocabularies are a GPU's work, not the harness's");
  kt::TempDir dir("keymate-gpu-golden");
  for (const char* shape : kt::kFamilyShapes) {
    kt::GoldenFamily f = kt::open_golden_family(shape, dir, "cuda");
    REQUIRE(f.engine->info().backend == "cuda");
    int checked = 0;
    const double worst = kt::worst_logit_difference(*f.engine, f.g, kt::kLogitTolerance, &checked);
    CHECK(checked == static_cast<int>(f.g["logits"].size()));
    std::fprintf(stderr, "  %s: %d logit vectors, worst difference %.2e of the logit range\n", shape, checked, worst);
  }
}

TEST(gpu_model, greedy_tokens_match_the_cpu_f32) { greedy_parity(kModels[0]); }
TEST(gpu_model, greedy_tokens_match_the_cpu_q8_0) { greedy_parity(kModels[1]); }
TEST(gpu_model, greedy_tokens_match_the_cpu_q4_0) { greedy_parity(kModels[2]); }
TEST(gpu_model, logits_of_every_position_match_the_cpu_f32) { logit_parity(kModels[0]); }
TEST(gpu_model, logits_of_every_position_match_the_cpu_q8_0) { logit_parity(kModels[1]); }
TEST(gpu_model, logits_of_every_position_match_the_cpu_q4_0) { logit_parity(kModels[2]); }

TEST(gpu_model, long_prompts_run_in_steps_and_match_the_cpu) {
  require_gpu();
  auto cpu = load("stories260K.gguf", "cpu", "f16");
  auto gpu = load("stories260K.gguf", "cuda", "f16");
  std::vector<int32_t> toks;
  for (int i = 0; i < 300; i++) toks.push_back(1 + (i * 37) % 500);  // > one step of 256 tokens
  const std::vector<float> a = cpu->logits(toks), b = gpu->logits(toks);
  CHECK(kt::max_rel_diff(b, a, cpu->info().vocab) <= kLogitTolerance);
}

TEST(gpu_model, logits_are_bit_identical_run_after_run) {
  require_gpu();
  for (const char* model : {"stories260K.gguf", "stories260K-Q4_0.gguf"}) {
    auto gpu = load(model, "cuda", "fp8");
    const std::vector<int32_t> toks = gpu->tokenizer().encode("One day, a little bird", true, false);
    const std::vector<float> first = gpu->logits(toks, true);
    int differ = 0;
    for (int r = 1; r < kRepeats; r++) {
      const std::vector<float> again = gpu->logits(toks, true);
      differ += std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) != 0;
    }
    CHECK_EQ(differ, 0);
    // and the decode path: one token after the prompt, kRepeats times
    km::Backend& b = gpu->backend();
    const int vocab = gpu->info().vocab;
    std::vector<float> l0(vocab), l1(vocab);
    b.forward(toks.data(), (int)toks.size(), 0, l0.data(), false);
    const int32_t next = 42;
    b.forward(&next, 1, (int)toks.size(), l0.data(), false);
    for (int r = 0; r < kRepeats; r++) {
      b.forward(&next, 1, (int)toks.size(), l1.data(), false);
      differ += std::memcmp(l0.data(), l1.data(), l0.size() * sizeof(float)) != 0;
    }
    CHECK_EQ(differ, 0);
  }
}

TEST(gpu_model, device_sampling_picks_the_host_samplers_token) {
  require_gpu();
  auto gpu = load("stories260K.gguf", "cuda", "f16");
  km::Backend& b = gpu->backend();
  const int vocab = gpu->info().vocab;
  const std::vector<int32_t> toks = gpu->tokenizer().encode("The cat sat", true, false);
  std::vector<float> logits(vocab);
  km::DeviceSample greedy_s;
  const int32_t g = b.forward_sample(toks.data(), (int)toks.size(), 0, greedy_s, logits.data());
  CHECK_EQ(g, km::argmax(logits.data(), vocab));
  for (uint64_t seed = 1; seed <= 20; seed++) {
    const km::SamplingParams sp = kt::device_chain(seed);
    km::Sampler host(sp, vocab);
    km::DeviceSample s;
    s.temperature = sp.temperature;
    s.top_k = sp.top_k;
    s.top_p = sp.top_p;
    s.min_p = sp.min_p;
    km::Rng rng(seed);
    s.uniform = rng.uniform();
    const int32_t d = b.forward_sample(toks.data(), (int)toks.size(), 0, s, logits.data());
    CHECK_EQ(d, host.sample(logits.data()));
  }
  km::DeviceSample off;
  off.temperature = 1.0f;
  off.top_k = 0;  // top-k off: the host's whole-vocabulary chain, not run on the device
  CHECK_EQ(b.forward_sample(toks.data(), (int)toks.size(), 0, off, logits.data()), -1);
}

// Sets an environment variable for the life of the object.
struct EnvVar {
  std::string name;
  EnvVar(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~EnvVar() { unsetenv(name.c_str()); }
};

// The engine samples on the device wherever the settings allow: the replies
// must be the host sampler's, seed for seed, over whole generations.
TEST(gpu_model, generate_samples_on_the_device_as_the_host_would) {
  require_gpu();
  std::unique_ptr<km::Engine> host;
  {
    EnvVar hook("KEYMATE_HOST_SAMPLING", "1");
    host = load("stories260K.gguf", "cuda", "f16");
  }
  auto device = load("stories260K.gguf", "cuda", "f16");
  REQUIRE(device->info().backend == "cuda");
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    km::GenerateRequest r;
    r.prompt = "Once upon a time";
    r.max_tokens = 48;
    r.sampling.seed = seed;  // the defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
    const km::GenerateResult a = host->generate(r, nullptr), b = device->generate(r, nullptr);
    if (a.tokens != b.tokens)
      std::fprintf(stderr, "  seed %llu: host '%s'\n  device '%s'\n", (unsigned long long)seed, a.completion.c_str(),
                   b.completion.c_str());
    CHECK(a.tokens == b.tokens);
  }
}

TEST(gpu_model, a_cuda_failure_mid_reply_falls_back_to_the_cpu_with_the_same_tokens) {
  require_gpu();
  auto cpu = load("stories260K.gguf", "cpu", "f16");
  const km::GenerateResult want = greedy(*cpu, 32);
  std::unique_ptr<km::Engine> gpu;
  {
    EnvVar hook("KEYMATE_CUDA_FAIL_AT", "5");  // the prefill and 3 decode steps pass, the 5th call fails
    gpu = load("stories260K.gguf", "cuda", "f16");
  }
  REQUIRE(gpu->info().backend == "cuda");
  const km::GenerateResult got = greedy(*gpu, 32);
  CHECK(got.tokens == want.tokens);
  CHECK(got.fallback.find("failure injected") != std::string::npos);
  CHECK_EQ(gpu->info().backend, std::string("cpu"));
  CHECK(!gpu->info().backend_fallback.empty());
  // the next request runs on the CPU, from the cache it rebuilt
  const km::GenerateResult next = greedy(*gpu, 8);
  CHECK(next.fallback.empty());
  CHECK_EQ((int)next.tokens.size(), 8);
}

TEST(gpu_model, a_cuda_failure_at_load_leaves_the_engine_on_the_cpu) {
  require_gpu();
  EnvVar hook("KEYMATE_CUDA_FAIL_AT", "load");
  auto e = load("stories260K.gguf", "cuda", "f16");
  CHECK_EQ(e->info().backend, std::string("cpu"));
  CHECK(e->info().backend_fallback.find("failure injected at load") != std::string::npos);
  CHECK_EQ((int)greedy(*e, 4).tokens.size(), 4);
}

#endif  // KEYMATE_HAVE_CUDA

}  // namespace
