// Parity with llama.cpp on the stories260K models, against the golden files
// in tests/fixtures/golden/ (made by scripts/reference/make-golden.mjs; the
// README there gives their format and settings). F32: the same prompt tokens,
// the same greedy tokens for every prompt, and logits within 1e-3 of the logit
// range at every golden position, computed as llama.cpp did (the prompt in one
// batch, then one token per step, teacher-forcing the golden continuation).
// Q8_0 / Q4_0: sensible text, and agreement with llama.cpp's own tokens.
#include <cctype>
#include <cstdio>
#include <string>

#include "golden.h"
#include "keymate/engine.h"
#include "keymate/tokenizer.h"
#include "test.h"
#include "utf8_stream.h"

using kt::Agreement;
using kt::expected_tokens;
using kt::golden;
using kt::run_case;

namespace {

using kt::kLogitTolerance;
// Quantized weights: llama.cpp rounds the activations too (to Q8_0 with an
// fp16 scale for Q8_0/Q4_0 weights, to f16 for the f16 ffn_down of these
// files), so the same formula lands ~9e-3 of the range away (measured when
// this test was written); a wrong formula misses by far more.
constexpr double kQuantLogitTolerance = 2e-2;

std::unique_ptr<km::Engine> load(const kt::Json& g) {
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = static_cast<int>(g["settings"]["n_ctx"].as_number());
  return km::Engine::load(kt::models_dir() + "/" + g["model"].as_string(), o);
}

bool valid_utf8(const std::string& s) {
  km::Utf8Stream u;
  return u.push(s) == s && !u.pending();
}

}  // namespace

TEST(parity, f32_prompt_tokens_equal_llama_cpp) {
  const kt::Json g = golden("stories260K.json");
  auto e = load(g);
  for (const auto& c : g["cases"].items)
    CHECK(e->tokenizer().encode(c["prompt"].as_string(), true, true) == c["prompt_tokens"].as_vector<int32_t>());
}

TEST(parity, f32_greedy_tokens_equal_llama_cpp) {
  const kt::Json g = golden("stories260K.json");
  auto e = load(g);
  for (size_t ci = 0; ci < g["cases"].size(); ci++) {
    const kt::Json& c = g["cases"][ci];
    const auto want = expected_tokens(c);
    const Agreement a = run_case(*e, c);
    if (a.first_diff != want.size()) {
      const auto margins = c["margins"].as_vector<double>();
      kt::report_failure(__FILE__, __LINE__,
                         "case " + std::to_string(ci) + " ('" + c["prompt"].as_string() + "'): token " +
                             std::to_string(a.first_diff) + " differs from llama.cpp's (its margin there " +
                             std::to_string(a.first_diff < margins.size() ? margins[a.first_diff] : 0) +
                             "); ours: " + a.text);
    }
    if (c["stop"].as_string() == "length") CHECK_EQ(a.text, c["text"].as_string());
  }
}

static double worst_logit_difference(const kt::Json& g, double tolerance, int* checked) {
  auto e = load(g);
  return kt::worst_logit_difference(*e, g, tolerance, checked);
}

TEST(parity, f32_logits_within_tolerance) {
  const kt::Json g = golden("stories260K.json");
  int checked = 0;
  const double worst = worst_logit_difference(g, kLogitTolerance, &checked);
  CHECK(checked == static_cast<int>(g["logits"].size()));
  CHECK(checked >= 10);
  std::fprintf(stderr, "  %d logit vectors, worst difference %.2e of the logit range\n", checked, worst);
}

// Quantized files: llama.cpp quantizes activations to Q8_0 for these matmuls,
// as our CPU backend does, so most tokens agree; small margins may flip. The
// bar: sensible text everywhere, llama.cpp's first tokens in most cases.
TEST(parity, quantized_generate_sensibly_and_close_to_llama_cpp) {
  for (const char* file : {"stories260K-Q8_0.json", "stories260K-Q4_0.json"}) {
    const kt::Json g = golden(file);
    auto e = load(g);
    size_t total = 0, agreed = 0, full = 0;
    std::string firsts;
    for (const auto& c : g["cases"].items) {
      const Agreement a = run_case(*e, c);
      const size_t n = expected_tokens(c).size();
      total += n;
      agreed += a.first_diff;
      full += a.first_diff == n;
      firsts += (firsts.empty() ? "" : ", ") + std::to_string(a.first_diff);
      CHECK(valid_utf8(a.text));
      // Sensible: story words, not byte soup.
      size_t letters = 0;
      for (unsigned char ch : a.text) letters += std::isalpha(ch) || ch == ' ';
      CHECK(letters > a.text.size() * 8 / 10);
    }
    std::fprintf(stderr, "  %s: first differing token per case: %s (%zu of %zu tokens before the first difference)\n",
                 file, firsts.c_str(), agreed, total);
    CHECK(agreed * 2 >= total);  // at least half of all tokens before a case's first difference
    int checked = 0;
    const double worst = worst_logit_difference(g, kQuantLogitTolerance, &checked);
    CHECK(checked == static_cast<int>(g["logits"].size()));
    std::fprintf(stderr, "  %s: %d logit vectors, worst difference %.2e of the logit range\n", file, checked, worst);
  }
}
