// Causal grouped-query attention in float64: the oracle the CPU attention
// kernels are checked against, whatever format their cache is held in (the
// caller passes the cache already decoded to floats).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace kt {

// q [n, n_heads, hd] for tokens at positions pos..pos+n-1; k, v [n_kv, ctx, hd].
// Returns out [n, n_heads, hd]: softmax(scale q·k) over keys first..pos+t,
// times v; first = 0, or pos+t-window+1 with a sliding window. scale 0
// means 1/sqrt(hd).
inline std::vector<double> reference_attention(const std::vector<float>& q, const std::vector<float>& k,
                                               const std::vector<float>& v, int n, int pos, int n_heads,
                                               int n_kv, int hd, int ctx, int window = 0, double scale = 0) {
  if (scale == 0) scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<double> out(static_cast<size_t>(n) * n_heads * hd);
  for (int t = 0; t < n; t++)
    for (int h = 0; h < n_heads; h++) {
      const int kvh = h / (n_heads / n_kv), keys = pos + t + 1;
      const int first = window > 0 ? std::max(0, pos + t - window + 1) : 0;
      const float* qh = &q[(static_cast<size_t>(t) * n_heads + h) * hd];
      std::vector<double> s(static_cast<size_t>(keys));
      double mx = -1e300, sum = 0;
      for (int j = first; j < keys; j++) {
        double d = 0;
        for (int i = 0; i < hd; i++) d += static_cast<double>(qh[i]) * k[(static_cast<size_t>(kvh) * ctx + j) * hd + i];
        s[j] = d * scale;
        mx = std::max(mx, s[j]);
      }
      for (int j = first; j < keys; j++) sum += (s[j] = std::exp(s[j] - mx));
      for (int i = 0; i < hd; i++) {
        double o = 0;
        for (int j = first; j < keys; j++) o += s[j] * v[(static_cast<size_t>(kvh) * ctx + j) * hd + i];
        out[(static_cast<size_t>(t) * n_heads + h) * hd + i] = o / sum;
      }
    }
  return out;
}

}  // namespace kt
