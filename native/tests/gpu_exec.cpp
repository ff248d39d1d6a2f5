// gpu_exec: the three execution paths of the CUDA backend (kernels/exec/):
// the doorbell answers every ring with the step it was given; launch, graph
// and zero-launch run the same tiles and give bit-identical logits over a
// prefill and a run of decode steps (the ops are deterministic, so any
// difference is a path bug: a lost StepState, a missing barrier); zero-launch
// fills the stage times in profile mode; its watchdog turns a late answer
// into a km::Error and the process goes on to arm a fresh kernel. Skipped
// (exit 77, with the reason) where the build has no CUDA or no GPU is usable.
#include <cmath>
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
#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "exec/doorbell.h"
#include "keymate/cuda.h"
#endif

namespace {

#ifndef KEYMATE_HAVE_CUDA
TEST(gpu_exec, all) { kt::skip("built without the CUDA backend (KEYMATE_CUDA=off or no nvcc)"); }
#else

void require_gpu() {
  static const km::CudaProbe p = km::cuda_probe();
  if (!p.available) kt::skip("no usable GPU: " + p.reason);
}

std::shared_ptr<const km::Model> load(const std::string& name) {
  auto file = std::shared_ptr<const km::GgufFile>(km::GgufFile::open(kt::model_path(name)));
  return std::make_shared<const km::Model>(km::load_model(file));
}

std::unique_ptr<km::Backend> cuda(std::shared_ptr<const km::Model> m, km::ExecPath path, bool profile = false) {
  km::BackendOptions bo;
  bo.context = 64;
  bo.path = path;
  bo.profile = profile;
  return km::make_backend("cuda", std::move(m), bo);
}

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

constexpr int kPrompt = 9;   // a prefill that is not a power of two (graph buckets)
constexpr int kDecode = 12;

// Logits of a 9-token prefill, then of 12 greedy decode steps, concatenated.
std::vector<float> run(km::Backend& b, int vocab) {
  std::vector<int32_t> prompt(kPrompt);
  for (int i = 0; i < kPrompt; i++) prompt[i] = (i * 37 + 5) % vocab;
  std::vector<float> all, logits(vocab);
  b.forward(prompt.data(), kPrompt, 0, logits.data(), false);
  all.insert(all.end(), logits.begin(), logits.end());
  for (int s = 0; s < kDecode; s++) {
    int32_t tok = 0;
    for (int i = 1; i < vocab; i++)
      if (logits[i] > logits[tok]) tok = i;
    b.forward(&tok, 1, kPrompt + s, logits.data(), false);
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

TEST(gpu_exec, doorbell_answers_every_ring_with_its_own_step) {
  require_gpu();
  km::cuda::DoorbellOptions o;
  o.rings = 300;
  o.warmup = 20;
  // doorbell_bench throws when an answer echoes another ring's step.
  const km::cuda::DoorbellReport r = km::cuda::doorbell_bench(o);
  CHECK(r.full_grid.blocks >= r.sms);
  CHECK(r.one_block.blocks == 1);
  for (const km::cuda::DoorbellSeries* s : {&r.one_block, &r.full_grid}) {
    CHECK(s->round_trip_us.p50 > 0 && s->round_trip_us.p50 < 1000);
    CHECK(s->round_trip_us.min <= s->round_trip_us.p50 && s->round_trip_us.p50 <= s->round_trip_us.p99);
    CHECK(std::isfinite(s->host_to_seen_us.p50));
  }
  CHECK(r.kernel_launch_sync_us.p50 > 0);
  CHECK(r.graph_launch_sync_us.p50 > 0);
}

TEST(gpu_exec, launch_graph_and_zero_launch_give_bit_identical_logits) {
  require_gpu();
  for (const char* name : {"stories260K.gguf", "stories260K-Q8_0.gguf"}) {
    auto m = load(name);
    const int vocab = m->config.vocab;
    std::vector<float> launch, graph, zero;
    { auto b = cuda(m, km::ExecPath::Launch); launch = run(*b, vocab); }
    { auto b = cuda(m, km::ExecPath::Graph); graph = run(*b, vocab); }
    { auto b = cuda(m, km::ExecPath::ZeroLaunch); zero = run(*b, vocab); }
    REQUIRE(launch.size() == graph.size() && launch.size() == zero.size());
    CHECK(std::memcmp(launch.data(), graph.data(), launch.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(launch.data(), zero.data(), launch.size() * sizeof(float)) == 0);
    // And a second armed kernel on the same device after the first was disarmed.
    auto again = cuda(m, km::ExecPath::ZeroLaunch);
    CHECK(run(*again, vocab) == zero);
  }
}

TEST(gpu_exec, zero_launch_reports_device_stage_times_when_profiling) {
  require_gpu();
  auto m = load("stories260K.gguf");
  auto b = cuda(m, km::ExecPath::ZeroLaunch, true);
  run(*b, m->config.vocab);
  const km::StageTimes s = b->stats();
  CHECK(s.qkv > 0);
  CHECK(s.attention > 0);
  CHECK(s.ffn > 0);
  CHECK(s.logits > 0);
  CHECK(s.qkv < 1000 && s.ffn < 1000);  // ms: device stamps, not garbage
}

TEST(gpu_exec, zero_launch_watchdog_fails_a_step_and_the_process_recovers) {
  require_gpu();
  auto m = load("stories260K.gguf");
  {
    // 1 microsecond: no GPU answers a ring that fast, so the step must fail
    // with the watchdog's message; the destructor must still disarm.
    EnvVar quick("KEYMATE_ZL_WATCHDOG_MS", "0.001");
    CHECK_THROWS_WITH(
        [&] {
          auto b = cuda(m, km::ExecPath::ZeroLaunch);
          run(*b, m->config.vocab);
          return 0;
        }(),
        "did not answer");
  }
  // The launch backend is made first: while a kernel is armed nothing else
  // may be launched (allocations clear memory with a kernel).
  auto launch = cuda(m, km::ExecPath::Launch);
  auto b = cuda(m, km::ExecPath::ZeroLaunch);
  std::vector<float> z = run(*b, m->config.vocab);
  b.reset();
  CHECK(run(*launch, m->config.vocab) == z);
}

#endif

}  // namespace
