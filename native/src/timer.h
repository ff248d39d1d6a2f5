// Wall-clock time for the engine's own timings (ttft, decode speed, bench):
// a monotonic clock in milliseconds as double, so differences need no casts.
#pragma once

#include <chrono>

namespace km {

inline double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace km
