// The sampling rule, once, for both samplers: the host's (native/src/sampler.cpp)
// and the device's (kernels/ops/sample_tile.cuh). A seed must pick the same
// token on either, so both take from here
//   - the candidates' order: larger logit first, lower id on ties;
//   - what a NaN logit is: -inf, after every number (picked only when nothing
//     else is left, and then, as every tie, the lowest id);
//   - the arithmetic of the chain after top-k: top-p, min-p, temperature, the
//     draw, in the same float and double operations in the same order;
//   - the exponential. It is ours, not the platform's: libm's expf and CUDA's
//     differ in the last bit, and a last bit is enough to move a top-p cut.
//     Built from fmaf, which is exact IEEE arithmetic everywhere, it gives the
//     same bits on the CPU and the GPU.
#pragma once

#include <cmath>
#include <cstdint>

#include "keymate/half.h"  // KM_HD

namespace km::sample_rule {

KM_HD float logit_of(float x) { return x != x ? -INFINITY : x; }

KM_HD bool before(float a, int32_t ia, float b, int32_t ib) {
  a = logit_of(a);
  b = logit_of(b);
  return a > b || (a == b && ia < ib);
}

// e^x for x <= 0 (a logit minus the largest), within 2 ulp of the true value;
// 0 below -87 (under 2^-125: nothing a draw can tell from 0).
KM_HD float exp_neg(float x) {
  if (!(x >= -87.0f)) return 0.0f;  // -inf and NaN too
  if (x > 0.0f) x = 0.0f;
  const float n = rintf(x * 1.44269504089f);  // x = n ln2 + r, |r| <= ln2 / 2
  float r = fmaf(n, -0.693145751953125f, x);  // ln2, high part (exact product)
  r = fmaf(n, -1.428606765330187e-06f, r);    // ln2, low part
  float p = 1.9875691500e-4f;                  // e^r - 1 - r, Cephes' minimax polynomial
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  const float y = fmaf(p, r * r, r) + 1.0f;
  return y * bits_to_float(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);  // * 2^n, n >= -126
}

// The chain on logit[0..k), sorted by before(): keep the smallest prefix whose
// probability mass reaches top_p (1 = off), then those at least min_p times as
// likely as the first (0 = off), then soften by temperature (> 0) and draw with
// u in [0, 1). `p` is k floats of scratch. Returns the index of the pick.
KM_HD int chain(const float* logit, int k, float top_p, float min_p, float temperature, double u, float* p) {
  const float max_l = logit_of(logit[0]);
  if (max_l == -INFINITY) return 0;  // nothing but NaN and -inf: the first, as greedy
  if (top_p < 1.0f && k > 1) {
    double sum = 0;
    for (int i = 0; i < k; i++) {
      p[i] = exp_neg(logit_of(logit[i]) - max_l);
      sum += p[i];
    }
    double cum = 0;
    for (int i = 0; i < k; i++) {
      cum += p[i] / sum;
      if (cum >= top_p) {
        k = i + 1;
        break;
      }
    }
  }
  if (min_p > 0.0f && k > 1) {
    int keep = 1;
    while (keep < k && exp_neg(logit_of(logit[keep]) - max_l) >= min_p) keep++;
    k = keep;
  }
  const float max_t = max_l / temperature;
  double sum = 0;
  for (int i = 0; i < k; i++) {
    p[i] = exp_neg(logit_of(logit[i]) / temperature - max_t);
    sum += p[i];
  }
  const double target = u * sum;
  double cum = 0;
  for (int i = 0; i < k; i++) {
    cum += p[i];
    if (target < cum) return i;
  }
  for (int i = k; i-- > 0;)  // rounding in the running sum may fall a hair short
    if (p[i] > 0) return i;
  return 0;
}

}  // namespace km::sample_rule
