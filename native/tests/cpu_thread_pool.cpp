// The CPU backend's worker pool: every run reaches every thread exactly once,
// barriers hold every thread back until all arrive, runs may follow each
// other at any rate (spinning workers) or after a pause (sleeping workers),
// and split_range covers a range exactly.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"
#include "test.h"

using km::cpu::ThreadPool;

TEST(cpu_thread_pool, every_thread_runs_once_per_run) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    CHECK_EQ(pool.size(), n);
    std::vector<std::atomic<int>> hits(n);
    for (int r = 0; r < 200; r++)
      pool.run([&](int ith, int nth) {
        if (nth == n && ith >= 0 && ith < n) hits[ith].fetch_add(1);
      });
    for (int i = 0; i < n; i++) CHECK_EQ(hits[i].load(), 200);
  }
}

TEST(cpu_thread_pool, barrier_separates_phases) {
  ThreadPool pool(4);
  std::vector<int> slots(4 * 50, 0);
  std::atomic<int> errors{0};
  pool.run([&](int ith, int nth) {
    for (int phase = 0; phase < 50; phase++) {
      slots[phase * nth + ith] = phase + 1;
      pool.barrier();
      // after the barrier every thread's write of this phase is visible
      for (int j = 0; j < nth; j++)
        if (slots[phase * nth + j] != phase + 1) errors.fetch_add(1);
      pool.barrier();
    }
  });
  CHECK_EQ(errors.load(), 0);
}

TEST(cpu_thread_pool, wakes_sleeping_workers) {
  ThreadPool pool(3);
  std::atomic<int> sum{0};
  pool.run([&](int ith, int) { sum.fetch_add(ith + 1); });
  // long enough for the workers to stop spinning and sleep
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pool.run([&](int ith, int) { sum.fetch_add(ith + 1); });
  CHECK_EQ(sum.load(), 12);
}

TEST(cpu_thread_pool, split_range_covers_exactly) {
  for (int64_t n : {0, 1, 7, 64, 1000})
    for (int nth : {1, 2, 3, 7})
      for (int64_t align : {1, 8}) {
        int64_t expect = 0;
        for (int i = 0; i < nth; i++) {
          const km::cpu::Range r = km::cpu::split_range(n, i, nth, align);
          CHECK_EQ(r.begin, expect);
          CHECK(r.end >= r.begin);
          if (r.end < n) CHECK_EQ(r.end % align, 0);
          expect = r.end;
        }
        CHECK_EQ(expect, n);
      }
}

TEST(cpu_thread_pool, default_thread_count_is_positive) {
  const int n = km::cpu::default_thread_count();
  CHECK(n >= 1);
  CHECK(n <= (int)std::max(1u, std::thread::hardware_concurrency()));
}
