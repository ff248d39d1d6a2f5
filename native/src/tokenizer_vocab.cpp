// Loading the vocabulary shared by every tokenizer family: token texts, types
// and the special tokens. Which tokens end a generation and which are matched
// whole is not fully written in GGUF files, so, like llama.cpp, we also
// recognise well-known token texts (<|eot_id|>, <|im_end|>, ...) and mark them
// control tokens; keeping llama.cpp's rules keeps its behaviour on every
// model it has been checked against.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/tokenizer.h"

namespace km {

namespace {

// Token types as GGUF stores them (tokenizer.ggml.token_type).
enum TokenType : int32_t { kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6 };

// Texts that name end-of-turn and fill-in-the-middle tokens in the models
// llama.cpp knows; they give the id when the metadata has none.
const char* const kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                 "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                 "<end_of_utterance>"};
const char* const kEomTexts[] = {"<|eom_id|>"};
const char* const kFimPreTexts[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                                    "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>",
                                    "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"};
const char* const kFimSufTexts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                    "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>", "<SUF>",
                                    "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"};
const char* const kFimMidTexts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                    "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>",
                                    "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"};
const char* const kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
const char* const kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
const char* const kFimSepTexts[] = {"<|file_sep|>"};

// Every token text that ends a generation, whatever the metadata says.
const char* const kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                                 "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
                                 "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
                                 "<turn|>", "<|tool_response>",
                                 "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~["};

}  // namespace

void Tokenizer::load_vocab(const GgufFile& file) {
  const char* path = file.path().c_str();
  const GgufValue* list = file.find("tokenizer.ggml.tokens");
  if (!list || list->kind != GgufKind::ARRAY || list->item_kind != GgufKind::STRING)
    fail("%s: tokenizer.ggml.tokens is missing or not an array of strings", path);
  const size_t n = list->strings.size();
  if (n == 0) fail("%s: tokenizer.ggml.tokens is empty", path);
  if (n > static_cast<size_t>(INT32_MAX)) fail("%s: tokenizer.ggml.tokens holds %zu tokens, too many", path, n);

  tokens_.resize(n);
  for (size_t i = 0; i < n; i++) {
    tokens_[i] = std::string(list->strings[i]);
    // An empty token could never be matched; llama.cpp renames it the same way.
    if (tokens_[i].empty()) tokens_[i] = "[EMPTY_" + std::to_string(i) + "]";
  }

  types_.assign(n, kTypeNormal);
  if (const GgufValue* tt = file.find("tokenizer.ggml.token_type")) {
    if (tt->kind != GgufKind::ARRAY || (tt->item_kind != GgufKind::I32 && tt->item_kind != GgufKind::U32))
      fail("%s: tokenizer.ggml.token_type is not an array of 32-bit integers", path);
    if (tt->count < n)
      fail("%s: tokenizer.ggml.token_type has %llu entries for %zu tokens", path, (unsigned long long)tt->count, n);
    for (size_t i = 0; i < n; i++) memcpy(&types_[i], tt->items + 4 * i, 4);
  }
  attrs_.resize(n);
  for (size_t i = 0; i < n; i++) {
    switch (types_[i]) {
      case kTypeNormal: attrs_[i] = kNormal; break;
      case kTypeUnknown: attrs_[i] = kUnknown; break;
      case kTypeControl: attrs_[i] = kControl; break;
      case kTypeUserDefined: attrs_[i] = kUserDefined; break;
      case kTypeUnused: attrs_[i] = kUnused; break;
      case kTypeByte: attrs_[i] = kByte; break;
      default: attrs_[i] = kUndefined; break;  // never matched, never printed
    }
  }

  build_index();

  // Special ids: the family's defaults, disabled when outside the vocabulary,
  // then the metadata's (an out-of-range one is ignored).
  const auto vocab = static_cast<int64_t>(n);
  auto read_id = [&](const char* key, int32_t& id) {
    if (id >= vocab) id = -1;
    const GgufValue* v = file.find(key);
    if (!v) return;
    int64_t x = v->as_int(key);
    if (x >= 0 && x < vocab) id = static_cast<int32_t>(x);
  };
  int32_t eot = -1, eom = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  read_id("tokenizer.ggml.bos_token_id", bos_);
  read_id("tokenizer.ggml.eos_token_id", eos_);
  read_id("tokenizer.ggml.eot_token_id", eot);
  read_id("tokenizer.ggml.eom_token_id", eom);
  read_id("tokenizer.ggml.unknown_token_id", unk_);
  read_id("tokenizer.ggml.fim_pre_token_id", fim_pre);
  read_id("tokenizer.ggml.fim_suf_token_id", fim_suf);
  read_id("tokenizer.ggml.fim_mid_token_id", fim_mid);
  read_id("tokenizer.ggml.fim_pad_token_id", fim_pad);
  read_id("tokenizer.ggml.fim_rep_token_id", fim_rep);
  read_id("tokenizer.ggml.fim_sep_token_id", fim_sep);
  read_id("tokenizer.ggml.prefix_token_id", fim_pre);  // older names of the same
  read_id("tokenizer.ggml.suffix_token_id", fim_suf);
  read_id("tokenizer.ggml.middle_token_id", fim_mid);

  if (const GgufValue* v = file.find("tokenizer.ggml.add_bos_token")) add_bos_ = v->as_bool("tokenizer.ggml.add_bos_token");
  if (const GgufValue* v = file.find("tokenizer.ggml.add_eos_token")) add_eos_ = v->as_bool("tokenizer.ggml.add_eos_token");

  // Recognise end-of-turn and fill-in-the-middle tokens by text when the
  // metadata does not name them (the lowest id of those present); whatever
  // is recognised is a control token.
  auto detect = [&](int32_t& id, const auto& texts) {
    if (id >= 0) return;
    for (const char* t : texts) {
      int32_t found = find(t);
      if (found >= 0 && (id < 0 || found < id)) id = found;
    }
    if (id >= 0) attrs_[id] |= kControl;
  };
  detect(eot, kEotTexts);
  detect(eom, kEomTexts);
  detect(fim_pre, kFimPreTexts);
  detect(fim_suf, kFimSufTexts);
  detect(fim_mid, kFimMidTexts);
  detect(fim_pad, kFimPadTexts);
  detect(fim_rep, kFimRepTexts);
  detect(fim_sep, kFimSepTexts);

  std::set<int32_t> eog;
  for (int32_t id : {fim_pad, fim_rep, fim_sep})
    if (id >= 0) eog.insert(id);
  for (const char* t : kEogTexts) {
    if (int32_t id = find(t); id >= 0) {
      eog.insert(id);
      attrs_[id] |= kControl;
    }
  }
  // gpt-oss's structural tokens are printed like text.
  for (const char* t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})
    if (int32_t id = find(t); id >= 0) attrs_[id] = kUserDefined;
  for (int32_t id : {eos_, eot, eom})
    if (id >= 0) eog.insert(id);

  // gpt-oss and Solar Open end a message with <|end|> but keep going after
  // it; they are recognised by their <|return|>/<|call|> (<|calls|>/<|flush|>).
  auto in_eog = [&](const char* t) { int32_t id = find(t); return id >= 0 && eog.count(id) > 0; };
  const bool has_call = in_eog("<|call|>") || in_eog("<|calls|>");
  if (in_eog("<|end|>") && has_call && (in_eog("<|return|>") || in_eog("<|flush|>"))) {
    int32_t end = find("<|end|>");
    eog.erase(end);
    attrs_[end] = kUserDefined;
  }
  // Gemma 4 ends turns with <|tool_response> / <turn|>; its </s> is text.
  if (in_eog("<|tool_response>") && in_eog("</s>")) {
    int32_t s = find("</s>");
    eog.erase(s);
    attrs_[s] = kNormal;
  }
  eog_.assign(eog.begin(), eog.end());

  // Specials are matched longest first so that "<|im_end|>" wins over a
  // shorter token it contains; equal lengths keep id order (stable).
  specials_.clear();
  for (size_t i = 0; i < n; i++)
    if (attrs_[i] & (kControl | kUserDefined | kUnknown)) specials_.push_back(static_cast<int32_t>(i));
  std::stable_sort(specials_.begin(), specials_.end(),
                   [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });

  // Phi-3's special tokens swallow the whitespace after them (its
  // tokenizer.json says rstrip), except the few that open or close a text.
  std::string name(file.get_string("general.name", ""));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : specials_) attrs_[id] |= kRstrip;
    if (int32_t id = find("</s>"); id >= 0) attrs_[id] |= kRstrip;
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"})
      if (int32_t id = find(t); id >= 0) attrs_[id] &= ~uint32_t(kRstrip);
  }
}

}  // namespace km
