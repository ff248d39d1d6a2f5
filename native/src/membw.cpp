// The read benchmark of membw.h. Each thread sums its own contiguous slice
// with several independent accumulators (so the loop is bound by loads, not
// by an add chain) and the slices are first touched by the thread that reads
// them (NUMA-local pages). The sum is published so the loads cannot be elided.
#include "membw.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "keymate/error.h"
#include "timer.h"

namespace km {

namespace {

size_t parse_cache_size(const std::string& s) {  // "36608K", "32M"
  size_t v = 0, i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<size_t>(s[i++] - '0');
  if (i < s.size() && (s[i] == 'K' || s[i] == 'k')) v <<= 10;
  if (i < s.size() && (s[i] == 'M' || s[i] == 'm')) v <<= 20;
  return v;
}

uint64_t sum_slice(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; i++) a += p[i];
  return a + b + c + d;
}

std::atomic<uint64_t> g_sink{0};

}  // namespace

size_t last_level_cache_bytes() {
  size_t best = 0;
  for (int idx = 0; idx < 8; idx++) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/size");
    std::string s;
    if (f >> s) best = std::max(best, parse_cache_size(s));
  }
#ifdef _SC_LEVEL3_CACHE_SIZE
  if (best == 0) {
    long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (v > 0) best = static_cast<size_t>(v);
  }
#endif
  return best ? best : (size_t{32} << 20);
}

Bandwidth measure_read_bandwidth(size_t bytes, int threads, int passes) {
  if (bytes == 0) bytes = std::min(std::max(4 * last_level_cache_bytes(), size_t{256} << 20), size_t{2} << 30);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (passes <= 0) passes = 1;
  const size_t words = bytes / sizeof(uint64_t);
  if (words < static_cast<size_t>(threads)) fail("bandwidth probe: buffer of %zu bytes is too small", bytes);

  std::unique_ptr<uint64_t[]> buf(new (std::nothrow) uint64_t[words]);
  if (!buf) fail("bandwidth probe: cannot allocate %zu MiB for the read buffer", bytes >> 20);
  uint64_t* data = buf.get();
  const size_t per = words / static_cast<size_t>(threads);

  auto run_all = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) pool.emplace_back(body, t);
    for (auto& th : pool) th.join();
  };
  run_all([&](int t) {  // first touch by the reader
    uint64_t* p = data + per * static_cast<size_t>(t);
    for (size_t i = 0; i < per; i++) p[i] = i * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(t);
  });

  Bandwidth bw;
  bw.bytes = per * static_cast<size_t>(threads) * sizeof(uint64_t);
  bw.threads = threads;
  for (int pass = 0; pass < passes; pass++) {
    // Threads start together on a flag so thread creation is not timed.
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> done(static_cast<size_t>(threads));
    double start = 0;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        g_sink.fetch_add(sum_slice(data + per * static_cast<size_t>(t), per), std::memory_order_relaxed);
        done[static_cast<size_t>(t)] = now_ms();
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    start = now_ms();
    go.store(true, std::memory_order_release);
    for (auto& th : pool) th.join();
    const double ms = *std::max_element(done.begin(), done.end()) - start;
    if (ms > 0) bw.gb_s = std::max(bw.gb_s, static_cast<double>(bw.bytes) / (ms * 1e6));
  }
  return bw;
}

}  // namespace km
