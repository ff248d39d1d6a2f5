// Hashing for the tokenizer's flat lookup tables (token text -> id, merge
// pair -> rank). Both are open-addressing tables with linear probing, sized
// to a power of two at least twice their entries, so a lookup is usually one
// cache line and never a pointer chase.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace km::tokhash {

// splitmix64's finaliser: spreads every input bit over the whole word.
inline uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

// FNV-1a over the bytes (token texts are short), then mixed.
inline uint64_t text(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return mix(h ^ s.size());
}

// Slots for `n` entries: a power of two, load factor at most one half.
inline size_t table_size(size_t n) {
  size_t size = 16;
  while (size < 2 * n) size *= 2;
  return size;
}

}  // namespace km::tokhash
