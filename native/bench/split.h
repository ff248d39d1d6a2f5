// Comma lists on the bench's command lines (--formats fp8,int8, --tokens 1,128).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace km::bench {

// "a,b,,c" -> {"a", "b", "c"}: empty items are dropped.
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= s.size()) {
    const size_t q = std::min(s.find(',', p), s.size());
    if (q > p) out.push_back(s.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

}  // namespace km::bench
