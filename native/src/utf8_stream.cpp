// UTF-8 validation as RFC 3629 defines it (no overlongs, no surrogates, nothing
// above U+10FFFF). An invalid sequence is replaced by one U+FFFD per maximal
// invalid prefix, the replacement practice of the Unicode standard (and of
// JavaScript's TextDecoder), so a stream and a whole-string decode agree.
#include "utf8_stream.h"

#include <cstdint>

namespace km {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";

// The length of the character a lead byte starts (0: not a lead byte) and the
// allowed range of its second byte.
int sequence_length(uint8_t b, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b == 0xE0) { lo = 0xA0; return 3; }
  if (b == 0xED) { hi = 0x9F; return 3; }
  if (b >= 0xE1 && b <= 0xEF) return 3;
  if (b == 0xF0) { lo = 0x90; return 4; }
  if (b == 0xF4) { hi = 0x8F; return 4; }
  if (b >= 0xF1 && b <= 0xF3) return 4;
  return 0;
}

}  // namespace

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes.data(), bytes.size());
  std::string out;
  size_t i = 0;
  const size_t n = pending_.size();
  while (i < n) {
    uint8_t lo, hi;
    const int len = sequence_length(static_cast<uint8_t>(pending_[i]), lo, hi);
    if (len == 0) {
      out += kReplacement;
      i++;
      continue;
    }
    // Check the continuation bytes that have arrived.
    size_t j = 1;
    bool bad = false;
    for (; j < static_cast<size_t>(len) && i + j < n; j++) {
      const auto c = static_cast<uint8_t>(pending_[i + j]);
      const uint8_t l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
      if (c < l || c > h) { bad = true; break; }
    }
    if (bad) {  // the valid prefix [i, i+j) can never complete
      out += kReplacement;
      i += j;
      continue;
    }
    if (j < static_cast<size_t>(len)) break;  // incomplete: wait for more bytes
    out.append(pending_, i, static_cast<size_t>(len));
    i += static_cast<size_t>(len);
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::finish() {
  std::string out = pending_.empty() ? "" : kReplacement;
  pending_.clear();
  return out;
}

}  // namespace km
