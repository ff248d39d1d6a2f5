// A fixed pool of worker threads for the CPU backend. Every op of the forward
// pass is one run(): the calling thread takes part as thread 0 and the call
// returns when all threads are done, so ops need no other synchronisation.
// Creating threads per op would cost more than a decode-sized op itself;
// instead idle workers spin for a short while (the next op usually follows
// within microseconds) and then sleep on a condition variable, so an idle
// engine costs no CPU. Barriers inside a run spin, then yield: the machine may
// be shared with other processes, and a descheduled peer must not be starved.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace km::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // total threads, the caller included (>= 1)
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_; }

  // Runs fn(ith, nth) on every thread; returns when all have returned. fn must
  // not throw (the engine's kernels do not): an exception would have nowhere to go.
  template <typename F>
  void run(F&& fn) {
    run_raw([](void* ctx, int ith, int nth) { (*static_cast<F*>(ctx))(ith, nth); }, &fn);
  }

  // Waits until every thread of the current run() has reached it. Only valid
  // inside run(), and every thread must call it the same number of times.
  void barrier();

 private:
  using Fn = void (*)(void*, int, int);
  void run_raw(Fn fn, void* ctx);
  void worker(int ith);

  int n_;
  std::vector<std::thread> threads_;

  // The current job, published by bumping epoch_.
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  alignas(64) std::atomic<uint64_t> epoch_{0};
  alignas(64) std::atomic<int> pending_{0};  // workers still running the current job
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};

  // Sense-reversing barrier.
  alignas(64) std::atomic<int> barrier_count_{0};
  alignas(64) std::atomic<uint32_t> barrier_phase_{0};
};

// Rows [begin, end) of n for thread ith of nth, split in multiples of `align`.
struct Range { int64_t begin, end; };
Range split_range(int64_t n, int ith, int nth, int64_t align = 1);

// Threads to use when the caller asks for 0: the number of physical cores.
int default_thread_count();

}  // namespace km::cpu
