// Unicode for the tokenizers: UTF-8 decoding the way llama.cpp decodes it (an
// invalid byte becomes U+FFFD and decoding goes on at the next byte), and the
// code point classes that pre-tokenizer regexes ask about (\p{L}, \p{N}, \s,
// ...). The classes come from a generated range table (unicode_tables.cpp, made
// by scripts/gen_unicode_tables.py from the Unicode Character Database).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace km::unicode {

// Class bits of a code point: exactly one general-category bit, plus
// kWhitespace for White_Space. 0 means "no code point" (outside the text being
// split), so a non-zero value always means a real character.
enum Class : uint16_t {
  kUndefined = 0x001,    // Cn: unassigned
  kNumber = 0x002,       // \p{N}
  kLetter = 0x004,       // \p{L}
  kSeparator = 0x008,    // \p{Z}
  kMark = 0x010,         // \p{M}
  kPunctuation = 0x020,  // \p{P}
  kSymbol = 0x040,       // \p{S}
  kControl = 0x080,      // \p{C}
  kWhitespace = 0x100,   // \s (White_Space property)
};

struct Range {
  uint32_t first;  // first code point of the range; it lasts until the next entry
  uint16_t bits;   // Class bits
};
extern const Range kRanges[];
extern const size_t kRangeCount;

constexpr uint32_t kReplacement = 0xFFFD;
constexpr uint32_t kMaxCodepoint = 0x10FFFF;

// Class bits of `cp` (kUndefined beyond U+10FFFF).
uint16_t classes(uint32_t cp);

// Length of the UTF-8 sequence a lead byte announces, from its high nibble
// alone (continuation bytes count as 1), as SentencePiece and llama.cpp split.
inline size_t sequence_length(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes UTF-8; a malformed sequence yields U+FFFD for its first byte and
// decoding resumes at the next byte. Overlong forms and surrogates decode to
// their value (as llama.cpp does) so they re-encode to the same bytes.
std::vector<uint32_t> decode_utf8(std::string_view text);
void append_utf8(std::string& out, uint32_t cp);

// Byte-level BPE (GPT-2): every byte has a printable stand-in code point, so
// token texts never hold raw control bytes or spaces.
const std::string& byte_to_unicode(uint8_t byte);  // UTF-8 of the stand-in
// The byte a stand-in code point stands for, or -1 if it is not one.
int unicode_to_byte(uint32_t cp);

}  // namespace km::unicode
