// RoPE; see rope.h.
#include "cpu/rope.h"

#include <cmath>

namespace km::cpu {

void rope_angles(const RopeParams& rp, int64_t p, float* cs) {
  const float theta_scale = std::pow(rp.base, -2.0f / (float)rp.dims);
  float theta = (float)p;
  for (int i0 = 0; i0 < rp.dims; i0 += 2) {
    const float ff = rp.freq_factors ? rp.freq_factors[i0 / 2] : 1.0f;
    const float t = rp.freq_scale * (theta / ff);
    cs[i0] = std::cos(t) * rp.attn_factor;
    cs[i0 + 1] = std::sin(t) * rp.attn_factor;
    theta *= theta_scale;
  }
}

void rope_apply(const RopeParams& rp, const float* cs, float* x) {
  const int half = rp.dims / 2;
  for (int i0 = 0; i0 < rp.dims; i0 += 2) {
    const float c = cs[i0], s = cs[i0 + 1];
    float* a;
    float* b;
    if (rp.style == RopeStyle::Normal) {
      a = x + i0;
      b = x + i0 + 1;
    } else {
      a = x + i0 / 2;
      b = x + i0 / 2 + half;
    }
    const float x0 = *a, x1 = *b;
    *a = x0 * c - x1 * s;
    *b = x0 * s + x1 * c;
  }
}

}  // namespace km::cpu
