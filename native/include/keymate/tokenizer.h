// Tokenizers read from GGUF metadata (tokenizer.ggml.*): SentencePiece-style
// ("llama": score-driven merges, byte fallback, leading-space handling) and
// byte-level BPE ("gpt2": rank-driven merges after a pre-tokenizer chosen by
// tokenizer.ggml.pre: llama-bpe, qwen2, smollm, ...). Special tokens (control
// and user-defined) are matched whole before the text is split.
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

  // Builds the tokenizer the file names; throws km::Error for an unknown model
  // or malformed vocabulary.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);

  // add_special: prepend BOS (and append EOS) where the model's metadata asks
  // for it (tokenizer.ggml.add_bos_token / add_eos_token), as llama.cpp does.
  // parse_special: text like "<|eot_id|>" becomes its special token instead of
  // being split as plain text.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;

  // The bytes a token stands for when printed (byte tokens give their byte,
  // SentencePiece's U+2581 gives a space, control tokens give "" unless
  // render_special). Concatenating pieces may split a UTF-8 character.
  virtual std::string piece(int32_t token, bool render_special = false) const = 0;

  std::string decode(const std::vector<int32_t>& tokens, bool render_special = false) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos() const { return bos_; }  // -1 when the model has none
  int32_t eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  // End of generation: EOS, EOT, <|im_end|>, ... (every token that ends a turn).
  bool is_eog(int32_t token) const;
  const std::string& text(int32_t token) const { return tokens_.at(static_cast<size_t>(token)); }
  const std::string& model() const { return model_; }  // "llama", "gpt2"
  const std::string& pre() const { return pre_; }      // pre-tokenizer name ("default" if none)

 protected:
  std::string model_;
  std::string pre_;
  std::vector<std::string> tokens_;  // [vocab] token text as stored in the file
  std::vector<int32_t> types_;       // [vocab] 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<int32_t> eog_;         // end-of-generation token ids
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  bool add_bos_ = false;
  bool add_eos_ = false;
};

}  // namespace km
