// Spin-then-sleep worker pool; see thread_pool.h for why.
#include "cpu/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KM_CPU_RELAX() _mm_pause()
#else
#define KM_CPU_RELAX() ((void)0)
#endif

namespace km::cpu {

// How long an idle worker keeps polling for the next op before it sleeps. The
// ops of one forward pass follow each other within microseconds; between
// tokens of a generation there may be milliseconds of host work.
constexpr int kIdleSpins = 1 << 15;
// Spins inside a barrier before each yield of the processor.
constexpr int kBarrierSpinsPerYield = 1 << 10;

ThreadPool::ThreadPool(int n_threads) : n_(std::max(1, n_threads)) {
  threads_.reserve(static_cast<size_t>(n_ - 1));
  for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(mu_);
    epoch_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_raw(Fn fn, void* ctx) {
  if (n_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  pending_.store(n_ - 1, std::memory_order_relaxed);
  // seq_cst store, then seq_cst load of sleepers_: a worker that registered as
  // a sleeper after this load is guaranteed to see the new epoch (see worker()).
  epoch_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lk(mu_); }
    cv_.notify_all();
  }
  fn(ctx, 0, n_);
  int spins = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    KM_CPU_RELAX();
    if (++spins % kBarrierSpinsPerYield == 0) sched_yield();
  }
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t e = epoch_.load(std::memory_order_acquire);
    for (int spins = 0; e == seen && spins < kIdleSpins; spins++) {
      KM_CPU_RELAX();
      e = epoch_.load(std::memory_order_acquire);
    }
    if (e == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      sleepers_.fetch_add(1);
      while ((e = epoch_.load()) == seen) cv_.wait(lk);
      sleepers_.fetch_sub(1);
    }
    seen = e;
    if (stop_.load()) return;  // stored before the epoch bump that woke us
    fn_(ctx_, ith, n_);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::barrier() {
  if (n_ == 1) return;
  const uint32_t phase = barrier_phase_.load(std::memory_order_acquire);
  if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
    barrier_count_.store(0, std::memory_order_relaxed);
    barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
    return;
  }
  int spins = 0;
  while (barrier_phase_.load(std::memory_order_acquire) == phase) {
    KM_CPU_RELAX();
    if (++spins % kBarrierSpinsPerYield == 0) sched_yield();
  }
}

Range split_range(int64_t n, int ith, int nth, int64_t align) {
  const int64_t units = (n + align - 1) / align;
  const int64_t per = units / nth, extra = units % nth;
  const int64_t b = ith * per + std::min<int64_t>(ith, extra);
  const int64_t e = b + per + (ith < extra ? 1 : 0);
  return {std::min(n, b * align), std::min(n, e * align)};
}

int default_thread_count() {
  // Physical cores: distinct (package, core) pairs. SMT siblings share the
  // execution units the kernels saturate, so they add contention, not speed.
  std::set<std::pair<std::string, std::string>> cores;
  const unsigned logical = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned c = 0; c < logical; c++) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
    std::ifstream core(base + "core_id"), pkg(base + "physical_package_id");
    std::string a, b;
    if (!(core >> a) || !(pkg >> b)) return static_cast<int>(logical);
    cores.emplace(b, a);
  }
  return cores.empty() ? static_cast<int>(logical) : static_cast<int>(cores.size());
}

}  // namespace km::cpu
