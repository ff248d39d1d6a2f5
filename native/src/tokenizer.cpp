// What every tokenizer shares: the factory, cutting special tokens out of the
// text before a family's algorithm sees it, and detokenization. Both follow
// llama.cpp (tokenizer_st_partition, detokenize) so that ids and text match
// it exactly, including its choices on whitespace around special tokens.
#include <algorithm>

#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/tokenizer.h"
#include "tokenizer_hash.h"
#include "tokenizer_impl.h"

namespace km {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  const std::string& path = file.path();
  std::string model(file.get_string("tokenizer.ggml.model", ""));
  try {
    if (model == "llama") return std::make_unique<SpmTokenizer>(file);
    if (model == "gpt2") return std::make_unique<BpeTokenizer>(file);
  } catch (const Error& e) {
    // Metadata accessors name the key but not the file: say which file.
    std::string what = e.what();
    if (what.compare(0, path.size(), path) == 0) throw;
    fail("%s: %s", path.c_str(), what.c_str());
  }
  if (model.empty()) fail("%s: no tokenizer.ggml.model: the file carries no tokenizer", path.c_str());
  fail("%s: tokenizer model '%s' is not supported (only 'llama' SentencePiece and 'gpt2' byte-level BPE are)",
       path.c_str(), model.c_str());
}

int32_t Tokenizer::find(std::string_view text) const {
  if (index_.empty()) return -1;
  const uint64_t h = tokhash::text(text), tag = h >> 32, mask = index_.size() - 1;
  for (uint64_t pos = h & mask;; pos = (pos + 1) & mask) {
    const uint64_t slot = index_[pos];
    if (slot == 0) return -1;
    const auto id = static_cast<int32_t>((slot & 0xFFFFFFFFu) - 1);
    if ((slot >> 32) == tag && tokens_[id] == text) return id;
  }
}

void Tokenizer::build_index() {
  index_.assign(tokhash::table_size(tokens_.size()), 0);
  const uint64_t mask = index_.size() - 1;
  for (size_t i = 0; i < tokens_.size(); i++) {
    const uint64_t h = tokhash::text(tokens_[i]), entry = (h >> 32) << 32 | (i + 1);
    // A text that occurs twice maps to its last id, as in llama.cpp: the
    // later entry overwrites the earlier one's slot.
    uint64_t pos = h & mask;
    for (;; pos = (pos + 1) & mask) {
      const uint64_t slot = index_[pos];
      if (slot == 0) break;
      if ((slot >> 32) == (entry >> 32) && tokens_[(slot & 0xFFFFFFFFu) - 1] == tokens_[i]) break;
    }
    index_[pos] = entry;
  }
}

bool Tokenizer::is_eog(int32_t token) const { return std::binary_search(eog_.begin(), eog_.end(), token); }

bool Tokenizer::is_special(int32_t token) const {
  return token >= 0 && token < vocab_size() && (attrs_[token] & (kControl | kUserDefined | kUnknown));
}

namespace {
// C isspace in the "C" locale, as llama.cpp strips around special tokens.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
}  // namespace

std::vector<Tokenizer::Fragment> Tokenizer::split_specials(std::string_view text, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : specials_) {
    const uint32_t attr = attrs_[id];
    // Without parse_special only user-defined tokens are cut out (as Hugging
    // Face does for "added tokens"); control and unknown ones stay text.
    if (!parse_special && (attr & (kControl | kUnknown))) continue;
    const std::string& special = tokens_[id];
    bool found = false;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.begin;
      while (begin < f.end) {
        size_t at = text.substr(0, f.end).find(special, begin);
        if (at == std::string_view::npos) break;
        found = true;
        size_t left_end = at;
        if (attr & kLstrip)
          while (left_end > begin && is_c_space(text[left_end - 1])) left_end--;
        if (left_end > begin) next.push_back({-1, begin, left_end});
        next.push_back({id, at, at + special.size()});
        begin = at + special.size();
        if (attr & kRstrip)
          while (begin < f.end && is_c_space(text[begin])) begin++;
      }
      if (begin < f.end) next.push_back({-1, begin, f.end});
    }
    if (found) frags.swap(next);
  }
  return frags;
}

std::string Tokenizer::decode(const std::vector<int32_t>& tokens, bool render_special) const {
  std::string text;
  // SentencePiece put a space before the text; the first piece gives it back.
  // A leading BOS prints nothing yet still ends this rule, as in llama.cpp.
  bool strip_space = add_space_prefix_;
  for (int32_t t : tokens) {
    std::string p = piece(t, render_special);
    if (strip_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
    strip_space = false;
    text += p;
  }
  if (!clean_spaces_ || text.empty()) return text;

  // Hugging Face's clean_up_tokenization_spaces, in llama.cpp's three passes:
  // " ?" " !" " ." " ," lose the space; a lone "'" between spaces loses both;
  // " 's" " 'm" " 're" " 've" lose the space.
  std::string a;
  a.reserve(text.size());
  a += text[0];
  for (size_t i = 1; i < text.size(); i++) {
    char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a += x;
  }
  std::string b;
  b.reserve(a.size());
  b += a[0];
  bool ate_next = false;  // the space just eaten no longer counts as one
  for (size_t i = 1; i < a.size(); i++) {
    char x = a[i];
    char prev = ate_next ? '\0' : a[i - 1];
    ate_next = false;
    if (x == '\'' && i + 1 < a.size() && prev == ' ' && a[i + 1] == ' ') {
      b.pop_back();  // the space before
      b += x;
      i++;           // and the space after
      ate_next = true;
      continue;
    }
    b += x;
  }
  std::string c;
  c.reserve(b.size());
  c += b[0];
  for (size_t i = 1; i < b.size(); i++) {
    char x = b[i];
    if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      char x1 = b[i + 1];
      char x2 = i + 2 < b.size() ? b[i + 2] : '\0';
      bool drop = x1 == 's' || x1 == 'm' ||
                  (i + 2 < b.size() && ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')));
      if (drop) c.pop_back();
    }
    c += x;
  }
  return c;
}

}  // namespace km
