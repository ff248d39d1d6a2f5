// The numbers of keymate eval, token by token and in aggregate, with the
// definitions llama.cpp's perplexity tool uses for --kl-divergence (so the two
// compare): KL(reference || test) over the whole vocabulary from the two
// log-softmaxes, top-1 agreement of the two argmaxes (first maximum wins),
// perplexity exp(mean NLL of the true next token), and percentiles by linear
// interpolation between order statistics. Here everything is computed in
// double from full-precision logits; llama.cpp stores the reference's
// log-probabilities as 16-bit values and skips terms with p_ref < e^-16,
// which moves its KLD by well under 1e-4.
#pragma once

#include <cstdint>
#include <vector>

namespace km {

struct TokenScore {
  double kld = 0;      // KL(ref || test), nats
  double nll = 0;      // -log p_test(target)
  double nll_ref = 0;  // -log p_ref(target)
  bool same_top = false;
};

TokenScore score_token(const float* test_logits, const float* ref_logits, int vocab, int32_t target);

class EvalStats {
 public:
  void add(const TokenScore& s);
  int count() const { return (int)kld_.size(); }
  double kld_mean() const;
  double kld_percentile(double p) const;  // p in [0, 1]
  double kld_max() const;
  double top1_agreement() const;
  double ppl() const;
  double ppl_ref() const;

 private:
  std::vector<double> kld_;
  double nll_ = 0, nll_ref_ = 0;
  int64_t same_top_ = 0;
};

// Linear interpolation between order statistics of `v` (sorted or not), as
// llama.cpp's percentile: p * (n - 1) between its two neighbours.
double percentile_linear(std::vector<double> v, double p);

}  // namespace km
