// gpu_kv_state: a KV state moves between the CPU and the CUDA backend. A
// state the CPU wrote loads into the CUDA backend, which reads it back byte
// for byte (its pages regathered into the state layout) and continues with
// the logits of a CUDA engine that read every token itself; a state the CUDA
// backend wrote loads into the CPU. Every execution path runs on a written
// state, zero-launch's re-armed kernel included. States span two KV pages
// (kKvPageTokens = 64), the last one partial. Skipped (exit 77, with the
// reason) where the build has no CUDA or no GPU is usable.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend_factory.h"
#include "keymate/backend.h"
#include "keymate/engine.h"  // CudaDevice, before keymate/cuda.h
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "keymate/tokenizer.h"
#include "logit_diff.h"
#include "temp_dir.h"
#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "keymate/cuda.h"
#endif

namespace {

#ifndef KEYMATE_HAVE_CUDA
TEST(gpu_kv_state, all) { kt::skip("built without the CUDA backend (KEYMATE_CUDA=off or no nvcc)"); }
#else

void require_gpu() {
  static const km::CudaProbe p = km::cuda_probe();
  if (!p.available) kt::skip("no usable GPU: " + p.reason);
}

const char* const kModel = "stories260K.gguf";
const char* const kKvFormats[] = {"f16", "int8"};  // without and with a scale array
// Tokens in a state: more than one KV page, the second one partial.
constexpr int kStateTokens = 100;
constexpr int kContext = 128;
// CUDA against the CPU's scalar kernels, relative to the logit range (as
// gpu_model's kLogitTolerance: the products run in another order).
constexpr double kLogitTolerance = 2e-3;

// Sets an environment variable for its lifetime.
struct EnvVar {
  std::string name, saved;
  bool had;
  EnvVar(const char* n, const char* v) : name(n) {
    const char* old = std::getenv(n);
    had = old != nullptr;
    if (had) saved = old;
    setenv(n, v, 1);
  }
  ~EnvVar() {
    if (had) setenv(name.c_str(), saved.c_str(), 1);
    else unsetenv(name.c_str());
  }
};

// The CPU with its scalar kernels: the definition the CUDA kernels follow
// (see gpu_model.cpp).
std::unique_ptr<km::Engine> load(const std::string& backend, const std::string& kv) {
  EnvVar scalar("KEYMATE_CPU_SIMD", "scalar");
  km::LoadOptions o;
  o.backend = backend;
  o.threads = 2;
  o.kv = kv;
  o.context = kContext;
  return km::Engine::load(kt::model_path(kModel), o);
}

// kStateTokens tokens spread over the vocabulary (a story would do as well,
// but could end before kStateTokens).
std::vector<int32_t> state_tokens(int vocab) {
  std::vector<int32_t> t(kStateTokens);
  for (int i = 0; i < kStateTokens; i++) t[static_cast<size_t>(i)] = (i * 37 + 5) % vocab;
  return t;
}

// Logits of every one of `more` run at positions n.. on top of a backend's cache.
std::vector<float> continue_with(km::Backend& b, const std::vector<int32_t>& more, int n, int vocab) {
  std::vector<float> out(more.size() * static_cast<size_t>(vocab));
  b.forward(more.data(), static_cast<int>(more.size()), n, out.data(), true);
  return out;
}

TEST(gpu_kv_state, a_cpu_state_loads_into_the_cuda_backend_and_back) {
  require_gpu();
  kt::TempDir dir("keymate-gpu-kv-state");
  for (const char* kv : kKvFormats) {
    const std::string from_cpu = dir.path + "/cpu-" + kv + ".kmkv", from_gpu = dir.path + "/gpu-" + kv + ".kmkv";
    auto cpu = load("cpu", kv);
    const int vocab = cpu->info().vocab;
    const std::vector<int32_t> held = state_tokens(vocab);
    cpu->logits(held);
    REQUIRE(cpu->save_state(from_cpu).tokens == kStateTokens);
    auto gpu = load("cuda", kv);
    REQUIRE(gpu->info().backend == "cuda");
    CHECK_EQ(gpu->load_state(from_cpu).tokens, kStateTokens);
    CHECK_EQ(gpu->save_state(from_gpu).tokens, kStateTokens);
    CHECK(kt::read_all(from_gpu) == kt::read_all(from_cpu));
    CHECK(gpu->info().backend_fallback.empty());

    const std::vector<int32_t> more = cpu->tokenizer().encode(" The end.", false, true);
    const std::vector<float> on_gpu = continue_with(gpu->backend(), more, kStateTokens, vocab);
    const std::vector<float> on_cpu = continue_with(cpu->backend(), more, kStateTokens, vocab);
    CHECK(kt::max_rel_diff(on_gpu, on_cpu, vocab) <= kLogitTolerance);
    // A CUDA engine that read every token itself.
    std::vector<int32_t> all = held;
    all.insert(all.end(), more.begin(), more.end());
    auto whole = load("cuda", kv);
    const std::vector<float> w = whole->logits(all, true);
    const std::vector<float> tail(w.begin() + static_cast<long>(kStateTokens) * vocab, w.end());
    CHECK(kt::max_rel_diff(on_gpu, tail, vocab) <= kLogitTolerance);

    // The other way: the state the CUDA engine just built, on the CPU.
    const std::string built = dir.path + "/built-" + kv + ".kmkv";
    const int n = whole->save_state(built).tokens;
    CHECK_EQ(n, static_cast<int>(all.size()));
    auto cpu2 = load("cpu", kv);
    CHECK_EQ(cpu2->load_state(built).tokens, n);
    const std::vector<int32_t> last = {held[1]};
    CHECK(kt::max_rel_diff(continue_with(cpu2->backend(), last, n, vocab),
                           continue_with(whole->backend(), last, n, vocab), vocab) <= kLogitTolerance);
  }
}

TEST(gpu_kv_state, every_path_runs_on_a_written_state) {
  require_gpu();
  auto file = std::shared_ptr<const km::GgufFile>(km::GgufFile::open(kt::model_path(kModel)));
  auto model = std::make_shared<const km::Model>(km::load_model(file));
  const int vocab = model->config.vocab;
  km::BackendOptions bo;
  bo.context = kContext;
  bo.kv = km::KvType::Int8;
  bo.threads = 2;
  std::unique_ptr<km::Backend> cpu;
  {
    EnvVar scalar("KEYMATE_CPU_SIMD", "scalar");
    cpu = km::make_backend("cpu", model, bo);
  }
  const std::vector<int32_t> tokens = state_tokens(vocab);
  cpu->forward(tokens.data(), kStateTokens, 0, nullptr, false);
  std::vector<uint8_t> state(cpu->kv_bytes(kStateTokens));
  cpu->read_kv(kStateTokens, state.data());
  const std::vector<int32_t> more = {7, 99, 3};
  const std::vector<float> want = continue_with(*cpu, more, kStateTokens, vocab);

  std::vector<float> first;
  for (km::ExecPath path : {km::ExecPath::Launch, km::ExecPath::Graph, km::ExecPath::ZeroLaunch}) {
    bo.path = path;
    auto gpu = km::make_backend("cuda", model, bo);
    CHECK_EQ(gpu->kv_bytes(kStateTokens), static_cast<uint64_t>(state.size()));
    gpu->write_kv(kStateTokens, state.data());
    const std::vector<float> got = continue_with(*gpu, more, kStateTokens, vocab);
    CHECK(kt::max_rel_diff(got, want, vocab) <= kLogitTolerance);
    if (first.empty()) first = got;
    CHECK(got == first);  // the paths run the same tiles: bit-identical
    // The steps wrote positions past the state and left it as it was.
    std::vector<uint8_t> back(state.size());
    gpu->read_kv(kStateTokens, back.data());
    CHECK(back == state);
  }
  CHECK_THROWS_WITH(cpu->write_kv(kContext + 1, state.data()), "does not fit the context of 128 tokens");
}

#endif

}  // namespace
