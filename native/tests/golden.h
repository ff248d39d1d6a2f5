// Golden files (tests/fixtures/golden/, made by scripts/reference/make-golden.mjs;
// the README there gives their format): reading them, running their greedy
// cases through an engine, and comparing logits the way llama.cpp computed
// them (the prompt in one batch, then one token per step, teacher-forcing the
// golden continuation). A logits vector holds either the whole vocabulary or,
// for the large vocabularies of the family files, a sample of `ids` with the
// whole vector's `min` and `max`.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "json.h"
#include "keymate/engine.h"
#include "rng.h"
#include "synth.h"
#include "temp_dir.h"
#include "test.h"

namespace kt {

// The acceptance tolerance of every F32 parity test: |ours - llama.cpp| <=
// 1e-3 * (max - min of llama.cpp's logits); the README there measures how
// far llama.cpp moves from itself under its own options.
constexpr double kLogitTolerance = 1e-3;

inline Json golden(const std::string& file) {
  const std::string path = fixtures_dir() + "/golden/" + file;
  REQUIRE(file_exists(path));  // committed; scripts/reference/make-golden.mjs regenerates it
  Json j = Json::parse_file(path);
  REQUIRE(j["format"].as_string() == "keymate-golden/1");
  return j;
}

inline km::GenerateRequest greedy(const std::string& prompt, int max_tokens) {
  km::GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.f;
  r.sampling.repeat_penalty = 1.f;
  return r;
}

// The golden continuation without its end token, as generate() returns it.
inline std::vector<int32_t> expected_tokens(const Json& c) {
  auto t = c["tokens"].as_vector<int32_t>();
  if (c["stop"].as_string() == "eog" && !t.empty()) t.pop_back();
  return t;
}

struct Agreement {
  size_t first_diff;  // index of the first differing token (== size when none)
  std::string text;
};

inline Agreement run_case(km::Engine& e, const Json& c) {
  const auto want = expected_tokens(c);
  const auto r = e.generate(greedy(c["prompt"].as_string(), static_cast<int>(c["tokens"].size())), nullptr);
  size_t i = 0;
  while (i < want.size() && i < r.tokens.size() && want[i] == r.tokens[i]) i++;
  if (i == want.size() && r.tokens.size() != want.size()) i = std::min(want.size(), r.tokens.size());
  return {i, r.completion};
}

// The whole range (max - min) of a golden logits vector.
inline double logit_range(const Json& l) {
  if (l.has("ids")) return l["max"].as_number() - l["min"].as_number();
  const auto ref = l["values"].as_vector<double>();
  return *std::max_element(ref.begin(), ref.end()) - *std::min_element(ref.begin(), ref.end());
}

// Worst |ours - llama.cpp| / range over the golden logit vectors of `g` on
// engine `e`. Reports each vector beyond `tolerance`; `checked` counts them.
inline double worst_logit_difference(km::Engine& e, const Json& g, double tolerance, int* checked) {
  const int vocab = static_cast<int>(g["n_vocab"].as_number());
  if (vocab != e.info().vocab) throw std::runtime_error("golden n_vocab differs from the model's");
  double worst = 0;
  *checked = 0;
  for (size_t ci = 0; ci < g["cases"].size(); ci++) {
    std::vector<const Json*> wanted;
    int last = -1;
    for (const auto& l : g["logits"].items)
      if (static_cast<size_t>(l["case"].as_number()) == ci) {
        wanted.push_back(&l);
        last = std::max(last, static_cast<int>(l["position"].as_number()));
      }
    if (wanted.empty()) continue;
    const Json& c = g["cases"][ci];
    std::vector<int32_t> seq = c["prompt_tokens"].as_vector<int32_t>();
    const int n_prompt = static_cast<int>(seq.size());
    for (int32_t t : c["tokens"].as_vector<int32_t>()) seq.push_back(t);
    if (last >= static_cast<int>(seq.size())) throw std::runtime_error("golden position past its tokens");

    std::vector<float> logits(static_cast<size_t>(std::max(last + 1, n_prompt)) * static_cast<size_t>(vocab));
    km::Backend& b = e.backend();
    b.forward(seq.data(), n_prompt, 0, logits.data(), true);
    for (int p = n_prompt; p <= last; p++)
      b.forward(&seq[static_cast<size_t>(p)], 1, p, logits.data() + static_cast<size_t>(p) * vocab, false);

    for (const Json* l : wanted) {
      const int pos = static_cast<int>((*l)["position"].as_number());
      const auto ref = (*l)["values"].as_vector<double>();
      std::vector<int> ids;
      if (l->has("ids")) {
        ids = (*l)["ids"].as_vector<int>();
      } else {
        for (int i = 0; i < vocab; i++) ids.push_back(i);
      }
      if (ref.size() != ids.size()) throw std::runtime_error("golden logits and ids of different sizes");
      const double range = logit_range(*l);
      double diff = 0;
      for (size_t k = 0; k < ids.size(); k++) {
        if (ids[k] < 0 || ids[k] >= vocab) throw std::runtime_error("golden logit id outside the vocabulary");
        diff = std::max(diff, std::fabs(logits[static_cast<size_t>(pos) * vocab + ids[k]] - ref[k]));
      }
      worst = std::max(worst, diff / range);
      (*checked)++;
      if (diff > tolerance * range)
        report_failure(__FILE__, __LINE__,
                       g["model"].as_string() + " case " + std::to_string(ci) + " position " + std::to_string(pos) +
                           ": logits differ by " + std::to_string(diff) + " = " + std::to_string(diff / range) +
                           " of the range (tolerance " + std::to_string(tolerance) + ")");
    }
  }
  return worst;
}

// The architecture families' golden files (test-<shape>.json), each made from
// a synth test shape.
constexpr const char* kFamilyShapes[] = {"test-llama3", "test-qwen3", "test-gemma3", "test-phi3", "test-smollm3"};

struct GoldenFamily {
  Json g;
  std::unique_ptr<km::Engine> engine;
};

// The golden file of `shape` and an engine on `backend` loaded from the file
// it was made from, written again into `dir` (its FNV-1a must be the golden's,
// so both sides ran the very same bytes).
inline GoldenFamily open_golden_family(const std::string& shape, const TempDir& dir, const std::string& backend) {
  GoldenFamily f{golden(shape + ".json"), nullptr};
  const Json& s = f.g["synth"];
  REQUIRE(s["shape"].as_string() == shape);
  CHECK_EQ(static_cast<uint32_t>(s["version"].as_number()), km::kSynthVersion);
  km::SynthOptions o;
  o.shape = shape;
  o.type = s["type"].as_string();
  o.seed = static_cast<uint64_t>(s["seed"].as_number());
  const std::string path = dir.path + "/" + shape + ".gguf";
  km::write_synthetic_gguf(o, path);
  const auto bytes = read_all(path);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(km::fnv1a64(bytes.data(), bytes.size())));
  REQUIRE(f.g["model_fnv1a64"].as_string() == hex);  // else: regenerate with make-golden.mjs
  km::LoadOptions lo;
  lo.backend = backend;
  lo.threads = 2;
  lo.context = static_cast<int>(f.g["settings"]["n_ctx"].as_number());
  f.engine = km::Engine::load(path, lo);
  return f;
}

}  // namespace kt
