// Token sampling on the host. The chain and each step's arithmetic follow
// llama.cpp's default sampler chain, so settings mean the same in both:
//   repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw
// with temperature <= 0 meaning greedy (argmax after the penalty). Ties are
// broken by the lower token id everywhere, and the draw uses our own seeded
// RNG (rng.h), so a seed gives the same tokens on every standard library.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "keymate/backend.h"
#include "keymate/engine.h"
#include "rng.h"

namespace km {

class Sampler {
 public:
  Sampler(const SamplingParams& params, int32_t vocab);

  // Records a token for the repetition penalty window (prompt tokens and
  // generated tokens alike, as llama.cpp's tools feed them).
  void accept(int32_t token);

  // Picks the next token from logits [vocab]; `logits` is not modified.
  int32_t sample(const float* logits);

  // Sampling on the device instead (Backend::forward_sample): the settings
  // and the uniform number sample() would draw next, so the device picks the
  // token sample() would. False when the chain needs the host (a repetition
  // penalty reads this sampler's history). Nothing is consumed: call
  // device_drew() once the device has picked, or sample() as usual if it
  // could not.
  bool device_settings(DeviceSample& s) const;
  void device_drew();

  const SamplingParams& params() const { return params_; }
  void reset(uint64_t seed);  // clears the penalty window and reseeds

  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };

 private:
  void apply_penalty();
  void top_k(int k);
  void select_top_k(const float* logits, int k);  // top_k() straight from the logits, no penalty
  void top_p(float p);
  void min_p(float p);
  void sort_prefix(size_t k);  // candidates_[0..k) descending, ties by id
  int32_t draw();
  int32_t shared_chain();  // top-p, min-p, temperature and the draw on the sorted top-k: sample_rule::chain

  SamplingParams params_;
  int32_t vocab_;
  Rng rng_;
  std::deque<int32_t> recent_;         // the last repeat_last_n accepted tokens
  std::vector<Candidate> candidates_;  // [vocab] scratch, shrinks along the chain
  std::vector<float> chain_logits_, chain_p_;  // [top_k] scratch of shared_chain()
  size_t sorted_ = 0;                  // candidates_[0..sorted_) are sorted
  std::vector<uint8_t> seen_;          // [vocab] scratch for the penalty
};

// The index of the largest value, the lowest index on ties (greedy decoding).
int32_t argmax(const float* logits, int32_t n);

}  // namespace km
