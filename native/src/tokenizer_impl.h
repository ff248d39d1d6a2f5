// The two tokenizer families behind km::Tokenizer, private to the engine:
// Tokenizer::from_gguf picks one by tokenizer.ggml.model.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "keymate/tokenizer.h"
#include "pretokenizer.h"
#include "tokenizer_hash.h"

namespace km {

// The byte a "<0xNN>" token stands for; false when `text` is not one.
inline bool parse_byte_token(const std::string& text, uint8_t& byte) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>' || hex(text[3]) < 0 || hex(text[4]) < 0)
    return false;
  byte = static_cast<uint8_t>(hex(text[3]) * 16 + hex(text[4]));
  return true;
}

// SentencePiece BPE ("llama": Llama 2, TinyLlama, Mistral v0.1, Phi-3,
// TinyStories): spaces become U+2581, a space goes in front of the text,
// adjacent pieces merge best-score first, and what no token covers falls back
// to <0xNN> byte tokens.
class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(const GgufFile& file);
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string piece(int32_t token, bool render_special) const override;

 private:
  void encode_text(const std::string& escaped, std::vector<int32_t>& out) const;
  int32_t byte_token(uint8_t byte) const;

  std::vector<float> scores_;                // [vocab] merge priority: higher merges first
  std::array<int32_t, 256> byte_tokens_{};   // <0xNN> (or the 1-byte token), -1 when none
};

// Merge ranks keyed by the ids of a merge's two sides, (left << 32 | right).
class PairRanks {
 public:
  void reserve(size_t n) { slots_.assign(tokhash::table_size(n), Slot{kEmpty, 0}); }
  // Keeps the first rank a pair is given (a duplicate merge never applies).
  void insert(uint64_t key, int32_t rank) {
    for (size_t pos = slot_of(key);; pos = (pos + 1) & (slots_.size() - 1)) {
      if (slots_[pos].key == key) return;
      if (slots_[pos].key == kEmpty) {
        slots_[pos] = {key, rank};
        return;
      }
    }
  }
  int32_t find(uint64_t key) const {
    if (slots_.empty()) return -1;
    for (size_t pos = slot_of(key);; pos = (pos + 1) & (slots_.size() - 1)) {
      if (slots_[pos].key == key) return slots_[pos].rank;
      if (slots_[pos].key == kEmpty) return -1;
    }
  }

 private:
  struct Slot {
    uint64_t key;
    int32_t rank;
  };
  static constexpr uint64_t kEmpty = ~0ull;  // ids are below 2^31: no real key is all ones
  size_t slot_of(uint64_t key) const { return tokhash::mix(key) & (slots_.size() - 1); }
  std::vector<Slot> slots_;
};

// Byte-level BPE ("gpt2": Llama 3, Qwen2, SmolLM, GPT-2): a pre-tokenizer cuts
// the text into words, each word's bytes become printable stand-ins, and
// adjacent symbols merge lowest-rank first by tokenizer.ggml.merges.
class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(const GgufFile& file);
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string piece(int32_t token, bool render_special) const override;

 private:
  struct Scratch;
  void encode_word(const std::string& word, Scratch& scratch, std::vector<int32_t>& out) const;

  Pretokenizer pretokenizer_ = Pretokenizer::kDefault;
  bool ignore_merges_ = false;  // a word that is a token is taken whole (Llama 3)
  // Merge ranks. In a real vocabulary both sides of every merge are tokens,
  // so merges are keyed by the two token ids (left << 32 | right): no string
  // is built per lookup. A merge with a side that is no token (never seen in
  // practice, but legal) is kept by text, "left right", and looked up when a
  // side is no token.
  PairRanks pair_ranks_;
  std::unordered_map<std::string, int32_t> text_ranks_;
};

}  // namespace km
