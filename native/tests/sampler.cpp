// The sampler against its definition: greedy is argmax, top-k = 1 is greedy,
// a seed reproduces its draws, draws follow the softmax of the surviving
// candidates (checked with bounds computed from the sample size), and each
// truncation and the repetition penalty behave as llama.cpp's.
#include <cmath>
#include <map>
#include <vector>

#include "keymate/error.h"
#include "keymate/sample_rule.h"
#include "rng.h"
#include "sampler.h"
#include "test.h"

namespace {

km::SamplingParams plain(float temperature, uint64_t seed = 1) {
  km::SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.f;
  p.min_p = 0.f;
  p.repeat_penalty = 1.f;
  p.seed = seed;
  return p;
}

std::vector<float> random_logits(uint64_t seed, int n, double scale = 3.0) {
  km::Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(rng.normal() * scale);
  return v;
}

std::vector<double> softmax(const std::vector<float>& l, float temperature) {
  double mx = -INFINITY, sum = 0;
  for (float x : l) mx = std::max(mx, static_cast<double>(x) / temperature);
  std::vector<double> p;
  for (float x : l) {
    p.push_back(std::exp(static_cast<double>(x) / temperature - mx));
    sum += p.back();
  }
  for (auto& x : p) x /= sum;
  return p;
}

// Frequencies of `draws` samples against expected probabilities: each must be
// within 5 standard deviations of a binomial proportion (a false alarm about
// once in 3.5 million per token), plus a hair for rounding.
void check_frequencies(km::Sampler& s, const std::vector<float>& logits, const std::vector<double>& expect,
                       int draws) {
  std::vector<int> count(logits.size());
  for (int i = 0; i < draws; i++) count[static_cast<size_t>(s.sample(logits.data()))]++;
  for (size_t t = 0; t < logits.size(); t++) {
    const double p = expect[t];
    const double f = static_cast<double>(count[t]) / draws;
    const double bound = 5.0 * std::sqrt(p * (1 - p) / draws) + 1e-9;
    if (std::fabs(f - p) > bound)
      kt::report_failure(__FILE__, __LINE__,
                         "token " + std::to_string(t) + ": frequency " + std::to_string(f) + " vs probability " +
                             std::to_string(p) + " (bound " + std::to_string(bound) + ")");
  }
}

}  // namespace

TEST(sampler, greedy_is_argmax) {
  for (uint64_t seed = 0; seed < 50; seed++) {
    const auto l = random_logits(seed, 1000);
    km::Sampler s(plain(0.f), 1000);
    int best = 0;
    for (int i = 1; i < 1000; i++)
      if (l[static_cast<size_t>(i)] > l[static_cast<size_t>(best)]) best = i;
    CHECK_EQ(s.sample(l.data()), best);
    CHECK_EQ(km::argmax(l.data(), 1000), best);
  }
  // Ties go to the lowest id, as llama.cpp's greedy does.
  std::vector<float> tie = {0.f, 3.f, 1.f, 3.f};
  km::Sampler s(plain(0.f), 4);
  CHECK_EQ(s.sample(tie.data()), 1);
  // Negative temperature also means greedy.
  km::Sampler neg(plain(-1.f), 4);
  CHECK_EQ(neg.sample(tie.data()), 1);
}

TEST(sampler, top_k_1_is_greedy) {
  for (uint64_t seed = 0; seed < 50; seed++) {
    const auto l = random_logits(seed + 100, 5000, 1.0);
    auto p = plain(1.5f, seed);
    p.top_k = 1;
    km::Sampler s(p, 5000);
    CHECK_EQ(s.sample(l.data()), km::argmax(l.data(), 5000));
  }
}

TEST(sampler, seeded_draws_repeat) {
  const auto l = random_logits(7, 32000, 1.0);
  auto p = km::SamplingParams{};  // the defaults: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
  p.seed = 1234;
  km::Sampler a(p, 32000), b(p, 32000);
  std::vector<int32_t> da, db;
  for (int i = 0; i < 200; i++) {
    da.push_back(a.sample(l.data()));
    db.push_back(b.sample(l.data()));
  }
  CHECK(da == db);
  p.seed = 1235;
  km::Sampler c(p, 32000);
  std::vector<int32_t> dc;
  for (int i = 0; i < 200; i++) dc.push_back(c.sample(l.data()));
  CHECK(dc != da);
  // reset() starts the same sequence again.
  a.reset(1234);
  std::vector<int32_t> again;
  for (int i = 0; i < 200; i++) again.push_back(a.sample(l.data()));
  CHECK(again == da);
}

TEST(sampler, rng_is_the_defined_sequence) {
  // xoshiro256** seeded by splitmix64: the first outputs are part of the
  // contract (seeded runs must agree across machines and versions).
  km::Rng r(0);
  const uint64_t first = r.next();
  km::Rng r2(0);
  CHECK_EQ(r2.next(), first);
  uint64_t sm = 0;
  CHECK_EQ(km::splitmix64(sm), 0xe220a8397b1dcdafull);  // splitmix64's published first output for seed 0
  // uniform() in [0, 1), normal() with mean 0 and variance 1.
  km::Rng u(42);
  double mean = 0, m2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; i++) {
    const double x = u.uniform();
    REQUIRE(x >= 0 && x < 1);
    const double z = u.normal();
    mean += z;
    m2 += z * z;
  }
  mean /= n;
  CHECK_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  CHECK_NEAR(m2 / n, 1.0, 0.02);
}

TEST(sampler, frequencies_follow_softmax) {
  const std::vector<float> l = {1.0f, 0.5f, 2.0f, -1.0f, 0.0f, 1.5f, -0.5f, 0.25f};
  for (float temperature : {1.0f, 0.5f, 2.0f}) {
    km::Sampler s(plain(temperature, 99), 8);
    check_frequencies(s, l, softmax(l, temperature), 200000);
  }
}

TEST(sampler, top_k_keeps_the_k_largest) {
  const std::vector<float> l = {1.0f, 0.5f, 2.0f, -1.0f, 0.0f, 1.5f, -0.5f, 0.25f};
  auto p = plain(1.f, 5);
  p.top_k = 3;  // tokens 2, 5, 0
  km::Sampler s(p, 8);
  auto expect = softmax({l[0], l[2], l[5]}, 1.f);
  check_frequencies(s, l, {expect[0], 0, expect[1], 0, 0, expect[2], 0, 0}, 100000);
}

TEST(sampler, top_p_keeps_the_smallest_prefix_reaching_p) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (in a scrambled id order).
  const std::vector<float> l = {std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
  auto p = plain(1.f, 11);
  p.top_p = 0.75f;  // 0.5 < 0.75 <= 0.8: keeps ids 1 and 3
  km::Sampler s(p, 4);
  check_frequencies(s, l, {0, 0.5 / 0.8, 0, 0.3 / 0.8}, 100000);
  p.top_p = 0.9f;  // 0.8 < 0.9 <= 0.95: adds id 0
  km::Sampler s2(p, 4);
  check_frequencies(s2, l, {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95}, 100000);
}

TEST(sampler, top_p_over_a_large_vocabulary) {
  // More candidates than the first partial sort covers: a flat distribution
  // over 2000 tokens needs ~1900 of them for p = 0.95.
  std::vector<float> l(2000, 0.f);
  l[3] = 0.1f;
  auto p = plain(1.f, 3);
  p.top_p = 0.95f;
  km::Sampler s(p, 2000);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 5000; i++) seen[s.sample(l.data())]++;
  CHECK(seen.size() > 1200);          // far more than the 256 of the first sort
  CHECK(seen.rbegin()->first < 1920);  // ties by id: the highest ids are cut
}

TEST(sampler, min_p_cuts_relative_to_the_top) {
  const std::vector<float> l = {std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
  auto p = plain(1.f, 13);
  p.min_p = 0.2f;  // threshold 0.1: drops id 2 (0.05)
  km::Sampler s(p, 4);
  check_frequencies(s, l, {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95}, 100000);
}

TEST(sampler, repetition_penalty_as_llama_cpp) {
  // Positive logits are divided, negative ones multiplied, once per token.
  const std::vector<float> l = {2.0f, -1.0f, 0.5f};
  auto p = plain(0.f);
  p.repeat_penalty = 2.f;
  p.repeat_last_n = 64;
  km::Sampler s(p, 3);
  s.accept(0);
  s.accept(0);  // seen twice: still divided once -> 1.0 > 0.5
  CHECK_EQ(s.sample(l.data()), 0);
  p.repeat_penalty = 5.f;  // 2.0 / 5 = 0.4 < 0.5
  km::Sampler s5(p, 3);
  s5.accept(0);
  CHECK_EQ(s5.sample(l.data()), 2);
  // A negative logit gets more negative: with 1 and 2 penalized, 0 still wins,
  // and at temperature 1 token 1 becomes rarer by exactly its factor.
  auto pt = plain(1.f, 17);
  pt.repeat_penalty = 2.f;
  km::Sampler st(pt, 3);
  st.accept(1);
  check_frequencies(st, l, softmax({2.0f, -2.0f, 0.5f}, 1.f), 100000);
  // The window: only the last repeat_last_n tokens count.
  p.repeat_penalty = 5.f;
  p.repeat_last_n = 1;
  km::Sampler w(p, 3);
  w.accept(0);
  w.accept(1);  // 0 left the window
  CHECK_EQ(w.sample(l.data()), 0);
  // 0 turns it off.
  p.repeat_last_n = 0;
  km::Sampler off(p, 3);
  off.accept(0);
  CHECK_EQ(off.sample(l.data()), 0);
  // The input logits are not modified.
  CHECK_EQ(l[0], 2.0f);
}

// Without a penalty, top-k selects straight from the logits in one pass; the
// full path builds every candidate and sorts. They must pick the same tokens
// draw for draw, ties included (logits on a coarse grid tie often). An
// out-of-vocabulary token in the penalty window sends a sampler down the full
// path without changing any logit.
TEST(sampler, one_pass_top_k_picks_as_the_full_chain) {
  const int n = 5000;
  std::vector<float> grid = random_logits(11, n), levels = random_logits(12, n);
  for (float& x : grid) x = std::round(x * 4.f) / 4.f;
  for (float& x : levels) x = std::floor(std::fabs(x));  // a handful of values, thousands of ties
  for (const auto* l : {&grid, &levels})
    for (int k : {1, 2, 40, 64, n - 1})
      for (float top_p : {0.95f, 1.f})
        for (float min_p : {0.05f, 0.f})
          for (float temperature : {0.8f, 5.f}) {  // 5: a flat draw reaches the last candidates
            auto p = plain(temperature, 5);
            p.top_k = k;
            p.top_p = top_p;
            p.min_p = min_p;
            p.repeat_penalty = 1.1f;
            km::Sampler fast(p, n), full(p, n);
            full.accept(-1);
            for (int i = 0; i < 50; i++) CHECK_EQ(fast.sample(l->data()), full.sample(l->data()));
          }
}

// Device sampling (Backend::forward_sample) gets the number sample() would
// draw. Over 1000 equal logits in id order, sample() picks floor(u * 1000),
// so the token shows which uniform it drew.
TEST(sampler, device_settings_hand_out_the_next_draw) {
  const int n = 1000;
  const std::vector<float> flat(n, 0.f);
  km::Sampler host(plain(1.f, 42), n), mixed(plain(1.f, 42), n);
  for (int i = 0; i < 50; i++) {
    km::DeviceSample d;
    CHECK(mixed.device_settings(d));
    CHECK_EQ(d.temperature, 1.f);
    km::DeviceSample again;
    CHECK(mixed.device_settings(again));
    CHECK_EQ(again.uniform, d.uniform);  // asking consumes nothing
    const int32_t expect = host.sample(flat.data());
    CHECK_EQ(static_cast<int32_t>(d.uniform * n), expect);
    // Alternate the two ways: the device's pick, then the host's own draw.
    if (i % 2 == 0)
      mixed.device_drew();
    else
      CHECK_EQ(mixed.sample(flat.data()), expect);
  }
  // Greedy draws nothing, so a greedy device pick leaves the sequence alone.
  km::Sampler greedy(plain(0.f, 42), n);
  km::DeviceSample g0, g1;
  CHECK(greedy.device_settings(g0));
  greedy.device_drew();
  CHECK(greedy.device_settings(g1));
  CHECK_EQ(g0.uniform, g1.uniform);
  // A repetition penalty reads the history the host keeps: host only.
  auto pen = plain(1.f);
  pen.repeat_penalty = 1.1f;
  km::DeviceSample unused;
  CHECK(!km::Sampler(pen, n).device_settings(unused));
  pen.repeat_last_n = 0;  // a penalty over no tokens is no penalty
  CHECK(km::Sampler(pen, n).device_settings(unused));
}

// A NaN logit is -inf to both samplers (keymate/sample_rule.h): never picked
// while a number is left, whatever its place, and all-NaN gives token 0.
TEST(sampler, a_nan_logit_is_never_picked) {
  const float nan = std::nanf("");
  std::vector<float> l = {nan, 1.f, nan, 2.f, -INFINITY, 2.f, nan};
  km::Sampler greedy(plain(0.f), 7);
  CHECK_EQ(greedy.sample(l.data()), 3);
  CHECK_EQ(km::argmax(l.data(), 7), 3);
  for (uint64_t seed = 0; seed < 200; seed++) {
    km::SamplingParams p = plain(1.5f, seed);
    p.top_k = 4;  // the device's path: top-k, then the shared chain
    km::Sampler topk(p, 7);
    const int t = topk.sample(l.data());
    CHECK(t == 1 || t == 3 || t == 5);
    km::Sampler full(plain(1.5f, seed), 7);  // top-k off: the host's own chain
    const int f = full.sample(l.data());
    CHECK(f == 1 || f == 3 || f == 5);
  }
  std::vector<float> all(5, nan);
  km::SamplingParams p = plain(1.f);
  p.top_k = 3;
  km::Sampler s(p, 5);
  CHECK_EQ(s.sample(all.data()), 0);
  CHECK_EQ(km::argmax(all.data(), 5), 0);
}

// The chain's exponential is its own (the same bits on CPU and GPU): within
// 2 ulp of the true e^x where the draw can see it, exact at 0, 0 far below.
TEST(sampler, the_shared_exponential_is_accurate) {
  using km::sample_rule::exp_neg;
  CHECK_EQ(exp_neg(0.f), 1.f);
  CHECK_EQ(exp_neg(-INFINITY), 0.f);
  CHECK_EQ(exp_neg(-100.f), 0.f);
  double worst = 0;
  for (float x = -87.f; x <= 0.f; x += 0.000731f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = exp_neg(x);
    const double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
    worst = std::max(worst, std::fabs(got - want) / ulp);
  }
  if (worst > 2.0) kt::report_failure(__FILE__, __LINE__, "exp_neg is " + std::to_string(worst) + " ulp off");
}

TEST(sampler, bad_parameters_are_errors) {
  auto p = plain(1.f);
  p.top_p = 0.f;
  CHECK_THROWS_WITH(km::Sampler(p, 10), "top_p");
  p = plain(1.f);
  p.min_p = 1.5f;
  CHECK_THROWS_WITH(km::Sampler(p, 10), "min_p");
  p = plain(1.f);
  p.top_k = -1;
  CHECK_THROWS_WITH(km::Sampler(p, 10), "top_k");
  p = plain(1.f);
  p.repeat_penalty = 0.f;
  CHECK_THROWS_WITH(km::Sampler(p, 10), "repeat_penalty");
  p = plain(NAN);
  CHECK_THROWS_WITH(km::Sampler(p, 10), "temperature");
  CHECK_THROWS_WITH(km::Sampler(plain(1.f), 0), "vocabulary");
}
