// The engine's one random number generator, defined here rather than taken
// from <random>: std:: distributions differ between standard libraries, and
// both sampling (seeded runs) and synthetic weights (peers must get the same
// bytes) need the same numbers everywhere. xoshiro256** seeded by splitmix64,
// both by Blackman and Vigna; only integer arithmetic and exact conversions.
#pragma once

#include <cstdint>
#include <string_view>

namespace km {

// splitmix64: one step of the state and its output; also a good 64-bit mixer
// for deriving independent streams from (seed, name, row).
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// FNV-1a, 64 bit: names tensors' random streams and fingerprints byte images.
inline uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
inline uint64_t fnv1a64(std::string_view s) { return fnv1a64(s.data(), s.size()); }

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);  // never all zero: splitmix64 is a bijection of distinct inputs
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits: exact, so identical on every machine.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Approximately standard normal, with integer arithmetic only: the sum of four
  // uniform 16-bit lanes (Irwin-Hall, n = 4), centred and divided by its exact
  // standard deviation. Range about +-3.46; no libm call, so bit-identical
  // everywhere (a Box-Muller transform would depend on the libm's log and cos).
  double normal() {
    const uint64_t r = next();
    const int64_t sum = static_cast<int64_t>((r & 0xffff) + ((r >> 16) & 0xffff) +
                                             ((r >> 32) & 0xffff) + (r >> 48));
    return static_cast<double>(sum - 2 * 65535) * kInvIrwinHallStd;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  // 1 / sqrt(4 * (65536^2 - 1) / 12), the standard deviation of the sum above.
  static constexpr double kInvIrwinHallStd = 2.6428997921303014e-05;
  uint64_t s_[4];
};

}  // namespace km
