// Byte-level BPE as GPT-2 defined it and llama.cpp runs it. Each word from
// the pre-tokenizer is re-spelled with one printable stand-in per byte; its
// symbols start as single stand-ins; a priority queue holds adjacent pairs
// that tokenizer.ggml.merges lists, lowest rank first (leftmost on ties), and
// merging a pair queues the pairs it newly forms. A queued pair is stale once
// either side has changed (its byte size no longer matches). Symbols that end
// up as no token fall back to one token per byte when the vocabulary has one.
#include <algorithm>

#include "keymate/error.h"
#include "keymate/gguf.h"
#include "tokenizer_impl.h"
#include "unicode.h"

namespace km {

namespace {

// What tokenizer.ggml.pre implies, from llama.cpp's table of known names.
struct Preset {
  Pretokenizer kind;
  bool ignore_merges;  // a word that is a whole token is not merged (Llama 3)
  bool add_bos;        // default for tokenizer.ggml.add_bos_token
  bool clean_spaces;   // decode drops spaces before punctuation
};

struct PresetNames {
  std::vector<const char*> names;
  Preset preset;
};

const std::vector<PresetNames>& presets() {
  using P = Pretokenizer;
  static const std::vector<PresetNames> table = {
      {{"default"}, {P::kDefault, false, false, true}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
       {P::kLlama3, true, true, true}},
      {{"dbrx", "smaug-bpe"}, {P::kLlama3, false, false, true}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"},
       {P::kQwen2, false, false, false}},
      {{"megrez", "stablelm2"}, {P::kQwen2, false, false, true}},
      {{"smollm", "command-r"}, {P::kStarcoder, false, false, false}},
      {{"gpt-4o", "llama4", "kanana2", "talkie"}, {P::kGpt4o, false, false, false}},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"}, {P::kStarcoder, false, false, true}},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "exaone4", "mpt", "olmo", "jais"},
       {P::kGpt2, false, false, true}},
      {{"trillion", "granite-docling"}, {P::kGpt2, false, false, false}},
  };
  return table;
}

struct Symbol {
  size_t offset, size;  // bytes of the word; size 0 once merged away
  int prev, next;
  int32_t id;           // the token its text is, -1 when none
};

struct Bigram {
  int left, right;
  int32_t rank;
  size_t size;
};

// Heap order (std::push_heap keeps the greatest on top): a pair ranks below
// another when its merge rank is larger, or on a tie when it lies further right.
bool lower_priority(const Bigram& a, const Bigram& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

}  // namespace

struct BpeTokenizer::Scratch {
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
  std::string key;   // "left right" being looked up in text_ranks_
  std::string word;  // the word in byte stand-ins
};

BpeTokenizer::BpeTokenizer(const GgufFile& file) {
  const char* path = file.path().c_str();
  model_ = "gpt2";
  pre_ = std::string(file.get_string("tokenizer.ggml.pre", ""));
  if (pre_.empty()) pre_ = "default";  // llama.cpp warns and uses its fallback regexes
  const Preset* preset = nullptr;
  for (const auto& p : presets())
    for (const char* name : p.names)
      if (pre_ == name) preset = &p.preset;
  if (!preset)
    fail("%s: pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported; known: llama-bpe, qwen2, gpt-4o, "
         "smollm, gpt-2, starcoder and their aliases", path, pre_.c_str());
  pretokenizer_ = preset->kind;
  ignore_merges_ = preset->ignore_merges;

  // GPT-2's defaults (token 11 is not always meaningful, as in llama.cpp; the
  // metadata of real models overrides it).
  bos_ = 11;
  eos_ = 11;
  unk_ = -1;
  add_bos_ = preset->add_bos;
  add_eos_ = false;
  add_space_prefix_ = false;
  clean_spaces_ = preset->clean_spaces;
  if (const GgufValue* v = file.find("tokenizer.ggml.add_space_prefix"))
    add_space_prefix_ = v->as_bool("tokenizer.ggml.add_space_prefix");
  load_vocab(file);

  const GgufValue* merges = file.find("tokenizer.ggml.merges");
  if (!merges || merges->kind != GgufKind::ARRAY || merges->item_kind != GgufKind::STRING)
    fail("%s: tokenizer.ggml.merges is missing or not an array of strings: a gpt2 tokenizer needs its merges", path);
  pair_ranks_.reserve(merges->strings.size());
  for (size_t i = 0; i < merges->strings.size(); i++) {
    std::string_view m = merges->strings[i];
    // "left right"; stand-ins never include a raw space, so the first space
    // after the first character separates the two.
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) continue;  // malformed: can never apply
    const auto r = static_cast<int32_t>(i);
    int32_t left = find(m.substr(0, sp)), right = find(m.substr(sp + 1));
    // The first rank of a duplicate merge wins, as in llama.cpp.
    if (left >= 0 && right >= 0)
      pair_ranks_.insert(uint64_t(uint32_t(left)) << 32 | uint32_t(right), r);
    else
      text_ranks_.emplace(std::string(m), r);
  }
}

void BpeTokenizer::encode_word(const std::string& word, Scratch& s, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    int32_t id = find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  auto& symbols = s.symbols;
  auto& heap = s.heap;
  symbols.clear();
  heap.clear();
  for (size_t off = 0; off < word.size();) {
    size_t len = std::min(unicode::sequence_length(static_cast<uint8_t>(word[off])), word.size() - off);
    int index = static_cast<int>(symbols.size());
    symbols.push_back({off, len, index - 1, off + len == word.size() ? -1 : index + 1,
                       find(std::string_view(word.data() + off, len))});
    off += len;
  }
  auto text = [&](int i) { return std::string_view(word.data() + symbols[i].offset, symbols[i].size); };
  auto rank = [&](int left, int right) -> int32_t {
    const int32_t l = symbols[left].id, r = symbols[right].id;
    if (l >= 0 && r >= 0) {
      return pair_ranks_.find(uint64_t(uint32_t(l)) << 32 | uint32_t(r));
    }
    if (text_ranks_.empty()) return -1;
    s.key.assign(text(left));
    s.key += ' ';
    s.key += text(right);
    auto it = text_ranks_.find(s.key);
    return it == text_ranks_.end() ? -1 : it->second;
  };
  auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    int32_t r = rank(left, right);
    if (r < 0) return;
    heap.push_back({left, right, r, symbols[left].size + symbols[right].size});
    std::push_heap(heap.begin(), heap.end(), lower_priority);
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); i++) try_pair(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), lower_priority);
    Bigram b = heap.back();
    heap.pop_back();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;  // stale
    left.size += right.size;
    right.size = 0;
    left.id = find(text(b.left));
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_pair(left.prev, b.left);
    try_pair(b.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    if (symbols[i].id >= 0) {
      out.push_back(symbols[i].id);
      continue;
    }
    std::string_view t = text(i);
    // A symbol no token covers (a merge whose result is missing from the
    // vocabulary): llama.cpp emits the tokens of its single bytes that exist.
    for (char c : t) {
      int32_t b = find(std::string_view(&c, 1));
      if (b >= 0) out.push_back(b);
    }
  }
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_) {
    if (bos_ < 0) fail("tokenizer: the model asks for a BOS token but has none");
    out.push_back(bos_);
  }
  Scratch scratch;
  for (const Fragment& f : split_specials(text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      continue;
    }
    const std::vector<uint32_t> cps = unicode::decode_utf8(text.substr(f.begin, f.end - f.begin));
    size_t at = 0;
    std::string utf8;
    for (size_t len : pretokenize(pretokenizer_, cps)) {
      // The word's UTF-8 (malformed input already became U+FFFD), each byte
      // replaced by its stand-in.
      utf8.clear();
      for (size_t k = at; k < at + len; k++) unicode::append_utf8(utf8, cps[k]);
      at += len;
      scratch.word.clear();
      for (char c : utf8) scratch.word += unicode::byte_to_unicode(static_cast<uint8_t>(c));
      encode_word(scratch.word, scratch, out);
    }
  }
  if (add_special && add_eos_) {
    if (eos_ < 0) fail("tokenizer: the model asks for an EOS token but has none");
    out.push_back(eos_);
  }
  return out;
}

std::string BpeTokenizer::piece(int32_t token, bool render_special) const {
  if (token < 0 || token >= vocab_size()) fail("tokenizer: token %d is outside the vocabulary of %d", token, vocab_size());
  const uint32_t attr = attrs_[token];
  if (!render_special && (attr & (kUnknown | kControl))) return "";
  const std::string& t = tokens_[token];
  if (attr & (kUnknown | kControl | kUserDefined)) return t;
  if (uint8_t byte; (attr & kByte) && parse_byte_token(t, byte)) return std::string(1, static_cast<char>(byte));
  if (attr & (kNormal | kByte)) {
    // Stand-ins back to bytes. A character that is no stand-in cannot come
    // from a real byte-level vocabulary; it is shown as its UTF-8, flagged.
    std::string bytes;
    for (uint32_t cp : unicode::decode_utf8(t)) {
      int b = unicode::unicode_to_byte(cp);
      if (b >= 0) {
        bytes += static_cast<char>(b);
      } else {
        std::string u;
        unicode::append_utf8(u, cp);
        bytes += "[UNK_BYTE_0x";
        for (unsigned char c : u) bytes += format("%02x", c);
        bytes += "]";
      }
    }
    return bytes;
  }
  return "";  // unused or undefined tokens print nothing
}

}  // namespace km
