// How one phase's items (a matmul's chunks of rows, attention's tiles) are
// shared out among the threads of a pool run.
//
// Thread i takes items in order from the front of its own contiguous span,
// [total * i / nth, total * (i + 1) / nth), so the weights it reads form one
// stream that the hardware prefetcher follows. Handing every item to whichever
// thread asked first interleaved the threads' chunks, and each thread's stream
// jumped at every chunk: decode of a 1.1B Q4_K_M model on 2 threads took
// 23.9-24.8 ms a token that way, 20.8-21.4 ms with a span each (three
// interleaved rounds, BENCHMARKS).
// A thread whose span is done takes items one at a time from the back of the
// others' spans, so a thread the OS preempts does not hold up the rest.
#pragma once

#include <atomic>
#include <cstdint>

namespace km::cpu {

// One thread's span, on its own cache line: items taken from its front (high
// 32 bits) and from its back by other threads (low 32 bits). Zero before a run.
struct alignas(64) WorkSlot {
  std::atomic<uint64_t> taken{0};
};

// The next item for thread `ith` of `nth` out of [0, total), or -1 when every
// item is taken. `slots` holds the phase's nth WorkSlots; every thread of the
// run calls this until it returns -1.
inline int64_t claim(WorkSlot* slots, int ith, int nth, int64_t total) {
  for (int k = 0; k < nth; k++) {
    const int i = (ith + k) % nth;
    const int64_t begin = total * i / nth, end = total * (i + 1) / nth;
    std::atomic<uint64_t>& taken = slots[i].taken;
    uint64_t v = taken.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t front = static_cast<int64_t>(v >> 32), back = static_cast<int64_t>(v & 0xffffffffu);
      if (begin + front >= end - back) break;  // this span is used up
      const bool own = k == 0;
      if (taken.compare_exchange_weak(v, own ? v + (uint64_t{1} << 32) : v + 1, std::memory_order_relaxed))
        return own ? begin + front : end - back - 1;
    }
  }
  return -1;
}

}  // namespace km::cpu
