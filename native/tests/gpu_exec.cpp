// gpu_exec: the three execution paths of the CUDA backend (kernels/exec/):
// the doorbell answers every ring with the step it was given; launch, graph
// and zero-launch run the same tiles and give bit-identical logits over a
// prefill and a run of decode steps (the ops are deterministic, so any
// difference is a path bug: a lost StepState, a missing barrier); zero-launch
// fills the stage times in profile mode; its watchdog turns a late answer
// into a km::Error and the process goes on to arm a fresh kernel. Skipped
// (exit 77, with the reason) where the build has no CUDA or no GPU is usable.
#include <chrono>
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
#include "sampler.h"
#include "sampling_settings.h"
#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "exec/doorbell_bench.h"
#include "keymate/cuda.h"
#endif
#ifdef KEYMATE_SIMT_HARNESS
#include <thread>

#include "common/check.cuh"  // device_stuck()
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
  // Times are sane, not fast: how fast is keymate_bench's question (docs/BENCHMARKS.md),
  // and the SIMT harness runs this protocol a thousand times slower than a GPU.
  for (const km::cuda::DoorbellSeries* s : {&r.one_block, &r.full_grid}) {
    CHECK(s->round_trip_us.p50 > 0 && s->round_trip_us.p50 < 1e6);
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

// Stage times in profile mode: every stage measured, and device stamps, not
// garbage (the stages fit in the time the host waited for them).
void check_stage_times(km::ExecPath path) {
  require_gpu();
  auto m = load("stories260K.gguf");
  auto b = cuda(m, path, true);
  const auto t0 = std::chrono::steady_clock::now();
  run(*b, m->config.vocab);
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const km::StageTimes s = b->stats();
  CHECK(s.qkv > 0);
  CHECK(s.attention > 0);
  CHECK(s.ffn > 0);
  CHECK(s.logits > 0);
  CHECK(s.embed + s.qkv + s.attention + s.ffn + s.logits + s.other <= wall_ms + 1.0);
}

TEST(gpu_exec, zero_launch_reports_device_stage_times_when_profiling) { check_stage_times(km::ExecPath::ZeroLaunch); }

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

// Every path samples on the device, and picks the token the host sampler
// picks from the same logits. The graph path once captured its sampling ops
// with the grid of a step that does not sample (none), so forward_sample
// answered a stale token.
TEST(gpu_exec, every_path_samples_on_the_device_as_the_host_sampler_would) {
  require_gpu();
  auto m = load("stories260K.gguf");
  const int vocab = m->config.vocab;
  std::vector<int32_t> prompt(kPrompt);
  for (int i = 0; i < kPrompt; i++) prompt[i] = (i * 37 + 5) % vocab;
  for (km::ExecPath path : {km::ExecPath::Launch, km::ExecPath::Graph, km::ExecPath::ZeroLaunch}) {
    auto b = cuda(m, path);
    for (uint64_t seed = 1; seed <= 6; seed++) {
      km::Sampler sampler(kt::device_chain(seed), vocab);
      km::DeviceSample ds;
      REQUIRE(sampler.device_settings(ds));
      std::vector<float> logits(vocab);
      const int32_t gpu = b->forward_sample(prompt.data(), kPrompt, 0, ds, logits.data());
      CHECK(gpu >= 0);
      CHECK_EQ(gpu, sampler.sample(logits.data()));
    }
  }
}

// Profiling on the graph path: the stage boundaries are events recorded
// inside the captured graph, which only external event records make readable
// after a replay.
TEST(gpu_exec, graph_path_reports_stage_times_when_profiling) { check_stage_times(km::ExecPath::Graph); }

// A GPU that drives a display ends any kernel that runs for seconds, and the
// armed kernel runs as long as the model is loaded: the path is refused with
// the reason, before anything is armed. Skipped on a GPU without a display.
TEST(gpu_exec, zero_launch_is_refused_on_a_gpu_that_drives_a_display) {
  require_gpu();
  if (!km::cuda_probe().devices.at(0).display_watchdog) kt::skip("this GPU drives no display");
  auto m = load("stories260K.gguf");
  CHECK_THROWS_WITH(cuda(m, km::ExecPath::ZeroLaunch), "drives a display");
  auto launch = cuda(m, km::ExecPath::Launch);  // the other paths still run
  CHECK(!run(*launch, m->config.vocab).empty());
}

#ifdef KEYMATE_SIMT_HARNESS
// A persistent kernel that never returns (a hung GPU: here the harness stops
// its device). The watchdog fails the step; tearing the backend down must not
// wait for the kernel (every cudaFree would), so the backend is abandoned, the
// device marked stuck, and no CUDA backend is made again; the engine goes on
// on the CPU. Only the harness can hang a device on purpose.
TEST(gpu_exec, a_kernel_that_never_returns_is_abandoned_and_nothing_waits_for_it) {
  require_gpu();
  auto m = load("stories260K.gguf");
  EnvVar watchdog("KEYMATE_ZL_WATCHDOG_MS", "5000");  // a harness step takes a good part of a second
  auto b = cuda(m, km::ExecPath::ZeroLaunch);
  std::vector<float> logits(m->config.vocab);
  const int32_t tok = 5;
  b->forward(&tok, 1, 0, logits.data(), false);
  simtFreezeDevice(true);
  CHECK_THROWS_WITH(b->forward(&tok, 1, 1, logits.data(), false), "did not answer");
  std::atomic<bool> gone{false};
  std::thread teardown([&] {
    b.reset();
    gone = true;
  });
  for (int i = 0; i < 300 && !gone; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(gone.load());  // not gone in 15 s: the teardown waits for the hung kernel
  CHECK(km::cuda::device_stuck().load());
  if (gone) CHECK_THROWS_WITH(cuda(m, km::ExecPath::Launch), "never returned");
  simtFreezeDevice(false);  // the GPU "recovers": the abandoned kernel sees its quit and returns
  teardown.join();
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  km::cuda::device_stuck() = false;  // for the tests after this one in this process
}
#endif

#endif

}  // namespace
