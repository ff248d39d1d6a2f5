// The calling thread's CPU time: the micro-benchmarks time by it, so a busy
// machine (CI, a second build) skews them less than wall time would.
#pragma once

#include <time.h>

namespace km::bench {

inline double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

}  // namespace km::bench
