// How far two sets of logits are apart, as the tests' tolerances are stated:
// the largest |got - want| of a row relative to the range (max - min) of that
// row of `want`, over every row of `vocab` logits.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace kt {

inline double max_rel_diff(const std::vector<float>& got, const std::vector<float>& want, int vocab) {
  double worst = 0;
  for (size_t row = 0; row < want.size() / vocab; row++) {
    const float* w = want.data() + row * vocab;
    const float* g = got.data() + row * vocab;
    const auto [lo, hi] = std::minmax_element(w, w + vocab);
    const double range = std::max(1e-6, (double)*hi - *lo);
    for (int i = 0; i < vocab; i++) worst = std::max(worst, std::fabs((double)g[i] - w[i]) / range);
  }
  return worst;
}

}  // namespace kt
