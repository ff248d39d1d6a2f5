// The graph path: the launch path of a step captured once into a
// CUDA graph and replayed, so a step costs one cudaGraphLaunch instead of a
// launch per instruction.
//
// One graph per bucket of n (1, 2, 4, ... kMaxStepTokens: the next power of
// two at or above the step's n). Every graph serves every step of its bucket
// because the ops read n and pos from the device StepState and blocks beyond
// a step's tiles return at once; a bucket only sizes each kernel's grid to
// the most tiles any n in the bucket needs, so a decode step does not launch
// the empty blocks a 256-token prefill would need. An instruction whose tiles
// depend on the position (split attention) keeps its full grid (max_tiles).
//
// The StepState reaches the device by a cudaMemcpyAsync captured as the
// graph's first node, from a pinned host buffer the host fills before the
// replay. In profile mode the graph also holds an event at every stage
// boundary (event record nodes), and the stage times are read after the step.
//
// Graphs run on a non-blocking stream of the executor's own: capture needs a
// stream that is not the legacy default one, and the step is waited for
// before run() returns, so the backend may read the outputs on any stream.
#include <cuda_runtime.h>

#include <array>
#include <memory>
#include <vector>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "exec/executor.h"
#include "exec/l2_window.cuh"

namespace km::cuda {

namespace {

constexpr int kBuckets = 9;  // n = 1, 2, 4, ..., 256
static_assert(kMaxStepTokens == 1 << (kBuckets - 1), "one bucket per power of two up to kMaxStepTokens");

int bucket_of(int n) {
  int b = 0;
  while ((1 << b) < n) b++;
  return b;
}

// A position far beyond any context: an instruction whose tile count differs
// between pos 0 and here depends on the position.
constexpr int kFarPos = 1 << 24;

// The grid of `in` for every step whose n lies in bucket b, sampling or not:
// one graph serves both, so the sampling ops must be captured with the grid
// a sampling step needs (a step that does not sample runs them as 0 tiles).
int bucket_grid(const Instr& in, int b) {
  StepState st{};
  const int lo = b == 0 ? 1 : (1 << (b - 1)) + 1, hi = 1 << b;
  int tiles = 0;
  for (int sample = 0; sample <= 1; sample++)
    for (int n = lo; n <= hi; n++) {
      st.sample = sample;
      st.n = n;
      st.pos = 0;
      const int at0 = instr_tiles(in, st);
      st.pos = kFarPos;
      if (instr_tiles(in, st) != at0) return in.max_tiles;
      tiles = at0 > tiles ? at0 : tiles;
    }
  return tiles < in.max_tiles ? tiles : in.max_tiles;
}

struct Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  // Profile mode: events[0] before the first instruction, then one after
  // each run of instructions of one stage; stage_of[k] is what lies between
  // events[k] and events[k + 1].
  std::vector<cudaEvent_t> events;
  std::vector<Stage> stage_of;

  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    for (cudaEvent_t e : events) cudaEventDestroy(e);
  }
};

class GraphExecutor final : public Executor {
 public:
  GraphExecutor(const std::vector<Instr>& prog, StepState* st_dev)
      : prog_(prog), st_dev_(st_dev), pinned_(sizeof(StepState)) {
    if (prog_.empty()) fail("graph: the program is empty");
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    l2_ = l2_window_for(prog_);
    apply_l2_window(stream_, l2_);
  }
  ~GraphExecutor() override {
    graphs_ = {};  // before the stream they ran on
    release_l2_window(l2_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  const char* name() const override { return "graph"; }

  void run(const StepState& st, StageTimes* times) override {
    if (st.n < 1 || st.n > kMaxStepTokens) fail("graph: a step of %d tokens (1..%d)", st.n, kMaxStepTokens);
    const bool timed = times != nullptr;
    std::unique_ptr<Graph>& g = graphs_[timed][bucket_of(st.n)];
    if (!g) g = capture(bucket_of(st.n), timed);
    *pinned_.get<StepState>() = st;  // the previous replay has finished: run() waits for each
    CUDA_CHECK(cudaGraphLaunch(g->exec, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (timed)
      for (size_t k = 0; k < g->stage_of.size(); k++) {
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, g->events[k], g->events[k + 1]));
        add_stage_ms(*times, g->stage_of[k], ms);
      }
  }

 private:
  std::unique_ptr<Graph> capture(int bucket, bool timed) {
    auto g = std::make_unique<Graph>();
    // An event recorded during capture is only an ordering node of the graph,
    // never a timestamp one can read after a replay; an external event record
    // node is, so the stage times below come from real records.
    auto event = [&] {
      cudaEvent_t e = nullptr;
      CUDA_CHECK(cudaEventCreate(&e));
      g->events.push_back(e);
      CUDA_CHECK(cudaEventRecordWithFlags(e, stream_, cudaEventRecordExternal));
    };
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      CUDA_CHECK(cudaMemcpyAsync(st_dev_, pinned_.get(), sizeof(StepState), cudaMemcpyHostToDevice, stream_));
      if (timed) event();
      for (size_t i = 0; i < prog_.size(); i++) {
        Instr in = prog_[i];
        in.max_tiles = bucket_grid(in, bucket);
        if (in.max_tiles > 0) launch_instr(in, st_dev_, stream_);
        const bool stage_ends = i + 1 == prog_.size() || prog_[i + 1].stage != in.stage;
        if (timed && stage_ends) {
          event();
          g->stage_of.push_back(in.stage);
        }
      }
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(stream_, &broken);  // leave the stream usable
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    CUDA_CHECK(cudaStreamEndCapture(stream_, &g->graph));
    apply_l2_window(g->graph, l2_);
    CUDA_CHECK(cudaGraphInstantiate(&g->exec, g->graph, 0));
    return g;
  }

  std::vector<Instr> prog_;
  StepState* st_dev_;
  PinnedBuffer pinned_;
  cudaStream_t stream_ = nullptr;
  L2Window l2_;
  std::array<std::array<std::unique_ptr<Graph>, kBuckets>, 2> graphs_;  // [timed][bucket]
};

}  // namespace

std::unique_ptr<Executor> make_graph_executor(const std::vector<Instr>& prog, StepState* st_dev, cudaStream_t stream) {
  // The backend's stream is not captured (it may be the legacy default
  // stream, which cannot be); run() waits for its own.
  (void)stream;
  return std::make_unique<GraphExecutor>(prog, st_dev);
}

}  // namespace km::cuda
