// The zero-launch executor (exec/zero_launch.cuh for the design): the armed
// persistent kernel and the host object that owns it.
#include "exec/zero_launch.cuh"

#include <cuda_runtime.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "common/buffer.cuh"
#include "common/check.cuh"
#include "exec/doorbell.cuh"
#include "exec/doorbell_host.cuh"
#include "exec/executor.h"
#include "exec/l2_window.cuh"

namespace km::cuda {

static_assert(kStages <= kMaxStages, "the mailbox has a slot per Stage");
static_assert(kMaxStages <= 32 && kThreads >= 32, "s_stage_ns is zeroed by lanes of warp 0 (see a round's end)");
static_assert(sizeof(Instr) % 4 == 0 && sizeof(StepState) % 4 == 0, "copied to shared memory as words");

namespace {

// What block 0 tells every block through the barrier after a ring.
struct ZlCmd {
  uint32_t seq;     // the request being served; 0 = quit
  uint32_t error;   // DoorbellError: the step is not run
  uint64_t t_seen;  // %globaltimer when the ring was seen
};

// Device memory of one armed kernel, in one allocation so that a kernel that
// never returns can be abandoned with one pointer (see ~ZeroLaunchExecutor).
// The command and the step are used in turn (round & 1): block 0 writes the
// next round's as soon as it has answered, which a step the device refused
// (no instruction, so no barrier in between) lets it do before a slow block
// has read this round's; a block reading the newer one would skip a barrier
// and hang the grid. Round k + 2 reuses round k's slot only after barrier
// k + 1, which every block reaches after its read.
struct ZlDevice {
  unsigned long long barrier;  // the grid barrier's ticket counter
  ZlCmd cmd[2];
  StepState st[2];             // the step, copied from the mailbox
  // Instr prog[] follows, 16-byte aligned
};
constexpr size_t kProgOffset = (sizeof(ZlDevice) + 15) / 16 * 16;

struct ZlParams {
  const Instr* prog;
  int n_instr;
  Mailbox* mb;              // mapped host memory
  ZlDevice* d;
  const int32_t* token;     // the last SampleFinal's output, or null
};

// At most 128 registers a thread, as the ops' own launch kernels are built
// (matmul.cu): two blocks fit an SM where shared memory allows (sm_80+), and
// every op runs with the register budget it was tuned for.
constexpr int kZlMinBlocksPerSm = 2;

__device__ __forceinline__ void load_words(uint32_t* dst, const uint32_t* src, int words) {
  for (int i = threadIdx.x; i < words; i += blockDim.x) dst[i] = src[i];
}

__global__ void __launch_bounds__(kThreads, kZlMinBlocksPerSm) zero_launch_kernel(const __grid_constant__ ZlParams p) {
  extern __shared__ __align__(16) char tile_smem[];
  __shared__ StepState s_st;
  __shared__ Instr s_in[2];
  __shared__ uint64_t s_stage_ns[kMaxStages];
  GridBarrier bar{&p.d->barrier};
  uint32_t served = 0;  // block 0, lane 0
  const int lane = threadIdx.x & 31;
  constexpr int kInstrWords = sizeof(Instr) / 4;
  constexpr int kStepWords = sizeof(StepState) / 4;

  for (uint32_t round = 0;; round++) {
    ZlCmd* cmd = &p.d->cmd[round & 1];
    StepState* st = &p.d->st[round & 1];
    // The doorbell: block 0's first warp waits for a ring and publishes it.
    if (blockIdx.x == 0 && threadIdx.x < 32) {
      uint32_t seq = 0;
      uint64_t t_seen = 0;
      if (lane == 0) {
        seq = wait_ring(p.mb, served);
        t_seen = globaltimer_ns();
      }
      seq = __shfl_sync(0xffffffffu, seq, 0);
      // The shuffle hands over the number, not the ordering: only lane 0's
      // acquire saw the ring. The warp barrier orders lane 0's acquire before
      // every lane's reads of the step below (bar.warp.sync orders memory
      // among the lanes it joins), so no lane can read a step older than the ring.
      __syncwarp();
      const bool ok = seq != 0 && copy_step(&p.mb->req.step, st, lane);
      if (lane == 0) {
        cmd->seq = seq;
        cmd->error = seq != 0 && !ok ? kDoorbellBadStep : kDoorbellOk;
        cmd->t_seen = t_seen;
        served = seq;
      }
    }
    // The program never changes while armed: fetch the first instruction
    // while waiting.
    if (p.n_instr > 0) load_words(reinterpret_cast<uint32_t*>(&s_in[0]), reinterpret_cast<const uint32_t*>(p.prog),
                                  kInstrWords);
    if (threadIdx.x < kMaxStages) s_stage_ns[threadIdx.x] = 0;
    bar.sync();
    const uint32_t seq = cmd->seq;
    if (seq == 0) return;
    const uint32_t error = cmd->error;
    load_words(reinterpret_cast<uint32_t*>(&s_st), reinterpret_cast<const uint32_t*>(st), kStepWords);
    __syncthreads();
    uint64_t t_start = 0, t_prev = 0;
    if (blockIdx.x == 0 && threadIdx.x == 0) t_start = t_prev = globaltimer_ns();

    const int n_run = error ? 0 : p.n_instr;
    for (int i = 0; i < n_run; i++) {
      const Instr& in = s_in[i & 1];
      const Stage stage = in.stage;  // read now: the slot is refilled once this block's threads pass the barrier
      const int tiles = instr_tiles(in, s_st);
      for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
        run_tile(in, s_st, t, tile_smem);
        // The next tile of this block reuses tile_smem, but every tile
        // function already keeps its shared memory from the previous tile's
        // readers (a barrier before its first write, or after its last read),
        // as the op convention has it: the launch path's loops (KM_OP_KERNEL,
        // the matmul loop kernel) put no barrier between tiles, and the SIMT
        // tests run tiles so (ctest simt_gpu_ops_tiles_looped; gpu_matmul,
        // whose GEMM and QuantizeAct cases are simt/kernel_tests/tiles_looped.cu).
        // The tile's writes are gathered for the grid barrier by
        // GridBarrier::sync() itself. Kept as a margin for a tile function
        // that forgets; only a GPU run could show dropping it is worth it.
        __syncthreads();  // not required: tile functions guard their own shared memory
      }
      if (i + 1 < n_run)  // the other slot: nobody has read it since the last barrier
        load_words(reinterpret_cast<uint32_t*>(&s_in[(i + 1) & 1]),
                   reinterpret_cast<const uint32_t*>(p.prog + i + 1), kInstrWords);
      bar.sync();
      if (blockIdx.x == 0 && threadIdx.x == 0) {
        const uint64_t t = globaltimer_ns();
        s_stage_ns[static_cast<int>(stage)] += t - t_prev;
        t_prev = t;
      }
    }
    // The answer. Every block's writes were released at the last barrier;
    // the system-scope fence below makes them, and the answer, visible to
    // the host (and its copies) before `done` is.
    if (blockIdx.x == 0 && threadIdx.x == 0) {
      DoorbellAnswer* a = &p.mb->ans;
      __threadfence_system();
      a->token = p.token && !error ? *p.token : -1;
      a->error = error;
      a->t_seen = cmd->t_seen;
      a->t_start = t_start;
      a->t_end = globaltimer_ns();
      for (int s = 0; s < kMaxStages; s++) a->stage_ns[s] = s_stage_ns[s];
      __threadfence_system();
      st_release_sys(&a->done, seq);
    }
    // The next round rewrites s_stage_ns and s_in[0] before its first grid
    // barrier (everything else after it), but nothing of this round reads
    // them past here. s_in is read only before the last bar.sync() above,
    // which every thread of the block has passed. s_stage_ns is read only by
    // block 0's thread 0, for the answer; the threads that zero it are lanes
    // of warp 0 (static_assert above), which in block 0 wait at the doorbell's
    // __shfl_sync() and __syncwarp() until lane 0 gets there, after the
    // answer; no other block reads it. Kept as a margin (one block barrier a
    // step); simt/FINDINGS.md has the reasoning in full.
    __syncthreads();  // not required: the doorbell's warp sync holds back the next round's writers
  }
}

int blocks_per_sm_cap() {
  const char* v = std::getenv("KEYMATE_ZL_BLOCKS_PER_SM");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end || n < 1 || n > 64) fail("KEYMATE_ZL_BLOCKS_PER_SM=%s: use a number of blocks from 1 to 64", v);
  return static_cast<int>(n);
}

// Shared memory the kernel asks for at launch: the largest tile's.
int program_smem(const std::vector<Instr>& prog) {
  int smem = 0;
  for (const Instr& in : prog) {
    if (in.smem < 0 || in.smem > kTileSmem)
      fail("zero-launch: an instruction asks for %d bytes of shared memory (at most %d)", in.smem, kTileSmem);
    smem = in.smem > smem ? in.smem : smem;
  }
  return smem;
}

class ZeroLaunchExecutor final : public Executor {
 public:
  explicit ZeroLaunchExecutor(const std::vector<Instr>& prog) : n_instr_(static_cast<int>(prog.size())) {
    if (prog.empty()) fail("zero-launch: the program is empty");
    for (const Instr& in : prog)
      if (in.op == Op::SampleFinal) token_dev_ = in.a.sample.out;
    const int smem = program_smem(prog);
    watchdog_ms_ = watchdog_ms_from_env();

    // The device's answer to "can it be armed at all" comes before anything is allocated.
    grid_ = armed_grid(reinterpret_cast<const void*>(zero_launch_kernel), smem, blocks_per_sm_cap(), &sms_,
                       "zero-launch");
    const size_t bytes = kProgOffset + prog.size() * sizeof(Instr);
    try {
      CUDA_CHECK(cudaMalloc(&dev_mem_, bytes));
      CUDA_CHECK(cudaMemset(dev_mem_, 0, bytes));
      CUDA_CHECK(cudaMemcpy(static_cast<char*>(dev_mem_) + kProgOffset, prog.data(), prog.size() * sizeof(Instr),
                            cudaMemcpyHostToDevice));
      // The kernel's stream does not wait for the legacy one: the zeroed
      // barrier counter and the program must be in place before the launch.
      settle_uploads();
      CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      l2_ = l2_window_for(prog);
      apply_l2_window(stream_, l2_);
    } catch (...) {
      cleanup(true);  // nothing runs yet: free what was made
      throw;
    }

    ZlParams params{};
    params.prog = reinterpret_cast<const Instr*>(static_cast<char*>(dev_mem_) + kProgOffset);
    params.n_instr = n_instr_;
    params.mb = bell_.device();
    params.d = static_cast<ZlDevice*>(dev_mem_);
    params.token = token_dev_;
    void* args[] = {&params};
    const cudaError_t e = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(zero_launch_kernel), dim3(grid_),
                                                      dim3(kThreads), args, static_cast<size_t>(smem), stream_);
    if (e != cudaSuccess) {
      cleanup(true);
      fail("zero-launch: cannot arm the GPU (%d blocks of %d threads, %d bytes of shared memory each): %s; use --path "
           "graph",
           grid_, kThreads, smem, cudaGetErrorString(e));
    }
    armed_ = true;
  }

  ~ZeroLaunchExecutor() override { disarm(); }

  const char* name() const override { return "zero-launch"; }

  void run(const StepState& st, StageTimes* times) override {
    if (!armed_)
      fail("zero-launch: the armed kernel is gone after an earlier error (%s); reload the model", why_.c_str());
    if (st.n < 1 || st.n > kMaxStepTokens) fail("zero-launch: a step of %d tokens (1..%d)", st.n, kMaxStepTokens);
    // The whole StepState (~1 KB) goes into the mailbox, a plain copy into
    // host memory; the device fetches it in one PCIe round trip (copy_step).
    std::memcpy(&bell_.step(), &st, sizeof(StepState));
    const uint32_t seq = bell_.ring();
    try {
      const DoorbellAnswer& a = bell_.wait(seq, watchdog_ms_, stream_, "zero-launch");
      if (a.error) fail("zero-launch: the GPU refused the step at position %d with %d tokens", st.pos, st.n);
      token_ = a.token;
      last_ = a;
    } catch (const std::exception& ex) {
      why_ = ex.what();
      armed_ = false;  // no second ring into a kernel that failed or hung
      throw;
    }
    if (times)
      for (int s = 0; s < kStages; s++) add_stage_ms(*times, static_cast<Stage>(s), last_.stage_ns[s] / 1e6);
  }

  int32_t sampled_token() const override { return token_; }

 private:
  // Quit, then wait (bounded) for the kernel to return. A kernel that does
  // not return still reads the mailbox and its device memory: both are then
  // abandoned, never freed (freeing would wait for it forever).
  void disarm() {
    if (!stream_) return;
    bell_.quit();
    bool exited = false;
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      const cudaError_t e = cudaStreamQuery(stream_);
      if (e != cudaErrorNotReady) {
        exited = true;  // returned, or failed: either way nothing runs any more
        break;
      }
      if (std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(kDisarmTimeoutMs)) break;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    cleanup(exited);
  }

  void cleanup(bool kernel_gone) {
    if (kernel_gone) {
      release_l2_window(l2_);
      if (dev_mem_) cudaFree(dev_mem_);
      if (stream_) cudaStreamDestroy(stream_);
    } else {
      bell_.leak();
      device_stuck() = true;  // whatever is freed or synchronized next would wait for it for ever
    }
    dev_mem_ = nullptr;
    stream_ = nullptr;
    armed_ = false;
  }

  static constexpr int kDisarmTimeoutMs = 1000;

  int n_instr_;
  HostDoorbell bell_;
  void* dev_mem_ = nullptr;
  cudaStream_t stream_ = nullptr;
  L2Window l2_;
  int grid_ = 0, sms_ = 0;
  double watchdog_ms_ = kDefaultWatchdogMs;
  const int32_t* token_dev_ = nullptr;
  int32_t token_ = -1;
  DoorbellAnswer last_{};
  bool armed_ = false;
  std::string why_;
};

}  // namespace

int zero_launch_grid_blocks(int* sms) {
  return armed_grid(reinterpret_cast<const void*>(zero_launch_kernel), kTileSmem, blocks_per_sm_cap(), sms,
                    "zero-launch");
}

std::unique_ptr<Executor> make_zero_launch_executor(const std::vector<Instr>& prog, cudaStream_t stream) {
  // The backend's stream is not used: the armed kernel needs a non-blocking
  // stream of its own, or a copy on the legacy stream would wait for it.
  (void)stream;
  return std::make_unique<ZeroLaunchExecutor>(prog);
}

}  // namespace km::cuda
