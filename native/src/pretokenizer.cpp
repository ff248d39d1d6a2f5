// The scanners behind each pre-tokenizer regex. Each one walks a piece of text
// left to right and, at every position, tries the regex's alternatives in
// order, as a backtracking regex engine would; "no match here" makes the
// character a word of its own, as the text between two regex matches is. A
// position outside the piece has class 0, which ends every run.
#include "pretokenizer.h"

#include "unicode.h"

namespace km {

namespace u = unicode;

namespace {

// One piece of text [begin, end) of the code points, and the words cut from it.
class Scanner {
 public:
  Scanner(const std::vector<uint32_t>& cps, size_t begin, size_t end, std::vector<size_t>& out)
      : cps_(cps), begin_(begin), end_(end), last_(begin), out_(out) {}

  static constexpr uint32_t kNone = 0xFFFFFFFF;
  uint32_t cp(size_t p) const { return p >= begin_ && p < end_ ? cps_[p] : kNone; }
  uint16_t cls(size_t p) const { return p >= begin_ && p < end_ ? u::classes(cps_[p]) : 0; }
  bool in(size_t p) const { return p < end_; }
  size_t end() const { return end_; }

  // Ends the current word at `p` (nothing when it would be empty).
  void cut(size_t p) {
    if (p > last_) out_.push_back(p - last_);
    last_ = p;
  }

 private:
  const std::vector<uint32_t>& cps_;
  size_t begin_, end_, last_;
  std::vector<size_t>& out_;
};

constexpr uint16_t kWordish = u::kWhitespace | u::kLetter | u::kNumber;

bool is_newline(uint32_t c) { return c == '\r' || c == '\n'; }

// Only ASCII letters lower-case to the letters of the contractions, so the
// case-insensitive match needs no Unicode case table.
uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's|'t|'re|'ve|'m|'ll|'d at p (p holds the apostrophe): returns the length
// matched, 0 when none.
size_t contraction(const Scanner& s, size_t p, bool ignore_case) {
  if (s.cp(p) != '\'' || !s.in(p + 1)) return 0;
  auto low = [&](size_t q) { return ignore_case ? ascii_lower(s.cp(q)) : s.cp(q); };
  uint32_t a = low(p + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (!s.in(p + 2)) return 0;
  uint32_t b = low(p + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// The tail shared by the GPT-2 family: \s+(?!\S) then (when `any_space`) \s+;
// otherwise a lone character. Returns the new position.
size_t whitespace_tail(Scanner& s, size_t p, bool newline_runs) {
  size_t n = 0, after_newline = 0;
  while (s.cls(p + n) & u::kWhitespace) {
    if (newline_runs && is_newline(s.cp(p + n))) after_newline = p + n + 1;
    n++;
  }
  if (after_newline) {  // \s*[\r\n]+ : up to the last newline of the run
    s.cut(after_newline);
    return after_newline;
  }
  if (n > 1 && s.in(p + n)) {  // \s+(?!\S) : leave one space for the next word
    s.cut(p + n - 1);
    return p + n - 1;
  }
  if (n > 0) {  // \s+ (or \s+(?!\S) at the end of the piece)
    s.cut(p + n);
    return p + n;
  }
  s.cut(p + 1);  // no alternative matches: the character stands alone
  return p + 1;
}

void split_gpt2(Scanner& s, size_t p) {
  while (p < s.end()) {
    if (size_t n = contraction(s, p, false)) {
      s.cut(p + n);
      p += n;
      continue;
    }
    const uint32_t c = s.cp(p);
    // " ?X+" : an optional space joins the run of class X that follows it.
    const uint16_t next = c == ' ' ? s.cls(p + 1) : s.cls(p);
    auto run = [&](auto member) {
      p += c == ' ';
      while (member(s.cls(p))) p++;
      s.cut(p);
    };
    if (next & u::kLetter) {
      run([](uint16_t k) { return (k & u::kLetter) != 0; });
    } else if (next & u::kNumber) {
      run([](uint16_t k) { return (k & u::kNumber) != 0; });
    } else if (next && !(next & kWordish)) {
      run([](uint16_t k) { return k && !(k & kWordish); });
    } else {
      p = whitespace_tail(s, p, false);
    }
  }
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1).
void split_llama3(Scanner& s, size_t p, size_t max_digits) {
  while (p < s.end()) {
    if (size_t n = contraction(s, p, true)) {
      s.cut(p + n);
      p += n;
      continue;
    }
    const uint32_t c = s.cp(p);
    const uint16_t k = s.cls(p);
    // [^\r\n\p{L}\p{N}]?\p{L}+ : one leading non-letter (not a newline or a
    // digit) may open a run of letters.
    if (!is_newline(c) && !(k & u::kNumber) && ((k & u::kLetter) || (s.cls(p + 1) & u::kLetter))) {
      p++;
      while (s.cls(p) & u::kLetter) p++;
      s.cut(p);
      continue;
    }
    // \p{N}{1,max} : digits in groups of at most max_digits, from the left.
    if (k & u::kNumber) {
      size_t group = p;
      while (s.cls(p) & u::kNumber) {
        if (++p - group >= max_digits) {
          s.cut(p);
          group = p;
        }
      }
      s.cut(p);
      continue;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*" : punctuation and symbols, newlines after.
    const uint16_t next = c == ' ' ? s.cls(p + 1) : k;
    if (!(next & kWordish)) {
      p += c == ' ';
      while (s.cls(p) && !(s.cls(p) & kWordish)) p++;
      while (is_newline(s.cp(p))) p++;
      s.cut(p);
      continue;
    }
    p = whitespace_tail(s, p, true);
  }
}

// GPT-4o (Phi-4-mini, Llama 4), as llama.cpp runs it: its tokenizer.json
// regex splits letter runs by case with \p{Lu}/\p{Ll}; llama.cpp's form, which
// this follows, reads an upper-case-like letter as "a letter but not a-z" and
// a lower-case-like one as "a letter but not A-Z" (so a letter outside ASCII
// is both), and leaves \p{M} out of the letter runs:
//   [^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with C the contractions 's 't 're 've 'm 'll 'd in either case.
bool gpt4o_upper(const Scanner& s, size_t p) {
  const uint32_t c = s.cp(p);
  return (s.cls(p) & u::kLetter) && !(c >= 'a' && c <= 'z');
}
bool gpt4o_lower(const Scanner& s, size_t p) {
  const uint32_t c = s.cp(p);
  return (s.cls(p) & u::kLetter) && !(c >= 'A' && c <= 'Z');
}

// Where U*L+ (else U+L*) starting at q ends, as a backtracking regex engine
// finds it; q holds a letter.
size_t gpt4o_letters(const Scanner& s, size_t q) {
  size_t u = q;
  while (gpt4o_upper(s, u)) u++;
  // U*L+: the greedy U* first; when no L follows, U* gives back letters
  // until one of them can start L+.
  for (size_t k = u + 1; k-- > q;) {
    if (!gpt4o_lower(s, k)) continue;
    size_t e = k;
    while (gpt4o_lower(s, e)) e++;
    return e;
  }
  return u;  // U+L*: every letter was upper-case-like (u > q), none lower-case-like after them
}

void split_gpt4o(Scanner& s, size_t p) {
  while (p < s.end()) {
    const uint32_t c = s.cp(p);
    const uint16_t k = s.cls(p);
    if ((k & u::kLetter) || (!is_newline(c) && !(k & u::kNumber) && (s.cls(p + 1) & u::kLetter))) {
      size_t e = gpt4o_letters(s, (k & u::kLetter) ? p : p + 1);
      e += contraction(s, e, true);
      s.cut(e);
      p = e;
      continue;
    }
    if (k & u::kNumber) {  // \p{N}{1,3}
      size_t n = 0;
      while (n < 3 && (s.cls(p + n) & u::kNumber)) n++;
      s.cut(p + n);
      p += n;
      continue;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n/]*"
    const uint16_t next = c == ' ' ? s.cls(p + 1) : k;
    if (next && !(next & kWordish)) {
      p += c == ' ';
      while (s.cls(p) && !(s.cls(p) & kWordish)) p++;
      while (is_newline(s.cp(p)) || s.cp(p) == '/') p++;
      s.cut(p);
      continue;
    }
    p = whitespace_tail(s, p, true);
  }
}

// Stages that isolate the matches of a simple character-class regex; the text
// between matches stays as it is, one word per gap.
template <typename Member>
void isolate_runs(Scanner& s, size_t p, bool single, Member member) {
  while (p < s.end()) {
    if (member(s.cp(p))) {
      s.cut(p);
      size_t q = p + 1;
      if (!single)
        while (q < s.end() && member(s.cp(q))) q++;
      s.cut(q);
      p = q;
    } else {
      p++;
    }
  }
  s.cut(s.end());
}

bool is_number(uint32_t c) { return (u::classes(c) & u::kNumber) != 0; }

// [\p{P}\$\+<=>\^~\|] : punctuation and the ASCII symbols GPT-2 grouped with it.
bool is_punct_like(uint32_t c) {
  if (c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' || c == '|') return true;
  uint16_t k = u::classes(c);
  return (k & u::kPunctuation) && !(k & u::kWhitespace);
}

// [0-9][0-9][0-9] : leftmost non-overlapping triples of ASCII digits.
void isolate_digit_triples(Scanner& s, size_t p) {
  auto digit = [&](size_t q) { uint32_t c = s.cp(q); return c >= '0' && c <= '9'; };
  while (p < s.end()) {
    if (digit(p) && digit(p + 1) && digit(p + 2)) {
      s.cut(p);
      s.cut(p + 3);
      p += 3;
    } else {
      p++;
    }
  }
  s.cut(s.end());
}

enum class Stage { kGpt2, kLlama3, kQwen2, kGpt4o, kNumberEach, kNumberRuns, kPunctRuns, kDigitTriples };

void run_stage(Stage stage, const std::vector<uint32_t>& cps, const std::vector<size_t>& in, std::vector<size_t>& out) {
  out.clear();
  out.reserve(in.size() * 2);
  size_t begin = 0;
  for (size_t len : in) {
    Scanner s(cps, begin, begin + len, out);
    switch (stage) {
      case Stage::kGpt2: split_gpt2(s, begin); break;
      case Stage::kLlama3: split_llama3(s, begin, 3); break;
      case Stage::kQwen2: split_llama3(s, begin, 1); break;
      case Stage::kGpt4o: split_gpt4o(s, begin); break;
      case Stage::kNumberEach: isolate_runs(s, begin, true, is_number); break;
      case Stage::kNumberRuns: isolate_runs(s, begin, false, is_number); break;
      case Stage::kPunctRuns: isolate_runs(s, begin, false, is_punct_like); break;
      case Stage::kDigitTriples: isolate_digit_triples(s, begin); break;
    }
    begin += len;
  }
}

std::vector<Stage> stages_of(Pretokenizer kind) {
  switch (kind) {
    case Pretokenizer::kGpt2: return {Stage::kGpt2};
    case Pretokenizer::kLlama3: return {Stage::kLlama3};
    case Pretokenizer::kQwen2: return {Stage::kQwen2};
    case Pretokenizer::kGpt4o: return {Stage::kGpt4o};
    case Pretokenizer::kStarcoder: return {Stage::kNumberEach, Stage::kGpt2};
    case Pretokenizer::kDefault: return {Stage::kPunctRuns, Stage::kGpt2, Stage::kNumberRuns, Stage::kDigitTriples};
  }
  return {};
}

}  // namespace

std::vector<size_t> pretokenize(Pretokenizer kind, const std::vector<uint32_t>& cps) {
  std::vector<size_t> words;
  if (cps.empty()) return words;
  words.push_back(cps.size());
  std::vector<size_t> next;
  for (Stage stage : stages_of(kind)) {
    run_stage(stage, cps, words, next);
    words.swap(next);
  }
  return words;
}

}  // namespace km
