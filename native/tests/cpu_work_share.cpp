// How a phase's items are shared out (cpu/work_share.h): each thread first
// takes its own contiguous span in order, a thread done early takes the
// others' items from the back, and every item goes to exactly one thread,
// whatever the number of items and threads and however the threads race.
#include <algorithm>
#include <vector>

#include "cpu/thread_pool.h"
#include "cpu/work_share.h"
#include "test.h"

using km::cpu::claim;
using km::cpu::ThreadPool;
using km::cpu::WorkSlot;

namespace {

std::vector<int64_t> drain(WorkSlot* slots, int ith, int nth, int64_t total) {
  std::vector<int64_t> got;
  for (int64_t it; (it = claim(slots, ith, nth, total)) >= 0;) got.push_back(it);
  return got;
}

}  // namespace

TEST(cpu_work_share, a_thread_takes_its_span_in_order_then_the_others_from_the_back) {
  std::vector<WorkSlot> slots(3);
  // Spans of 10 items on 3 threads: [0, 3), [3, 6), [6, 10).
  CHECK_EQ(claim(slots.data(), 1, 3, 10), 3);
  CHECK_EQ(claim(slots.data(), 1, 3, 10), 4);
  // Thread 0 alone takes the rest: its own span, then thread 1's back, then thread 2's.
  const std::vector<int64_t> rest = drain(slots.data(), 0, 3, 10);
  CHECK(rest == (std::vector<int64_t>{0, 1, 2, 5, 9, 8, 7, 6}));
  CHECK_EQ(claim(slots.data(), 1, 3, 10), -1);
  CHECK_EQ(claim(slots.data(), 2, 3, 10), -1);
}

TEST(cpu_work_share, fewer_items_than_threads_and_none_at_all) {
  std::vector<WorkSlot> slots(4);
  // One item on 4 threads: spans [0,0), [0,0), [0,0), [0,1); thread 0 steals it.
  CHECK(drain(slots.data(), 0, 4, 1) == (std::vector<int64_t>{0}));
  for (int i = 0; i < 4; i++) CHECK_EQ(claim(slots.data(), i, 4, 1), -1);
  std::vector<WorkSlot> empty(2);
  CHECK_EQ(claim(empty.data(), 0, 2, 0), -1);
  CHECK_EQ(claim(empty.data(), 1, 2, 0), -1);
}

TEST(cpu_work_share, racing_threads_take_every_item_exactly_once) {
  for (int n : {1, 2, 3, 5}) {
    for (int64_t total : {int64_t{1}, int64_t{7}, int64_t{64}, int64_t{10007}}) {
      ThreadPool pool(n);
      std::vector<WorkSlot> slots((size_t)n);
      std::vector<std::vector<int64_t>> got((size_t)n);
      pool.run([&](int ith, int nth) { got[(size_t)ith] = drain(slots.data(), ith, nth, total); });
      std::vector<int> count((size_t)total, 0);
      for (int i = 0; i < n; i++) {
        for (int64_t it : got[(size_t)i]) count[(size_t)it]++;
        // What a thread took from its own span is a run from the span's start, in order.
        const int64_t begin = total * i / n, end = total * (i + 1) / n;
        int64_t expect = begin;
        for (int64_t it : got[(size_t)i]) {
          if (it < begin || it >= end) continue;
          CHECK_EQ(it, expect);
          expect++;
        }
      }
      CHECK(std::all_of(count.begin(), count.end(), [](int c) { return c == 1; }));
    }
  }
}
