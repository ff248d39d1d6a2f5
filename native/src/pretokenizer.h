// Pre-tokenizers for byte-level BPE: they cut text into words before merges
// run, as the regexes in a model's tokenizer.json do. std::regex knows neither
// \p{L} nor Unicode \s and is slow, so each regex is a hand-written scanner
// over code points, equivalent to it (and to llama.cpp's scanners, whose
// splits the test vectors pin down). A pre-tokenizer is a list of stages; each
// stage cuts every piece the previous stage left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace km {

enum class Pretokenizer {
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
  kGpt2,
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  // as kLlama3 with \p{N} (one digit per word) instead of \p{N}{1,3}
  kQwen2,
  // GPT-4o's (Phi-4-mini, Llama 4): letter runs split by case, contractions
  // kept on the word, "/" after punctuation (pretokenizer.cpp spells it out)
  kGpt4o,
  // \p{N} isolated, then kGpt2 (StarCoder, SmolLM, Refact, Command-R, ...)
  kStarcoder,
  // llama.cpp's fallback: [\p{P}\$\+<=>\^~\|]+, then kGpt2, then \p{N}+, then [0-9][0-9][0-9]
  kDefault,
};

// Cuts `cps` into words; returns their lengths in code points, in order,
// summing to cps.size() (no empty words).
std::vector<size_t> pretokenize(Pretokenizer kind, const std::vector<uint32_t>& cps);

}  // namespace km
