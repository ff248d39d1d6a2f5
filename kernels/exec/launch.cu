// The launch path: one kernel per instruction on one stream. The host knows
// the step (it wrote it), so each instruction is launched with exactly the
// tiles this step needs and skipped when it needs none; the kernels still
// read the StepState from the device like every other path. In profile mode
// an event is recorded at every change of Stage and the times between them
// are charged to the stages after the step.
#include <cuda_runtime.h>

#include <vector>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "exec/executor.h"

namespace km::cuda {

void launch_instr(const Instr& in, const StepState* st, cudaStream_t stream) {
  const int t = in.max_tiles;
  switch (in.op) {
    case Op::Embed: return launch_embed(in.a.embed, st, t, stream);
    case Op::RmsNorm: return launch_rmsnorm(in.a.rmsnorm, st, t, stream);
    case Op::QuantizeAct: return launch_quantize_act(in.a.quantize_act, st, t, stream);
    case Op::Matmul: return launch_matmul(in.a.matmul, st, t, stream);
    case Op::RopeKv: return launch_rope_kv(in.a.rope_kv, st, t, stream);
    case Op::AttnPartial: return launch_attn_partial(in.a.attn, st, t, stream);
    case Op::AttnCombine: return launch_attn_combine(in.a.attn, st, t, stream);
    case Op::AttnPrefill: return launch_attn_prefill(in.a.attn, st, t, stream);
    case Op::SamplePartial: return launch_sample_partial(in.a.sample, st, t, stream);
    case Op::SampleFinal: return launch_sample_final(in.a.sample, st, t, stream);
  }
}

namespace {

class Events {
 public:
  Events() = default;
  ~Events() {
    for (cudaEvent_t e : ev_) cudaEventDestroy(e);
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  cudaEvent_t at(size_t i) {
    while (ev_.size() <= i) {
      cudaEvent_t e;
      CUDA_CHECK(cudaEventCreate(&e));
      ev_.push_back(e);
    }
    return ev_[i];
  }

 private:
  std::vector<cudaEvent_t> ev_;
};

class LaunchExecutor final : public Executor {
 public:
  LaunchExecutor(const std::vector<Instr>& prog, StepState* st_dev, cudaStream_t stream)
      : prog_(prog), st_dev_(st_dev), stream_(stream), staging_(sizeof(StepState)) {}

  const char* name() const override { return "launch"; }

  void run(const StepState& st, StageTimes* times) override {
    // The staging copy is pinned so the copy is truly asynchronous; the
    // previous step's copy finished when its run() synchronized.
    *staging_.get<StepState>() = st;
    CUDA_CHECK(cudaMemcpyAsync(st_dev_, staging_.get(), sizeof(StepState), cudaMemcpyHostToDevice, stream_));
    std::vector<Stage> marks;  // stage of the interval that starts at event i
    size_t ev = 0;
    for (const Instr& in : prog_) {
      const int tiles = instr_tiles(in, st);
      if (tiles <= 0) continue;
      if (times && (marks.empty() || marks.back() != in.stage)) {
        CUDA_CHECK(cudaEventRecord(events_.at(ev++), stream_));
        marks.push_back(in.stage);
      }
      Instr exact = in;
      exact.max_tiles = tiles < in.max_tiles ? tiles : in.max_tiles;
      launch_instr(exact, st_dev_, stream_);
    }
    if (times) CUDA_CHECK(cudaEventRecord(events_.at(ev++), stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (!times) return;
    for (size_t i = 0; i + 1 < ev; i++) {
      float ms = 0;
      CUDA_CHECK(cudaEventElapsedTime(&ms, events_.at(i), events_.at(i + 1)));
      add_stage_ms(*times, marks[i], ms);
    }
  }

 private:
  std::vector<Instr> prog_;
  StepState* st_dev_;
  cudaStream_t stream_;
  PinnedBuffer staging_;
  Events events_;
};

}  // namespace

std::unique_ptr<Executor> make_launch_executor(const std::vector<Instr>& prog, StepState* st_dev,
                                               cudaStream_t stream) {
  if (!st_dev) fail("launch executor: no device step state");
  return std::make_unique<LaunchExecutor>(prog, st_dev, stream);
}

}  // namespace km::cuda
