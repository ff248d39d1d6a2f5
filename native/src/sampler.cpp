// The sampling chain of sampler.h. Candidates start in token-id order; the
// first step that needs an order (top-k, top-p) sorts a prefix by (logit
// descending, id ascending) — a strict total order, so partial sorts give the
// same result on every standard library — and later steps keep it sorted.
// The order, what a NaN is, and the chain after top-k are the device's too
// (keymate/sample_rule.h): with top-k on and no penalty, the settings the GPU
// samples with, the chain below is that very function.
#include "sampler.h"

#include <algorithm>
#include <cmath>

#include "keymate/error.h"
#include "keymate/sample_rule.h"

namespace km {

namespace {

// Enough candidates to cover top-p = 0.95 in almost every real distribution;
// a full sort happens only when they do not (as llama.cpp's adaptive top-p).
constexpr size_t kTopPFirstSort = 256;

// Candidates hold sample_rule::logit_of(logit): no NaN, so this is a strict total order.
bool before(const Sampler::Candidate& a, const Sampler::Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

}  // namespace

int32_t argmax(const float* logits, int32_t n) {
  int32_t best = 0;
  // In a register: reloading logits[best] each step is a third of the time.
  // A NaN never compares greater, so it is never picked (sample_rule: -inf).
  float best_l = sample_rule::logit_of(logits[0]);
  for (int32_t i = 1; i < n; i++)
    if (logits[i] > best_l) {
      best_l = logits[i];
      best = i;
    }
  return best;
}

Sampler::Sampler(const SamplingParams& params, int32_t vocab)
    : params_(params), vocab_(vocab), rng_(params.seed) {
  if (vocab <= 0) fail("sampler: vocabulary size %d is not positive", vocab);
  if (!(params.top_p > 0.f)) fail("sampler: top_p %g must be > 0 (1 turns it off)", params.top_p);
  if (params.min_p < 0.f || params.min_p > 1.f) fail("sampler: min_p %g must be in [0, 1]", params.min_p);
  if (params.top_k < 0) fail("sampler: top_k %d must be >= 0 (0 turns it off)", params.top_k);
  if (!(params.repeat_penalty > 0.f))
    fail("sampler: repeat_penalty %g must be > 0 (1 turns it off)", params.repeat_penalty);
  if (params.repeat_last_n < -1)
    fail("sampler: repeat_last_n %d must be >= -1 (-1 = whole history, 0 = off)", params.repeat_last_n);
  if (std::isnan(params.temperature)) fail("sampler: temperature is not a number");
  candidates_.reserve(static_cast<size_t>(vocab));
  seen_.assign(static_cast<size_t>(vocab), 0);
}

void Sampler::reset(uint64_t seed) {
  rng_.reseed(seed);
  params_.seed = seed;
  recent_.clear();
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  recent_.push_back(token);
  if (params_.repeat_last_n > 0 && recent_.size() > static_cast<size_t>(params_.repeat_last_n))
    recent_.pop_front();
}

int32_t Sampler::sample(const float* logits) {
  // Greedy: the truncating steps always keep the largest logit, so they are
  // skipped; ties go to the lowest id as in llama.cpp.
  const bool penalised = params_.repeat_penalty != 1.f && !recent_.empty();
  if (!penalised && params_.temperature <= 0.f) return argmax(logits, vocab_);
  if (!penalised && params_.top_k > 0 && params_.top_k < vocab_) {
    select_top_k(logits, params_.top_k);  // without a [vocab] candidate list: most of the cost
    return shared_chain();
  }
  // The host's own chain: the whole vocabulary (top-k off) or a penalty, which
  // the device never runs; the same arithmetic (sample_rule), sorting lazily.
  candidates_.resize(static_cast<size_t>(vocab_));
  for (int32_t i = 0; i < vocab_; i++) candidates_[static_cast<size_t>(i)] = {i, sample_rule::logit_of(logits[i]), 0.f};
  sorted_ = 0;
  apply_penalty();
  if (params_.temperature <= 0.f) {
    size_t best = 0;
    for (size_t i = 1; i < candidates_.size(); i++)
      if (candidates_[i].logit > candidates_[best].logit) best = i;
    return candidates_[best].id;
  }
  top_k(params_.top_k);
  top_p(params_.top_p);
  min_p(params_.min_p);
  for (auto& c : candidates_) c.logit /= params_.temperature;
  return draw();
}

bool Sampler::device_settings(DeviceSample& s) const {
  if (params_.repeat_penalty != 1.f && params_.repeat_last_n != 0) return false;
  s.temperature = params_.temperature;
  s.top_k = params_.top_k;
  s.top_p = params_.top_p;
  s.min_p = params_.min_p;
  Rng next = rng_;  // greedy draws nothing; its uniform is unused
  s.uniform = next.uniform();
  return true;
}

void Sampler::device_drew() {
  if (params_.temperature > 0.f) rng_.uniform();  // as draw() would have
}

// llama.cpp's rule: a token seen in the window has a positive logit divided by
// the penalty and a negative one multiplied, once however often it was seen.
void Sampler::apply_penalty() {
  if (params_.repeat_penalty == 1.f || recent_.empty()) return;
  for (int32_t t : recent_) {
    if (t < 0 || t >= vocab_) continue;
    auto& seen = seen_[static_cast<size_t>(t)];
    if (seen) continue;
    seen = 1;
    float& l = candidates_[static_cast<size_t>(t)].logit;  // still in id order here
    l = l <= 0.f ? l * params_.repeat_penalty : l / params_.repeat_penalty;
  }
  for (int32_t t : recent_)
    if (t >= 0 && t < vocab_) seen_[static_cast<size_t>(t)] = 0;
}

void Sampler::sort_prefix(size_t k) {
  k = std::min(k, candidates_.size());
  if (k <= sorted_) return;
  // The sorted prefix already holds the largest candidates: order the rest.
  const auto first = candidates_.begin() + static_cast<ptrdiff_t>(sorted_);
  if (k == candidates_.size())
    std::sort(first, candidates_.end(), before);
  else
    std::partial_sort(first, candidates_.begin() + static_cast<ptrdiff_t>(k), candidates_.end(), before);
  sorted_ = k;
}

// top_k() of the unpenalised logits in one pass: a heap of the best k so far
// under before(), its front the worst of them. Ids come in ascending order, so
// a later equal logit never beats a kept one and one compare rejects most.
void Sampler::select_top_k(const float* logits, int k) {
  candidates_.clear();
  for (int32_t i = 0; i < k; i++) candidates_.push_back({i, sample_rule::logit_of(logits[i]), 0.f});
  std::make_heap(candidates_.begin(), candidates_.end(), before);
  float worst = candidates_.front().logit;
  for (int32_t i = k; i < vocab_; i++) {
    if (!(logits[i] > worst)) continue;  // a NaN never is
    std::pop_heap(candidates_.begin(), candidates_.end(), before);
    candidates_.back() = {i, logits[i], 0.f};
    std::push_heap(candidates_.begin(), candidates_.end(), before);
    worst = candidates_.front().logit;
  }
  std::sort_heap(candidates_.begin(), candidates_.end(), before);
  sorted_ = candidates_.size();
}

void Sampler::top_k(int k) {
  if (k <= 0 || static_cast<size_t>(k) >= candidates_.size()) return;
  sort_prefix(static_cast<size_t>(k));
  candidates_.resize(static_cast<size_t>(k));
}

// Keeps the smallest prefix (by probability) whose mass reaches p.
void Sampler::top_p(float p) {
  if (p >= 1.f || candidates_.size() <= 1) return;
  float max_l = -INFINITY;
  for (const auto& c : candidates_) max_l = std::max(max_l, c.logit);
  double sum = 0;
  for (auto& c : candidates_) {
    c.p = sample_rule::exp_neg(c.logit - max_l);
    sum += c.p;
  }
  sort_prefix(kTopPFirstSort);
  double cum = 0;
  for (size_t i = 0; i < candidates_.size(); i++) {
    if (i == sorted_) sort_prefix(candidates_.size());
    cum += candidates_[i].p / sum;
    if (cum >= p) {
      candidates_.resize(i + 1);
      sorted_ = std::min(sorted_, candidates_.size());
      return;
    }
  }
}

// Keeps tokens whose probability is at least p times the largest one.
void Sampler::min_p(float p) {
  if (p <= 0.f || candidates_.size() <= 1) return;
  float max_l = -INFINITY;
  for (const auto& c : candidates_) max_l = std::max(max_l, c.logit);
  const auto kept = [&](float logit) { return sample_rule::exp_neg(logit - max_l) >= p; };
  if (sorted_ == candidates_.size()) {
    size_t keep = 1;
    while (keep < candidates_.size() && kept(candidates_[keep].logit)) keep++;
    candidates_.resize(keep);
    sorted_ = keep;
    return;
  }
  // Unsorted: filter in place, keeping the order. The sorted prefix holds the
  // largest logits, so what survives of it is still the sorted top.
  size_t out = 0, sorted_kept = 0;
  for (size_t i = 0; i < candidates_.size(); i++) {
    if (!kept(candidates_[i].logit)) continue;
    if (i < sorted_) sorted_kept++;
    candidates_[out++] = candidates_[i];
  }
  candidates_.resize(out);
  sorted_ = sorted_kept;
}

// The device's chain (sample_rule::chain) on the sorted top-k candidates.
int32_t Sampler::shared_chain() {
  const size_t k = candidates_.size();
  chain_logits_.resize(k);
  chain_p_.resize(k);
  for (size_t i = 0; i < k; i++) chain_logits_[i] = candidates_[i].logit;
  const int pick = sample_rule::chain(chain_logits_.data(), static_cast<int>(k), params_.top_p, params_.min_p,
                                      params_.temperature, rng_.uniform(), chain_p_.data());
  return candidates_[static_cast<size_t>(pick)].id;
}

int32_t Sampler::draw() {
  float max_l = -INFINITY;
  for (const auto& c : candidates_) max_l = std::max(max_l, c.logit);
  double sum = 0;
  for (auto& c : candidates_) {
    c.p = sample_rule::exp_neg(c.logit - max_l);
    sum += c.p;
  }
  const double u = rng_.uniform() * sum;
  double cum = 0;
  for (const auto& c : candidates_) {
    cum += c.p;
    if (u < cum) return c.id;
  }
  // u < sum always, but rounding in the running sum may fall a hair short.
  for (size_t i = candidates_.size(); i-- > 0;)
    if (candidates_[i].p > 0) return candidates_[i].id;
  return candidates_.front().id;
}

}  // namespace km
