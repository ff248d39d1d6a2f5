// Tokenizers read from GGUF metadata (tokenizer.ggml.*): SentencePiece-style
// ("llama": score-driven merges, byte fallback, leading-space handling) and
// byte-level BPE ("gpt2": rank-driven merges after a pre-tokenizer chosen by
// tokenizer.ggml.pre: llama-bpe, qwen2, smollm, ...). Special tokens (control
// and user-defined) are matched whole before the text is split.
//
// Behaviour follows llama.cpp's llama-vocab (the reference the test vectors in
// ../shared/models/vocab were checked against): the same ids for the same
// text, the same pieces, the same end-of-generation set.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace km {

class GgufFile;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Builds the tokenizer the file names; throws km::Error for an unknown model
  // or malformed vocabulary.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);

  // add_special: prepend BOS (and append EOS) where the model's metadata asks
  // for it (tokenizer.ggml.add_bos_token / add_eos_token), as llama.cpp does.
  // parse_special: text like "<|eot_id|>" becomes its special token instead of
  // being split as plain text. (User-defined tokens are matched whole either
  // way; control tokens only with parse_special.)
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;

  // The bytes a token stands for when printed (byte tokens give their byte,
  // SentencePiece's U+2581 gives a space, control tokens give "" unless
  // render_special). Concatenating pieces may split a UTF-8 character.
  virtual std::string piece(int32_t token, bool render_special = false) const = 0;

  // Text of a token sequence, as llama.cpp's detokenize (remove_special off):
  // the pieces joined, minus the one space SentencePiece put in front of the
  // first token (kept when the sequence opens with BOS, as llama.cpp keeps
  // it), and, for tokenizers that ask for it (Llama 3's), the clean-up of
  // spaces before punctuation and contractions. So for SentencePiece,
  // decode(encode(s, false, false)) == s.
  std::string decode(const std::vector<int32_t>& tokens, bool render_special = false) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos() const { return bos_; }  // -1 when the model has none
  int32_t eos() const { return eos_; }
  int32_t unk() const { return unk_; }
  bool add_bos() const { return add_bos_; }
  // End of generation: EOS, EOT, <|im_end|>, ... (every token that ends a turn).
  bool is_eog(int32_t token) const;
  const std::vector<int32_t>& eog_tokens() const { return eog_; }  // ascending ids
  // Control / user-defined / unknown: matched whole, not printed by default.
  bool is_special(int32_t token) const;
  const std::string& text(int32_t token) const { return tokens_.at(static_cast<size_t>(token)); }
  // The id of a token whose text is exactly `text`, -1 when there is none.
  int32_t find(std::string_view text) const;
  const std::string& model() const { return model_; }  // "llama", "gpt2"
  const std::string& pre() const { return pre_; }      // pre-tokenizer name ("default" if none)

 protected:
  Tokenizer() = default;

  // Token attributes, derived as llama.cpp derives them from the token types
  // and a few well-known token texts.
  enum Attr : uint32_t {
    kUndefined = 0,
    kNormal = 1u << 0,
    kUnknown = 1u << 1,
    kControl = 1u << 2,
    kUserDefined = 1u << 3,
    kUnused = 1u << 4,
    kByte = 1u << 5,
    kLstrip = 1u << 6,  // a special token that eats the spaces before it
    kRstrip = 1u << 7,  // ... and after it
  };

  // A stretch of the input: raw text [begin, end) when token < 0, otherwise a
  // special token matched whole.
  struct Fragment {
    int32_t token;
    size_t begin, end;
  };
  // Cuts special tokens out of `text`, longest first, as llama.cpp does.
  std::vector<Fragment> split_specials(std::string_view text, bool parse_special) const;

  // Reads the vocabulary, token types and special-token metadata; the caller
  // has set the model's defaults (bos_, eos_, unk_, add_bos_, ...) first, which
  // the metadata then overrides.
  void load_vocab(const GgufFile& file);
  void build_index();  // index_ from tokens_

  std::string model_;
  std::string pre_;
  std::vector<std::string> tokens_;  // [vocab] token text as stored in the file
  std::vector<int32_t> types_;       // [vocab] 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<uint32_t> attrs_;      // [vocab] Attr bits
  // Token text -> id: open addressing with linear probing over a power-of-two
  // table; a slot holds (high 32 bits of the text's hash) << 32 | (id + 1), 0
  // when empty. Flat, because a node-based map made loading a 128k-token
  // vocabulary and its merges slow (cache misses on every lookup).
  std::vector<uint64_t> index_;
  std::vector<int32_t> specials_;    // control/user-defined/unknown ids, longest text first
  std::vector<int32_t> eog_;         // end-of-generation token ids, ascending
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  int32_t unk_ = -1;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;  // SentencePiece: a space goes before the text
  bool clean_spaces_ = false;      // decode: drop spaces before ?!., and some contractions
};

}  // namespace km
