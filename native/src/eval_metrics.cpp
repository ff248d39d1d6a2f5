// Eval metrics; see eval_metrics.h.
#include "eval_metrics.h"

#include <algorithm>
#include <cmath>

namespace km {

namespace {

struct LogSoftmax {
  int argmax = 0;
  double log_z = 0;  // log sum exp(logit), so log p_i = logit_i - log_z
};

LogSoftmax log_softmax(const float* x, int n) {
  LogSoftmax r;
  float mx = x[0];
  for (int i = 1; i < n; i++)
    if (x[i] > mx) mx = x[i], r.argmax = i;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += std::exp((double)x[i] - mx);
  r.log_z = mx + std::log(sum);
  return r;
}

}  // namespace

TokenScore score_token(const float* test, const float* ref, int vocab, int32_t target) {
  const LogSoftmax t = log_softmax(test, vocab), r = log_softmax(ref, vocab);
  TokenScore s;
  double kld = 0;
  for (int i = 0; i < vocab; i++) {
    const double lr = (double)ref[i] - r.log_z, lt = (double)test[i] - t.log_z;
    kld += std::exp(lr) * (lr - lt);
  }
  s.kld = kld < 0 ? 0 : kld;  // rounding can leave -1e-17 when the two agree
  s.nll = t.log_z - test[target];
  s.nll_ref = r.log_z - ref[target];
  s.same_top = t.argmax == r.argmax;
  return s;
}

void EvalStats::add(const TokenScore& s) {
  kld_.push_back(s.kld);
  nll_ += s.nll;
  nll_ref_ += s.nll_ref;
  same_top_ += s.same_top;
}

double EvalStats::kld_mean() const {
  double sum = 0;
  for (double k : kld_) sum += k;
  return kld_.empty() ? 0 : sum / (double)kld_.size();
}

double EvalStats::kld_percentile(double p) const { return percentile_linear(kld_, p); }

double EvalStats::kld_max() const { return kld_.empty() ? 0 : *std::max_element(kld_.begin(), kld_.end()); }

double EvalStats::top1_agreement() const { return kld_.empty() ? 0 : (double)same_top_ / (double)kld_.size(); }

double EvalStats::ppl() const { return kld_.empty() ? 0 : std::exp(nll_ / (double)kld_.size()); }

double EvalStats::ppl_ref() const { return kld_.empty() ? 0 : std::exp(nll_ref_ / (double)kld_.size()); }

double percentile_linear(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  if (p <= 0) return v.front();
  if (p >= 1) return v.back();
  const double at = p * (double)(v.size() - 1);
  const size_t lo = (size_t)at;
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - (double)lo);
}

}  // namespace km
