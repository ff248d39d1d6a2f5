// The SIMT harness's self-tests: each mechanism on a small kernel, and each
// defect the harness exists to catch, on a kernel wrong on purpose (ctest
// checks the harness's report for those: CMakeLists.txt). `simt_selftest NAME`
// runs one case; exit 0 = the case behaved.
#include <cuda_runtime.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/ptx.cuh"

#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "selftest: %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                                  \
    }                                                                                \
  } while (0)
#define OK(call) EXPECT((call) == cudaSuccess)

namespace {

template <class T>
T* dev_alloc(size_t n) {
  T* p = nullptr;
  OK(cudaMalloc(&p, n * sizeof(T)));
  OK(cudaMemset(p, 0, n * sizeof(T)));
  return p;
}
template <class T>
std::vector<T> download(const T* p, size_t n) {
  std::vector<T> v(n);
  OK(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

}  // namespace

// ---- shuffles and votes ---------------------------------------------------------------

__global__ void shuffle_kernel(int* out) {
  const int lane = threadIdx.x & 31, i = threadIdx.x;
  const int v = 100 * (int)threadIdx.x;
  out[i * 6 + 0] = __shfl_sync(0xffffffffu, v, (lane + 3) % 32);
  out[i * 6 + 1] = __shfl_up_sync(0xffffffffu, v, 2);
  out[i * 6 + 2] = __shfl_down_sync(0xffffffffu, v, 5, 16);
  out[i * 6 + 3] = __shfl_xor_sync(0xffffffffu, v, 9);
  out[i * 6 + 4] = __shfl_sync(0xffffffffu, v, 3, 8);
  out[i * 6 + 5] = (int)__shfl_xor_sync(0xffffffffu, (double)v + 0.5, 1);  // 8-byte values move whole
}

void shuffles() {
  int* out = dev_alloc<int>(64 * 6);
  shuffle_kernel<<<1, 64>>>(out);
  OK(cudaGetLastError());
  const std::vector<int> o = download(out, 64 * 6);
  for (int i = 0; i < 64; i++) {
    const int lane = i & 31, w = i - lane;
    auto val = [&](int l) { return 100 * (w + l); };
    EXPECT(o[i * 6 + 0] == val((lane + 3) % 32));
    EXPECT(o[i * 6 + 1] == (lane >= 2 ? val(lane - 2) : val(lane)));
    const int seg = lane & ~15;
    EXPECT(o[i * 6 + 2] == (lane + 5 < seg + 16 ? val(lane + 5) : val(lane)));
    EXPECT(o[i * 6 + 3] == val(lane ^ 9));
    EXPECT(o[i * 6 + 4] == val((lane & ~7) + 3));
    EXPECT(o[i * 6 + 5] == val(lane ^ 1));
  }
}

__global__ void ballot_kernel(unsigned* out) {
  const int lane = threadIdx.x & 31;
  if (lane >= 28) return;  // four lanes gone: __activemask shows it
  out[lane * 4 + 0] = __ballot_sync(0x0fffffffu, lane % 3 == 0);
  out[lane * 4 + 1] = __any_sync(0x0fffffffu, lane == 13);
  out[lane * 4 + 2] = __all_sync(0x0fffffffu, lane < 27);
  out[lane * 4 + 3] = __activemask();
}

void ballot() {
  unsigned* out = dev_alloc<unsigned>(32 * 4);
  ballot_kernel<<<1, 32>>>(out);
  const std::vector<unsigned> o = download(out, 32 * 4);
  unsigned want = 0;
  for (int l = 0; l < 28; l++)
    if (l % 3 == 0) want |= 1u << l;
  for (int l = 0; l < 28; l++) {
    EXPECT(o[l * 4 + 0] == want);
    EXPECT(o[l * 4 + 1] == 1);
    EXPECT(o[l * 4 + 2] == 0);
    EXPECT((o[l * 4 + 3] >> l & 1u) && (o[l * 4 + 3] & 0xf0000000u) == 0);  // exited lanes are not active
  }
}

// ---- barriers -----------------------------------------------------------------------

template <bool kBarrier>
__device__ float block_sum(float v, float* red) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
  if (kBarrier) __syncthreads();  // the barrier the missing_barrier case leaves out
  float s = 0;
  for (int w = 0; w < (int)blockDim.x / 32; w++) s += red[w];
  return s;
}

template <bool kBarrier>
__global__ void reduction_kernel(const float* x, float* out) {
  __shared__ float red[32];
  const float s = block_sum<kBarrier>(x[blockIdx.x * blockDim.x + threadIdx.x], red);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

template <bool kBarrier>
bool reduction_right() {
  constexpr int kBlocks = 6, kThreadsPer = 256;
  std::vector<float> x(kBlocks * kThreadsPer);
  for (size_t i = 0; i < x.size(); i++) x[i] = (float)(i % 17);
  float* dx = dev_alloc<float>(x.size());
  float* out = dev_alloc<float>(kBlocks);
  OK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
  reduction_kernel<kBarrier><<<kBlocks, kThreadsPer>>>(dx, out);
  const std::vector<float> o = download(out, kBlocks);
  for (int b = 0; b < kBlocks; b++) {
    float want = 0;
    for (int t = 0; t < kThreadsPer; t++) want += x[b * kThreadsPer + t];
    if (o[b] != want) {
      std::fprintf(stderr, "block %d: sum %g, want %g\n", b, o[b], want);
      return false;
    }
  }
  return true;
}

void reduction() { EXPECT(reduction_right<true>()); }

void missing_barrier() {
  if (!reduction_right<false>()) {
    std::fprintf(stderr, "missing_barrier: wrong sum (the schedule exposed the missing __syncthreads)\n");
    std::exit(1);
  }
  std::fprintf(stderr, "missing_barrier: the sum came out right; this schedule does not expose it\n");
  std::exit(1);
}

__global__ void divergent_barrier_kernel(int* out) {
  if (blockIdx.x == 1 && threadIdx.x == 5) return;  // one thread skips the barrier
  __syncthreads();
  out[threadIdx.x] = 1;
}

void divergent_barrier() {
  int* out = dev_alloc<int>(64);
  divergent_barrier_kernel<<<2, 64>>>(out);
  cudaDeviceSynchronize();
  std::fprintf(stderr, "divergent_barrier: not reported\n");
  std::exit(1);
}

__global__ void shuffle_exited_kernel(int* out) {
  const int lane = threadIdx.x & 31;
  if (lane == 7) return;
  out[lane] = __shfl_sync(0xffffff7fu, lane, 7);  // lane 7 is gone
}

void shuffle_exited_lane() {
  int* out = dev_alloc<int>(32);
  shuffle_exited_kernel<<<1, 32>>>(out);
  cudaDeviceSynchronize();
  std::fprintf(stderr, "shuffle_exited_lane: not reported\n");
  std::exit(1);
}

__global__ void shuffle_mask_kernel(int* out) {
  const int lane = threadIdx.x & 31;
  if (lane < 16) out[lane] = __shfl_sync(0x0000ffffu, lane, 31);  // lane 31 is not in the mask
  __syncthreads();
}

void shuffle_lane_not_in_mask() {
  int* out = dev_alloc<int>(32);
  shuffle_mask_kernel<<<1, 32>>>(out);
  cudaDeviceSynchronize();
  std::fprintf(stderr, "shuffle_lane_not_in_mask: not reported\n");
  std::exit(1);
}

__global__ void deadlock_kernel() {
  if (threadIdx.x < 31) __syncwarp();  // waits for lane 31, which waits for the block
  else __syncthreads();
}

void deadlock() {
  deadlock_kernel<<<1, 32>>>();
  cudaDeviceSynchronize();
  std::fprintf(stderr, "deadlock: not reported\n");
  std::exit(1);
}

__global__ void shared_kernel(int* out, int* nan_seen) {
  __shared__ int who;
  __shared__ float never_written[4];
  if (threadIdx.x == 0) who = (int)blockIdx.x;
  if (threadIdx.x == 1 && std::isnan(never_written[2])) atomicAdd(nan_seen, 1);
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = who;
}

void shared_per_block() {
  constexpr int kBlocks = 40;  // more than one wave of resident blocks
  int* out = dev_alloc<int>(kBlocks * 64);
  int* nan_seen = dev_alloc<int>(1);
  shared_kernel<<<kBlocks, 64>>>(out, nan_seen);
  const std::vector<int> o = download(out, kBlocks * 64);
  for (int i = 0; i < kBlocks * 64; i++) EXPECT(o[i] == i / 64);
  EXPECT(download(nan_seen, 1)[0] == kBlocks);
}

// ---- tensor cores ---------------------------------------------------------------------------

uint16_t h(float f) { return km::fp32_to_fp16(f); }
uint32_t pack(uint16_t lo, uint16_t hi) { return (uint32_t)lo | (uint32_t)hi << 16; }

// A 16 x K (row-major), B K x 8 (B[k][n] at k * 8 + n), D 16 x 8, in the PTX fragment layouts.
template <int K>
__global__ void mma_kernel(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
  const int lane = threadIdx.x, g = lane >> 2, t = lane & 3;
  auto a_at = [&](int r, int k) { return pack(A[r * K + k], A[r * K + k + 1]); };
  auto b_at = [&](int k, int n) { return pack(B[k * 8 + n], B[(k + 1) * 8 + n]); };
  float c[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
  if (K == 16) {
    const uint32_t a[4] = {a_at(g, 2 * t), a_at(g + 8, 2 * t), a_at(g, 2 * t + 8), a_at(g + 8, 2 * t + 8)};
    const uint32_t b[2] = {b_at(2 * t, g), b_at(2 * t + 8, g)};
    km::cuda::ptx::mma_m16n8k16_f32_f16(c, a, b);
  } else {
    km::cuda::ptx::mma_m16n8k8_f32_f16(c, a_at(g, 2 * t), a_at(g + 8, 2 * t), b_at(2 * t, g));
  }
  D[g * 8 + 2 * t] = c[0];
  D[g * 8 + 2 * t + 1] = c[1];
  D[(g + 8) * 8 + 2 * t] = c[2];
  D[(g + 8) * 8 + 2 * t + 1] = c[3];
}

template <int K>
void mma() {
  std::vector<uint16_t> A(16 * K), B(K * 8);
  std::vector<float> Af(16 * K), Bf(K * 8), C(16 * 8);
  for (int i = 0; i < 16 * K; i++) Af[i] = (float)((i * 7) % 11 - 5) * 0.25f, A[i] = h(Af[i]);
  for (int i = 0; i < K * 8; i++) Bf[i] = (float)((i * 5) % 13 - 6) * 0.5f, B[i] = h(Bf[i]);
  for (int i = 0; i < 16 * 8; i++) C[i] = (float)(i % 9) - 4.0f;
  uint16_t *dA = dev_alloc<uint16_t>(A.size()), *dB = dev_alloc<uint16_t>(B.size());
  float *dC = dev_alloc<float>(C.size()), *dD = dev_alloc<float>(C.size());
  OK(cudaMemcpy(dA, A.data(), A.size() * 2, cudaMemcpyHostToDevice));
  OK(cudaMemcpy(dB, B.data(), B.size() * 2, cudaMemcpyHostToDevice));
  OK(cudaMemcpy(dC, C.data(), C.size() * 4, cudaMemcpyHostToDevice));
  mma_kernel<K><<<1, 32>>>(dA, dB, dC, dD);
  const std::vector<float> D = download(dD, C.size());
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      float want = C[m * 8 + n];
      for (int k = 0; k < K; k++) want += Af[m * K + k] * Bf[k * 8 + n];
      if (D[m * 8 + n] != want) std::fprintf(stderr, "D[%d][%d] = %g, want %g\n", m, n, D[m * 8 + n], want);
      EXPECT(D[m * 8 + n] == want);
    }
}

// ---- streams, events, graphs ---------------------------------------------------------------

__global__ void add_kernel(int* p, int n, int v) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] += v;
}

__global__ void copy_kernel(const int* from, int* to, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) to[i] = from[i];
}

void graph_replay() {
  constexpr int n = 100;
  cudaStream_t s;
  OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  int *in = nullptr, *out = nullptr;
  OK(cudaMallocHost(reinterpret_cast<void**>(&in), n * 4));
  OK(cudaMallocHost(reinterpret_cast<void**>(&out), n * 4));
  int* d = dev_alloc<int>(n);
  OK(cudaStreamSynchronize(cudaStreamLegacy));
  cudaGraph_t g;
  cudaGraphExec_t x;
  OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  OK(cudaMemcpyAsync(d, in, n * 4, cudaMemcpyHostToDevice, s));
  add_kernel<<<2, 64, 0, s>>>(d, n, 5);
  add_kernel<<<4, 32, 0, s>>>(d, n, 10);
  OK(cudaMemcpyAsync(out, d, n * 4, cudaMemcpyDeviceToHost, s));
  OK(cudaStreamEndCapture(s, &g));
  OK(cudaGraphInstantiate(&x, g, 0));
  size_t nodes = 0;
  OK(cudaGraphGetNodes(g, nullptr, &nodes));
  EXPECT(nodes == 4);
  for (int rep = 0; rep < 3; rep++) {
    for (int i = 0; i < n; i++) in[i] = i * (rep + 1);
    OK(cudaGraphLaunch(x, s));
    OK(cudaStreamSynchronize(s));
    for (int i = 0; i < n; i++) EXPECT(out[i] == i * (rep + 1) + 15);
  }
  EXPECT(cudaStreamBeginCapture(cudaStreamLegacy, cudaStreamCaptureModeGlobal) == cudaErrorStreamCaptureUnsupported);
  OK(cudaGraphExecDestroy(x));
  OK(cudaGraphDestroy(g));
  OK(cudaStreamDestroy(s));
}

__global__ void busy_kernel(int* p) {
  for (int i = 0; i < 50; i++) {
    __syncthreads();
    atomicAdd(p, 1);
  }
}

void event_timing() {
  cudaEvent_t a, b, never;
  OK(cudaEventCreate(&a));
  OK(cudaEventCreate(&b));
  OK(cudaEventCreate(&never));
  int* p = dev_alloc<int>(1);
  OK(cudaEventRecord(a, 0));
  busy_kernel<<<8, 128>>>(p);
  OK(cudaEventRecord(b, 0));
  OK(cudaEventSynchronize(b));
  OK(cudaEventQuery(b));
  float ms = -1;
  OK(cudaEventElapsedTime(&ms, a, b));
  EXPECT(ms > 0);
  EXPECT(download(p, 1)[0] == 8 * 128 * 50);
  EXPECT(cudaEventElapsedTime(&ms, a, never) == cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

void capture_event_not_recorded() {
  cudaStream_t s;
  OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaEvent_t internal0, internal1, ext0, ext1;
  for (cudaEvent_t* e : {&internal0, &internal1, &ext0, &ext1}) OK(cudaEventCreate(e));
  int* p = dev_alloc<int>(64);
  OK(cudaStreamSynchronize(cudaStreamLegacy));
  cudaGraph_t g;
  cudaGraphExec_t x;
  OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  OK(cudaEventRecord(internal0, s));
  OK(cudaEventRecordWithFlags(ext0, s, cudaEventRecordExternal));
  add_kernel<<<1, 64, 0, s>>>(p, 64, 1);
  OK(cudaEventRecord(internal1, s));
  OK(cudaEventRecordWithFlags(ext1, s, cudaEventRecordExternal));
  OK(cudaStreamEndCapture(s, &g));
  OK(cudaGraphInstantiate(&x, g, 0));
  OK(cudaGraphLaunch(x, s));
  OK(cudaStreamSynchronize(s));
  float ms = 0;
  // As on a GPU: a record captured without cudaEventRecordExternal never records the event.
  EXPECT(cudaEventElapsedTime(&ms, internal0, internal1) == cudaErrorInvalidResourceHandle);
  OK(cudaEventElapsedTime(&ms, ext0, ext1));
  EXPECT(download(p, 64)[3] == 1);
  cudaGetLastError();
}

// A grid-wide barrier on a ticket counter, as exec/doorbell.cuh's.
__global__ void grid_barrier_kernel(unsigned long long* count, int* slots, int* out) {
  if (threadIdx.x == 0) slots[blockIdx.x] = (int)blockIdx.x + 1;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    atomicAdd(count, 1ull);
    while (km::cuda::ptx::ld_acquire_gpu_u64(count) < gridDim.x) __nanosleep(32);
  }
  __syncthreads();
  int sum = 0;
  for (unsigned b = 0; b < gridDim.x; b++) sum += slots[b];
  if (threadIdx.x == 0) out[blockIdx.x] = sum;
}

void cooperative_grid_barrier() {
  int per_sm = 0, sms = 0;
  OK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, grid_barrier_kernel, 256, 0));
  OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const int blocks = per_sm * sms;
  EXPECT(blocks > 1);
  auto* count = dev_alloc<unsigned long long>(1);
  int* slots = dev_alloc<int>(blocks);
  int* out = dev_alloc<int>(blocks);
  OK(cudaStreamSynchronize(cudaStreamLegacy));
  void* args[] = {&count, &slots, &out};
  OK(cudaLaunchCooperativeKernel(grid_barrier_kernel, dim3(blocks), dim3(256), args, 0, 0));
  OK(cudaDeviceSynchronize());
  const std::vector<int> o = download(out, blocks);
  for (int b = 0; b < blocks; b++) EXPECT(o[b] == blocks * (blocks + 1) / 2);
  // One block too many cannot be co-resident: refused, as CUDA refuses it.
  EXPECT(cudaLaunchCooperativeKernel(grid_barrier_kernel, dim3(blocks + 1), dim3(256), args, 0, 0) ==
         cudaErrorCooperativeLaunchTooLarge);
  cudaGetLastError();
}

struct Mail {
  uint32_t ring, quit, value, pad;
  uint32_t done, answer;
};

__global__ void mailbox_kernel(Mail* m) {
  if (threadIdx.x != 0) return;
  uint32_t served = 0;
  for (;;) {
    const uint32_t r = km::cuda::ptx::ld_acquire_sys_u32(&m->ring);
    if (r != served) {
      m->answer = m->value * 2;
      km::cuda::ptx::st_release_sys_u32(&m->done, r);
      served = r;
    } else if (km::cuda::ptx::ld_acquire_sys_u32(&m->quit)) {
      return;
    }
  }
}

void mapped_handshake() {
  void* host = nullptr;
  OK(cudaHostAlloc(&host, sizeof(Mail), cudaHostAllocMapped | cudaHostAllocPortable));
  std::memset(host, 0, sizeof(Mail));
  Mail* dev = nullptr;
  OK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&dev), host, 0));
  Mail* m = static_cast<Mail*>(host);
  cudaStream_t s;
  OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  mailbox_kernel<<<1, 32, 0, s>>>(dev);
  for (uint32_t i = 1; i <= 200; i++) {
    m->value = i * 3;
    __atomic_store_n(&m->ring, i, __ATOMIC_RELEASE);
    int spins = 0;
    while (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) != i) {
      if (++spins % 1024 == 0) EXPECT(cudaStreamQuery(s) == cudaErrorNotReady);  // the kernel is still armed
      std::this_thread::yield();
    }
    EXPECT(m->answer == i * 6);
  }
  __atomic_store_n(&m->quit, 1u, __ATOMIC_RELEASE);
  OK(cudaStreamSynchronize(s));
  OK(cudaStreamDestroy(s));
  OK(cudaFreeHost(host));
}

// Run with KEYMATE_SIMT_STREAMS=reverse: work on the legacy stream is not
// ordered with a non-blocking stream, and the harness lets that show.
void legacy_vs_nonblocking() {
  constexpr int n = 64;
  int* src = dev_alloc<int>(n);
  int* dst = dev_alloc<int>(n);
  OK(cudaDeviceSynchronize());
  cudaStream_t nb, blocking;
  OK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking));
  OK(cudaStreamCreate(&blocking));
  OK(cudaMemset(src, 1, n * 4));  // legacy stream, asynchronous
  copy_kernel<<<1, n, 0, nb>>>(src, dst, n);
  OK(cudaDeviceSynchronize());
  const bool unordered = download(dst, n)[0] == 0;
  OK(cudaMemset(src, 2, n * 4));
  copy_kernel<<<1, n, 0, blocking>>>(src, dst, n);  // a blocking stream waits for the legacy one
  OK(cudaDeviceSynchronize());
  EXPECT(download(dst, n)[0] == 0x02020202);
  EXPECT(unordered);
}

int main(int argc, char** argv) {
  const std::map<std::string, std::function<void()>> cases = {
      {"shuffles", shuffles},
      {"ballot", ballot},
      {"reduction", reduction},
      {"missing_barrier", missing_barrier},
      {"divergent_barrier", divergent_barrier},
      {"shuffle_exited_lane", shuffle_exited_lane},
      {"shuffle_lane_not_in_mask", shuffle_lane_not_in_mask},
      {"deadlock", deadlock},
      {"shared_per_block", shared_per_block},
      {"mma_k16", mma<16>},
      {"mma_k8", mma<8>},
      {"graph_replay", graph_replay},
      {"event_timing", event_timing},
      {"capture_event_not_recorded", capture_event_not_recorded},
      {"cooperative_grid_barrier", cooperative_grid_barrier},
      {"mapped_handshake", mapped_handshake},
      {"legacy_vs_nonblocking", legacy_vs_nonblocking},
  };
  if (argc != 2 || !cases.count(argv[1])) {
    std::fprintf(stderr, "usage: simt_selftest CASE; cases:");
    for (const auto& c : cases) std::fprintf(stderr, " %s", c.first.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  cases.at(argv[1])();
  OK(cudaDeviceSynchronize());
  std::fprintf(stderr, "ok %s\n", argv[1]);
  return 0;
}
