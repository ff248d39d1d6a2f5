// The host sampler's time per token; see sampling.h. Logits are N(0, 3)
// draws: flatter than a trained model's, so top-p keeps more candidates and
// this errs on the slow side. Single-threaded (as the engine samples), best
// of 5 rounds by the thread's CPU clock.
#include "sampling.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "keymate/error.h"
#include "rng.h"
#include "sampler.h"
#include "split.h"
#include "thread_clock.h"

namespace km::bench {

int sampling_bench(int argc, char** argv) {
  std::vector<std::string> vocabs = {"32000", "128256"};
  double budget_ms = 300;
  for (int i = 0; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) fail("sampling: %s needs a value", k.c_str());
    const std::string v = argv[i + 1];
    if (k == "--vocab") vocabs = split_commas(v);
    else if (k == "--ms") budget_ms = std::atof(v.c_str());
    else fail("sampling: unknown option %s (--vocab, --ms)", k.c_str());
  }
  struct Setting {
    const char* name;
    float temperature;
  };
  // "chain" is the engine's default: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8.
  for (const std::string& vs : vocabs) {
    const int vocab = std::atoi(vs.c_str());
    if (vocab <= 1) fail("sampling: --vocab wants sizes above 1, not '%s'", vs.c_str());
    Rng rng(7);
    std::vector<float> logits((size_t)vocab);
    for (float& x : logits) x = (float)(rng.normal() * 3.0);
    for (const Setting& s : {Setting{"greedy", 0.f}, Setting{"chain", 0.8f}}) {
      SamplingParams p;
      p.temperature = s.temperature;
      Sampler sampler(p, vocab);
      double t0 = thread_seconds();
      sampler.sample(logits.data());
      const double once = std::max(thread_seconds() - t0, 1e-7);
      const int reps = std::max(1, (int)(budget_ms / 5e3 / once));
      double best = 1e30;
      for (int round = 0; round < 5; round++) {
        t0 = thread_seconds();
        for (int r = 0; r < reps; r++) sampler.sample(logits.data());
        best = std::min(best, (thread_seconds() - t0) / reps);
      }
      std::printf("{\"vocab\": %d, \"sampling\": \"%s\", \"us_per_token\": %.2f, \"logits_bytes\": %d}\n", vocab,
                  s.name, best * 1e6, vocab * 4);
    }
  }
  return 0;
}

}  // namespace km::bench
