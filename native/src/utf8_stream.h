// Streaming tokens as text: a token's bytes may end in the middle of a UTF-8
// character (byte-fallback tokens, byte-level BPE), and JavaScript strings
// cannot hold half a character. Utf8Stream holds back an incomplete tail until
// the next token completes it; bytes that can never form a character become
// U+FFFD, so what comes out is always valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace km {

class Utf8Stream {
 public:
  // Appends bytes; returns every complete character now available.
  std::string push(std::string_view bytes);
  // Ends the stream: an incomplete tail becomes U+FFFD ("" when none).
  std::string finish();
  bool pending() const { return !pending_.empty(); }

 private:
  std::string pending_;
};

}  // namespace km
