// The sampling settings the GPU tests compare host and device with: the
// default chain (top-k, top-p, min-p, temperature), no repetition penalty, so
// the device may run it (Sampler::device_settings). One seed per case.
#pragma once

#include <cstdint>

#include "sampler.h"

namespace kt {

inline km::SamplingParams device_chain(uint64_t seed) {
  km::SamplingParams sp;
  sp.temperature = 0.9f;
  sp.top_k = 40;
  sp.top_p = 0.95f;
  sp.min_p = 0.05f;
  sp.repeat_penalty = 1.0f;
  sp.seed = seed;
  return sp;
}

}  // namespace kt
