// A minimal JSON reader for test fixtures (golden files): values, arrays,
// objects, strings with escapes (\uXXXX and surrogate pairs to UTF-8),
// numbers as double. Throws std::runtime_error with the byte offset on bad
// input. Not for the engine: fixtures only, so it favours brevity over speed.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kt {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  bool has(const std::string& k) const { return kind == Object && fields.count(k) != 0; }
  const Json& operator[](const std::string& k) const {
    if (kind != Object) throw std::runtime_error("json: not an object (looking for '" + k + "')");
    auto it = fields.find(k);
    if (it == fields.end()) throw std::runtime_error("json: no field '" + k + "'");
    return it->second;
  }
  const Json& operator[](size_t i) const {
    if (kind != Array || i >= items.size()) throw std::runtime_error("json: no item " + std::to_string(i));
    return items[i];
  }
  size_t size() const { return kind == Array ? items.size() : fields.size(); }
  const std::string& as_string() const {
    if (kind != String) throw std::runtime_error("json: not a string");
    return str;
  }
  double as_number() const {
    if (kind != Number) throw std::runtime_error("json: not a number");
    return num;
  }
  template <typename T>
  std::vector<T> as_vector() const {
    if (kind != Array) throw std::runtime_error("json: not an array");
    std::vector<T> out;
    for (const auto& v : items) out.push_back(static_cast<T>(v.as_number()));
    return out;
  }

  static Json parse(const std::string& text) {
    size_t at = 0;
    Json v = parse_value(text, at);
    skip_ws(text, at);
    if (at != text.size()) fail(at, "trailing characters");
    return v;
  }
  static Json parse_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    try {
      return parse(ss.str());
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": " + e.what());
    }
  }

 private:
  [[noreturn]] static void fail(size_t at, const std::string& what) {
    throw std::runtime_error("json: " + what + " at byte " + std::to_string(at));
  }
  static void skip_ws(const std::string& s, size_t& at) {
    while (at < s.size() && (s[at] == ' ' || s[at] == '\n' || s[at] == '\r' || s[at] == '\t')) at++;
  }
  static void expect(const std::string& s, size_t& at, const char* word) {
    for (const char* p = word; *p; p++, at++)
      if (at >= s.size() || s[at] != *p) fail(at, std::string("expected '") + word + "'");
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  static unsigned hex4(const std::string& s, size_t& at) {
    if (at + 4 > s.size()) fail(at, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++, at++) {
      const char c = s[at];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail(at, "bad \\u escape");
    }
    return v;
  }
  static std::string parse_string(const std::string& s, size_t& at) {
    if (s[at] != '"') fail(at, "expected a string");
    at++;
    std::string out;
    while (true) {
      if (at >= s.size()) fail(at, "unterminated string");
      const char c = s[at++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at >= s.size()) fail(at, "unterminated escape");
      const char e = s[at++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4(s, at);
          if (cp >= 0xD800 && cp < 0xDC00 && at + 1 < s.size() && s[at] == '\\' && s[at + 1] == 'u') {
            at += 2;
            const unsigned lo = hex4(s, at);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: fail(at, "bad escape");
      }
    }
  }
  static Json parse_value(const std::string& s, size_t& at) {
    skip_ws(s, at);
    if (at >= s.size()) fail(at, "unexpected end");
    Json v;
    const char c = s[at];
    if (c == '{') {
      v.kind = Object;
      at++;
      skip_ws(s, at);
      if (at < s.size() && s[at] == '}') { at++; return v; }
      while (true) {
        skip_ws(s, at);
        std::string key = parse_string(s, at);
        skip_ws(s, at);
        expect(s, at, ":");
        v.fields[key] = parse_value(s, at);
        skip_ws(s, at);
        if (at < s.size() && s[at] == ',') { at++; continue; }
        expect(s, at, "}");
        return v;
      }
    }
    if (c == '[') {
      v.kind = Array;
      at++;
      skip_ws(s, at);
      if (at < s.size() && s[at] == ']') { at++; return v; }
      while (true) {
        v.items.push_back(parse_value(s, at));
        skip_ws(s, at);
        if (at < s.size() && s[at] == ',') { at++; continue; }
        expect(s, at, "]");
        return v;
      }
    }
    if (c == '"') {
      v.kind = String;
      v.str = parse_string(s, at);
      return v;
    }
    if (c == 't') { expect(s, at, "true"); v.kind = Bool; v.b = true; return v; }
    if (c == 'f') { expect(s, at, "false"); v.kind = Bool; return v; }
    if (c == 'n') { expect(s, at, "null"); return v; }
    const char* begin = s.c_str() + at;
    char* end = nullptr;
    v.num = std::strtod(begin, &end);
    if (end == begin) fail(at, "unexpected character");
    at += static_cast<size_t>(end - begin);
    v.kind = Number;
    return v;
  }
};

}  // namespace kt
