// SentencePiece BPE as llama.cpp runs it: the text, with spaces escaped to
// U+2581, starts as one symbol per UTF-8 character; a priority queue holds
// every adjacent pair whose concatenation is a token, best score first (the
// leftmost on ties); merging a pair queues the new pairs it forms. A queued
// pair is stale once either side has changed, which shows as a size mismatch
// because symbols only ever grow rightwards. Symbols left that are not tokens
// are spelled with <0xNN> byte tokens.
#include <algorithm>
#include <cstring>
#include <queue>

#include "keymate/error.h"
#include "keymate/gguf.h"
#include "tokenizer_impl.h"
#include "unicode.h"

namespace km {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

struct Symbol {
  size_t offset, size;  // bytes of the escaped text; size 0 once merged away
  int prev, next;       // neighbours in the chain, -1 at the ends
};

struct Bigram {
  int left, right;
  float score;
  size_t size;  // bytes of left + right when queued
};

struct BigramOrder {
  // std::priority_queue pops the greatest: highest score, then leftmost.
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SpmTokenizer::SpmTokenizer(const GgufFile& file) {
  model_ = "llama";
  pre_ = std::string(file.get_string("tokenizer.ggml.pre", "default"));
  // SentencePiece Llama defaults; the metadata overrides them.
  bos_ = 1;
  eos_ = 2;
  unk_ = 0;
  add_bos_ = true;
  add_eos_ = false;
  add_space_prefix_ = true;
  clean_spaces_ = false;
  if (const GgufValue* v = file.find("tokenizer.ggml.add_space_prefix"))
    add_space_prefix_ = v->as_bool("tokenizer.ggml.add_space_prefix");
  load_vocab(file);

  const size_t n = tokens_.size();
  scores_.assign(n, 0.0f);
  if (const GgufValue* s = file.find("tokenizer.ggml.scores")) {
    if (s->kind != GgufKind::ARRAY || (s->item_kind != GgufKind::F32 && s->item_kind != GgufKind::I32))
      fail("%s: tokenizer.ggml.scores is not an array of f32 or i32", file.path().c_str());
    if (s->count < n)
      fail("%s: tokenizer.ggml.scores has %llu entries for %zu tokens", file.path().c_str(),
           (unsigned long long)s->count, n);
    for (size_t i = 0; i < n; i++) {
      if (s->item_kind == GgufKind::F32) {
        memcpy(&scores_[i], s->items + 4 * i, 4);
      } else {
        int32_t v;
        memcpy(&v, s->items + 4 * i, 4);
        scores_[i] = static_cast<float>(v);
      }
    }
  }

  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; b++) {
    const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
    int32_t id = find(name);
    if (id < 0) id = find(std::string(1, static_cast<char>(b)));
    byte_tokens_[b] = id;
  }
}

int32_t SpmTokenizer::byte_token(uint8_t byte) const {
  int32_t id = byte_tokens_[byte];
  if (id >= 0) return id;
  if (unk_ >= 0) return unk_;
  fail("tokenizer: byte 0x%02X has no token (<0x%02X>) and the vocabulary has no <unk>", byte, byte);
}

void SpmTokenizer::encode_text(const std::string& text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    size_t len = std::min(unicode::sequence_length(static_cast<uint8_t>(text[off])), text.size() - off);
    int index = static_cast<int>(symbols.size());
    symbols.push_back({off, len, index - 1, off + len == text.size() ? -1 : index + 1});
    off += len;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    std::string_view pair(text.data() + symbols[left].offset, symbols[left].size + symbols[right].size);
    int32_t id = find(pair);
    if (id < 0) return;
    queue.push({left, right, scores_[id], pair.size()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); i++) try_pair(i - 1, i);

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;  // stale
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_pair(left.prev, b.left);
    try_pair(b.left, left.next);
  }

  // A merged symbol is a token by construction; only single characters can
  // miss the vocabulary, and they are spelled in bytes.
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    std::string_view s(text.data() + symbols[i].offset, symbols[i].size);
    int32_t id = find(s);
    if (id >= 0) {
      out.push_back(id);
    } else {
      for (char c : s) out.push_back(byte_token(static_cast<uint8_t>(c)));
    }
  }
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_) {
    if (bos_ < 0) fail("tokenizer: the model asks for a BOS token but has none");
    out.push_back(bos_);
  }
  // SentencePiece puts a space before the text, and llama.cpp also before
  // any text that follows a special token.
  bool after_special = true;
  std::string escaped;
  for (const Fragment& f : split_specials(text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    escaped.clear();
    if (add_space_prefix_ && after_special) escaped += kSpace;
    for (char c : text.substr(f.begin, f.end - f.begin)) {
      if (c == ' ')
        escaped += kSpace;
      else
        escaped += c;
    }
    encode_text(escaped, out);
    after_special = false;
  }
  if (add_special && add_eos_) {
    if (eos_ < 0) fail("tokenizer: the model asks for an EOS token but has none");
    out.push_back(eos_);
  }
  return out;
}

std::string SpmTokenizer::piece(int32_t token, bool render_special) const {
  if (token < 0 || token >= vocab_size()) fail("tokenizer: token %d is outside the vocabulary of %d", token, vocab_size());
  const uint32_t attr = attrs_[token];
  if (!render_special && (attr & (kUnknown | kControl))) return "";
  const std::string& t = tokens_[token];
  if (attr & (kUnknown | kControl | kUserDefined)) return t;
  if (attr & kNormal) {
    std::string s;
    s.reserve(t.size());
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, kSpace.size(), kSpace) == 0) {
        s += ' ';
        i += kSpace.size();
      } else {
        s += t[i++];
      }
    }
    return s;
  }
  if (attr & kByte) {
    uint8_t byte;
    return parse_byte_token(t, byte) ? std::string(1, static_cast<char>(byte)) : t;
  }
  return "";  // unused or undefined tokens print nothing
}

}  // namespace km
