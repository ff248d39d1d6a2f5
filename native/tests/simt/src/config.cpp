// See config.h. The per-SM limits are NVIDIA's for each compute capability
// (CUDA C++ Programming Guide, "Technical Specifications per Compute Capability").
#include "config.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "scheduler.h"

namespace simt {

namespace {

[[noreturn]] void bad(const char* var, const char* v, const char* want) {
  std::fprintf(stderr, "simt: %s=%s: %s\n", var, v, want);
  std::exit(2);
}

bool seeded(const char* v, const char* prefix, uint64_t* seed) {
  const size_t n = std::strlen(prefix);
  if (std::strncmp(v, prefix, n) != 0) return false;
  if (v[n] == 0) return *seed = 1, true;
  if (v[n] != ':') return false;
  char* end = nullptr;
  *seed = std::strtoull(v + n + 1, &end, 10);
  return *end == 0 && end != v + n + 1;
}

DeviceConfig load() {
  DeviceConfig c;
  c.schedule = Schedule::RoundRobin;
  if (const char* v = std::getenv("KEYMATE_SIMT_CC"); v && *v) {
    c.cc = std::atoi(v);
    switch (c.cc) {
      case 75: c.max_threads_per_sm = 1024; c.max_blocks_per_sm = 16; c.smem_per_sm = 64 << 10;
               c.smem_per_block_optin = 64 << 10; c.smem_reserved_per_block = 0; break;
      case 80: break;
      case 86: c.max_threads_per_sm = 1536; c.max_blocks_per_sm = 16; c.smem_per_sm = 100 << 10;
               c.smem_per_block_optin = 99 << 10; break;
      case 89: c.max_threads_per_sm = 1536; c.max_blocks_per_sm = 24; c.smem_per_sm = 100 << 10;
               c.smem_per_block_optin = 99 << 10; break;
      case 90: c.smem_per_sm = 228 << 10; c.smem_per_block_optin = 227 << 10; break;
      default: bad("KEYMATE_SIMT_CC", v, "use 75, 80, 86, 89 or 90");
    }
  }
  if (const char* v = std::getenv("KEYMATE_SIMT_SMS"); v && *v) {
    c.sms = std::atoi(v);
    if (c.sms < 1 || c.sms > 256) bad("KEYMATE_SIMT_SMS", v, "use 1 to 256");
  }
  if (const char* v = std::getenv("KEYMATE_SIMT_SCHEDULE"); v && *v) {
    if (!std::strcmp(v, "round-robin")) c.schedule = Schedule::RoundRobin;
    else if (!std::strcmp(v, "reverse")) c.schedule = Schedule::Reverse;
    else if (!std::strcmp(v, "run-ahead")) c.schedule = Schedule::RunAhead;
    else if (seeded(v, "random", &c.schedule_seed)) c.schedule = Schedule::Random;
    else bad("KEYMATE_SIMT_SCHEDULE", v, "use round-robin, reverse, random:SEED or run-ahead");
  }
  if (const char* v = std::getenv("KEYMATE_SIMT_STREAMS"); v && *v) {
    if (!std::strcmp(v, "fifo")) c.streams = StreamOrder::Fifo;
    else if (!std::strcmp(v, "reverse")) c.streams = StreamOrder::Reverse;
    else if (seeded(v, "random", &c.streams_seed)) c.streams = StreamOrder::Random;
    else bad("KEYMATE_SIMT_STREAMS", v, "use fifo, reverse or random:SEED");
  }
  if (const char* v = std::getenv("KEYMATE_SIMT_EXEC_TIMEOUT"); v && *v) c.exec_timeout = std::atoi(v) != 0;
  return c;
}

}  // namespace

const DeviceConfig& config() {
  static const DeviceConfig c = load();
  return c;
}

int cuda_arch() { return config().cc * 10; }

}  // namespace simt
