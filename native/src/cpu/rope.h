// Rotary position embedding exactly as llama.cpp computes it (ggml's rope,
// no YaRN): for pair i of a head, theta_i = p * base^(-2i/d) built by repeated
// multiplication in float (as ggml does, so angles round the same way),
// divided by the frequency factor when the model has one (Llama 3's or
// LongRoPE's), times the linear freq_scale; cos and sin times attn_factor
// (LongRoPE's magnitude correction, ggml's mscale); then
// (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos) over the first d dimensions
// of a head, the rest left as they are (partial rotation, d < head size).
// Normal style rotates pairs (2i, 2i+1), NeoX style pairs (i, i + d/2).
#pragma once

#include <cstdint>

#include "keymate/model.h"

namespace km::cpu {

struct RopeParams {
  int dims = 0;  // rotated dimensions (Config::rope_dims)
  float base = 10000.f;
  float freq_scale = 1.f;
  const float* freq_factors = nullptr;  // [dims / 2] or null
  RopeStyle style = RopeStyle::Normal;
  float attn_factor = 1.f;  // on cos and sin
};

// cos/sin of every pair for position p: cs[2i] = cos, cs[2i+1] = sin.
void rope_angles(const RopeParams& rp, int64_t p, float* cs);
// Rotates one head vector x[dims] in place with angles from rope_angles().
void rope_apply(const RopeParams& rp, const float* cs, float* x);

}  // namespace km::cpu
