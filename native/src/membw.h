// Measured host memory read bandwidth: the roof a memory-bound decode step on
// the CPU cannot beat (bench's bound_ms = weight bytes per token / this).
// Measured rather than looked up, with all threads reading a buffer several
// times larger than the last-level cache, so caches cannot flatter it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace km {

struct Bandwidth {
  double gb_s = 0;      // best of the passes, 1e9 bytes per second
  size_t bytes = 0;     // buffer size read per pass
  int threads = 0;
};

// Size of the last-level cache in bytes (sysfs, then sysconf), 32 MiB if unknown.
size_t last_level_cache_bytes();

// Reads a `bytes` buffer (0 = max(4 x LLC, 256 MiB), at most 2 GiB) with
// `threads` threads (0 = hardware threads), `passes` times; returns the best.
Bandwidth measure_read_bandwidth(size_t bytes = 0, int threads = 0, int passes = 4);

}  // namespace km
