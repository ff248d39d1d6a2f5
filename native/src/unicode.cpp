// Code point classes by binary search over the generated ranges, with a flat
// table for the Basic Multilingual Plane (almost every character a prompt
// holds) built once on first use. UTF-8 decoding follows llama.cpp byte for
// byte, since the tokenizers must split text exactly where it does.
#include "unicode.h"

#include <algorithm>
#include <array>

namespace km::unicode {

namespace {

uint16_t search(uint32_t cp) {
  // The last range whose first code point is <= cp.
  const Range* end = kRanges + kRangeCount;
  const Range* it = std::upper_bound(kRanges, end, cp, [](uint32_t c, const Range& r) { return c < r.first; });
  return (it - 1)->bits;
}

struct BmpTable {
  std::vector<uint16_t> bits;
  BmpTable() : bits(0x10000) {
    for (size_t i = 0; i < kRangeCount; i++) {
      if (kRanges[i].first >= 0x10000) break;
      uint32_t last = i + 1 < kRangeCount ? std::min<uint32_t>(kRanges[i + 1].first, 0x10000) : 0x10000;
      std::fill(bits.begin() + kRanges[i].first, bits.begin() + last, kRanges[i].bits);
    }
  }
};

}  // namespace

uint16_t classes(uint32_t cp) {
  static const BmpTable bmp;  // thread-safe static initialisation
  if (cp < 0x10000) return bmp.bits[cp];
  if (cp > kMaxCodepoint) return kUndefined;
  return search(cp);
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  while (i < n) {
    uint8_t b = p[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
      out.push_back((uint32_t(b & 0x1F) << 6) | (p[i + 1] & 0x3F));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      out.push_back((uint32_t(b & 0x0F) << 12) | (uint32_t(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      uint32_t cp = (uint32_t(b & 0x07) << 18) | (uint32_t(p[i + 1] & 0x3F) << 12) |
                    (uint32_t(p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
      // Beyond U+10FFFF has no UTF-8 form to re-encode to: treat like any
      // other malformed sequence (llama.cpp would throw later instead).
      if (cp > kMaxCodepoint) {
        out.push_back(kReplacement);
        i += 1;
      } else {
        out.push_back(cp);
        i += 4;
      }
    } else {
      out.push_back(kReplacement);
      i += 1;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > kMaxCodepoint) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// GPT-2's map: printable Latin-1 bytes stand for themselves; the other 68
// bytes (controls, space, DEL, NBSP, soft hyphen) take code points from U+0100
// upwards, in byte order.
struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 0x100 + 68> from_cp;  // every stand-in is below U+0144
  ByteMap() {
    from_cp.fill(-1);
    auto printable = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    uint32_t next = 0x100;
    for (int b = 0; b < 256; b++) {
      to_cp[b] = printable(b) ? uint32_t(b) : next++;
      append_utf8(to_utf8[b], to_cp[b]);
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return byte_map().to_utf8[byte]; }

int unicode_to_byte(uint32_t cp) {
  const auto& from = byte_map().from_cp;
  return cp < from.size() ? from[cp] : -1;
}

}  // namespace km::unicode
