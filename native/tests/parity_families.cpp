// Parity with llama.cpp for each architecture family the engine runs (qwen3,
// gemma3, phi3, smollm3, and llama with Llama 3.1's rope_freqs), against the
// golden files tests/fixtures/golden/test-*.json. Each names a synth shape:
// the test writes the same file again (its FNV-1a must be the golden's, so
// both sides ran the very same bytes) and checks, on the CPU backend:
//   - the prompt tokens are llama.cpp's;
//   - logits at the golden positions (some past Gemma's sliding window) are
//     within the F32 tolerance of llama.cpp's, on the sampled ids;
//   - greedy tokens are llama.cpp's up to the first token whose choice was a
//     near tie (llama.cpp's own top-2 margin there under twice the
//     tolerance): random weights give flat distributions, where a difference
//     far below the tolerance may pick the other token, and from there on the
//     two continuations are different texts.
#include <cstdio>
#include <string>

#include "golden.h"
#include "keymate/engine.h"
#include "keymate/tokenizer.h"
#include "temp_dir.h"
#include "test.h"

using kt::kFamilyShapes;

namespace {

kt::GoldenFamily open_family(const std::string& shape, const kt::TempDir& dir) {
  return kt::open_golden_family(shape, dir, "cpu");
}

}  // namespace

TEST(parity_families, prompt_tokens_equal_llama_cpp) {
  kt::TempDir dir("keymate-parity");
  for (const char* shape : kFamilyShapes) {
    const kt::GoldenFamily f = open_family(shape, dir);
    for (const auto& c : f.g["cases"].items)
      CHECK(f.engine->tokenizer().encode(c["prompt"].as_string(), true, true) ==
            c["prompt_tokens"].as_vector<int32_t>());
  }
}

TEST(parity_families, logits_within_tolerance) {
  kt::TempDir dir("keymate-parity");
  for (const char* shape : kFamilyShapes) {
    kt::GoldenFamily f = open_family(shape, dir);
    int checked = 0;
    const double worst = kt::worst_logit_difference(*f.engine, f.g, kt::kLogitTolerance, &checked);
    CHECK(checked == static_cast<int>(f.g["logits"].size()));
    CHECK(checked >= 10);
    std::fprintf(stderr, "  %s: %d logit vectors, worst difference %.2e of the logit range\n", shape, checked, worst);
  }
}

TEST(parity_families, greedy_tokens_equal_llama_cpp_up_to_a_near_tie) {
  kt::TempDir dir("keymate-parity");
  for (const char* shape : kFamilyShapes) {
    kt::GoldenFamily f = open_family(shape, dir);
    double range = 0;  // the largest logit range llama.cpp saw in this file
    for (const auto& l : f.g["logits"].items) range = std::max(range, kt::logit_range(l));
    size_t agreed = 0, total = 0;
    for (size_t ci = 0; ci < f.g["cases"].size(); ci++) {
      const kt::Json& c = f.g["cases"][ci];
      const auto want = kt::expected_tokens(c);
      const kt::Agreement a = kt::run_case(*f.engine, c);
      agreed += a.first_diff;
      total += want.size();
      if (a.first_diff == want.size()) continue;
      const auto margins = c["margins"].as_vector<double>();
      const double margin = a.first_diff < margins.size() ? margins[a.first_diff] : 0;
      if (margin > 2 * kt::kLogitTolerance * range)
        kt::report_failure(__FILE__, __LINE__,
                           std::string(shape) + " case " + std::to_string(ci) + ": token " +
                               std::to_string(a.first_diff) + " differs from llama.cpp's, whose margin there (" +
                               std::to_string(margin) + ") is no near tie");
    }
    std::fprintf(stderr, "  %s: %zu of %zu greedy tokens before a case's first difference\n", shape, agreed, total);
  }
}
