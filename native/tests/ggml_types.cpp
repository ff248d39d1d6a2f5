// Tensor-type decoding checked against llama.cpp. The fixtures under
// tests/fixtures/ggml_types/ were made by scripts/reference/dequant_reference.py
// with llama.cpp's own gguf-py: the decoded floats of every tensor of the shared
// models (hash, head, sums), random blocks of the types no shared model holds,
// and numpy's fp16 conversions. Decoding is exact float arithmetic, so every
// comparison here is bit for bit.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "keymate/error.h"
#include "keymate/formats.h"
#include "keymate/ggml_types.h"
#include "keymate/gguf.h"
#include "keymate/half.h"
#include "test.h"

namespace {

// ---- just enough JSON for the fixtures (trusted input, written by our script) --------
struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  const Json& operator[](const std::string& key) const {
    for (const auto& kv : obj)
      if (kv.first == key) return kv.second;
    throw std::runtime_error("fixture: no field " + key);
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    ws();
    if (p_ != s_.size()) bad("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void bad(const char* what) { throw std::runtime_error(std::string("fixture JSON: ") + what); }
  void ws() { while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) p_++; }
  bool eat(char c) {
    ws();
    if (p_ < s_.size() && s_[p_] == c) { p_++; return true; }
    return false;
  }
  std::string string() {
    if (!eat('"')) bad("expected a string");
    std::string out;
    while (p_ < s_.size() && s_[p_] != '"') {
      if (s_[p_] == '\\') {
        if (++p_ >= s_.size()) bad("bad escape");
        char e = s_[p_];
        if (e == 'u') bad("\\u escapes are not used by the fixtures");
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += s_[p_];
      }
      p_++;
    }
    if (p_ >= s_.size()) bad("unterminated string");
    p_++;
    return out;
  }
  Json value() {
    ws();
    if (p_ >= s_.size()) bad("unexpected end");
    Json v;
    char c = s_[p_];
    if (c == '{') {
      p_++;
      v.kind = Json::Obj;
      if (eat('}')) return v;
      do {
        std::string k = string();
        if (!eat(':')) bad("expected ':'");
        v.obj.emplace_back(k, value());
      } while (eat(','));
      if (!eat('}')) bad("expected '}'");
    } else if (c == '[') {
      p_++;
      v.kind = Json::Arr;
      if (eat(']')) return v;
      do v.arr.push_back(value());
      while (eat(','));
      if (!eat(']')) bad("expected ']'");
    } else if (c == '"') {
      v.kind = Json::Str;
      v.str = string();
    } else if (s_.compare(p_, 4, "true") == 0 || s_.compare(p_, 5, "false") == 0) {
      v.kind = Json::Bool;
      v.num = s_[p_] == 't';
      p_ += s_[p_] == 't' ? 4 : 5;
    } else if (s_.compare(p_, 4, "null") == 0) {
      p_ += 4;
    } else {
      const char* begin = s_.c_str() + p_;
      char* end = nullptr;
      v.kind = Json::Num;
      v.num = std::strtod(begin, &end);
      if (end == begin) bad("bad number");
      p_ += static_cast<size_t>(end - begin);
    }
    return v;
  }
  const std::string& s_;
  size_t p_ = 0;
};

Json load_fixture(const std::string& name) {
  std::string path = kt::fixtures_dir() + "/ggml_types/" + name;
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read fixture " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  return JsonParser(text).parse();
}

std::vector<uint8_t> unhex(const std::string& h) {
  std::vector<uint8_t> out(h.size() / 2);
  for (size_t i = 0; i < out.size(); i++) out[i] = static_cast<uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
  return out;
}

std::string fnv1a64(const void* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

km::GgmlType type_by_name(const std::string& name) {
  for (uint32_t t = 0; t < 64; t++) {
    km::GgmlTypeInfo i = km::ggml_type_info(t);
    if (!i.name) continue;
    std::string n = i.name;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == name) return static_cast<km::GgmlType>(t);
  }
  throw std::runtime_error("fixture names unknown type " + name);
}

// Decodes every tensor of `model` and compares it with the fixture llama.cpp made.
void check_model(const std::string& model) {
  std::string path = kt::model_path(model + ".gguf");
  Json fx = load_fixture(model + ".json");
  auto g = km::GgufFile::open(path);
  const Json& tensors = fx["tensors"];
  CHECK_EQ(tensors.arr.size(), g->tensors().size());
  int checked = 0, mismatched = 0;
  for (const Json& e : tensors.arr) {
    if (mismatched >= 3) break;  // enough to diagnose; the rest would only repeat it
    const std::string name = e["name"].str;
    const km::GgufTensor* t = g->tensor(name);
    if (!t) {
      kt::report_failure(__FILE__, __LINE__, model + ": no tensor " + name);
      continue;
    }
    CHECK(t->type == type_by_name(e["type"].str));
    REQUIRE(static_cast<double>(t->n_elements) == e["n"].num);
    std::vector<float> out(t->n_elements);
    km::dequantize_row(t->type, t->data, out.data(), static_cast<int64_t>(t->n_elements));
    std::string hash = fnv1a64(out.data(), out.size() * 4);
    if (hash != e["fnv1a64"].str) {
      mismatched++;
      kt::report_failure(__FILE__, __LINE__, model + " " + name + ": hash " + hash + " != " + e["fnv1a64"].str);
      std::vector<uint8_t> head = unhex(e["head"].str);
      for (size_t i = 0; i < head.size() / 4; i++)
        if (std::memcmp(&head[4 * i], &out[i], 4) != 0) {
          float want;
          std::memcpy(&want, &head[4 * i], 4);
          kt::report_failure(__FILE__, __LINE__, "  first difference at " + std::to_string(i) + ": " +
                                                     std::to_string(out[i]) + " vs " + std::to_string(want));
          break;
        }
    }
    double sum = 0, sumsq = 0;
    for (float v : out) sum += v, sumsq += static_cast<double>(v) * v;
    // numpy sums pairwise, we sum in order: equal up to float64 rounding.
    CHECK_NEAR(sum, e["sum"].num, 1e-9 * (1 + sumsq));
    CHECK_NEAR(sumsq, e["sumsq"].num, 1e-9 * (1 + sumsq));
    checked++;
  }
  CHECK(checked > 0);
}

}  // namespace

// ---- the type table ---------------------------------------------------------------------

TEST(ggml_types, type_table_matches_block_structs) {
  using km::GgmlType;
  struct Row { GgmlType t; const char* name; uint32_t elems; size_t bytes; };
  const Row rows[] = {
      {GgmlType::F32, "f32", 1, 4},
      {GgmlType::F16, "f16", 1, 2},
      {GgmlType::BF16, "bf16", 1, 2},
      {GgmlType::Q4_0, "q4_0", km::QK4_0, sizeof(km::block_q4_0)},
      {GgmlType::Q4_1, "q4_1", km::QK4_1, sizeof(km::block_q4_1)},
      {GgmlType::Q5_0, "q5_0", km::QK5_0, sizeof(km::block_q5_0)},
      {GgmlType::Q5_1, "q5_1", km::QK5_1, sizeof(km::block_q5_1)},
      {GgmlType::Q8_0, "q8_0", km::QK8_0, sizeof(km::block_q8_0)},
      {GgmlType::Q2_K, "q2_K", km::QK_K, sizeof(km::block_q2_K)},
      {GgmlType::Q3_K, "q3_K", km::QK_K, sizeof(km::block_q3_K)},
      {GgmlType::Q4_K, "q4_K", km::QK_K, sizeof(km::block_q4_K)},
      {GgmlType::Q5_K, "q5_K", km::QK_K, sizeof(km::block_q5_K)},
      {GgmlType::Q6_K, "q6_K", km::QK_K, sizeof(km::block_q6_K)},
  };
  for (const Row& r : rows) {
    km::GgmlTypeInfo i = km::ggml_type_info(r.t);
    REQUIRE(i.name != nullptr);
    CHECK_EQ(std::string(i.name), std::string(r.name));
    CHECK_EQ(i.block_elems, r.elems);
    CHECK_EQ(static_cast<size_t>(i.block_bytes), r.bytes);
    CHECK(i.decodable);
  }
  CHECK_EQ(km::ggml_row_bytes(GgmlType::Q4_K, 512), 288u);
  // Known to the loader (so files holding them can be read and sized), not decoded.
  for (GgmlType t : {GgmlType::Q8_1, GgmlType::Q8_K, GgmlType::I8, GgmlType::I32, GgmlType::F64}) {
    CHECK(km::ggml_type_info(t).name != nullptr);
    CHECK(!km::ggml_type_info(t).decodable);
  }
  CHECK_EQ(km::ggml_type_info(16).block_bytes, 66u);  // iq2_xxs
  for (uint32_t gone : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 0xFFFFFFFFu})
    CHECK(km::ggml_type_info(gone).name == nullptr);
}

TEST(ggml_types, dequantize_rejects_what_it_cannot_decode) {
  float out[256];
  uint8_t in[512] = {};
  CHECK_THROWS_WITH(km::dequantize_row(km::GgmlType::Q8_K, in, out, 256), "q8_K cannot be decoded");
  CHECK_THROWS_WITH(km::dequantize_row(static_cast<km::GgmlType>(4), in, out, 32), "unknown tensor type 4");
  CHECK_THROWS_WITH(km::dequantize_row(km::GgmlType::Q4_0, in, out, 33), "not a multiple of the block size 32");
  CHECK_THROWS_WITH(km::dequantize_row(km::GgmlType::Q6_K, in, out, 128), "block size 256");
}

// ---- real models against llama.cpp ---------------------------------------------------------

TEST(ggml_types, stories260k_f32_matches_llama_cpp) { check_model("stories260K"); }
TEST(ggml_types, stories260k_q8_0_matches_llama_cpp) { check_model("stories260K-Q8_0"); }
TEST(ggml_types, stories260k_q4_0_matches_llama_cpp) { check_model("stories260K-Q4_0"); }
TEST(ggml_types, llama2_tiny_random_f16_matches_llama_cpp) { check_model("llama-2-tiny-random"); }

// ---- types no shared model holds: random blocks decoded by gguf-py --------------------------

TEST(ggml_types, random_blocks_match_llama_cpp) {
  Json fx = load_fixture("blocks.json");
  int checked = 0;
  for (const Json& c : fx["cases"].arr) {
    const std::string type = c["type"].str;
    km::GgmlType t = type_by_name(type);
    std::vector<uint8_t> blocks = unhex(c["blocks"].str);
    std::vector<uint8_t> want = unhex(c["floats"].str);
    const int64_t n = static_cast<int64_t>(c["n"].num);
    REQUIRE(want.size() == static_cast<size_t>(n) * 4);
    REQUIRE(blocks.size() == km::ggml_row_bytes(t, static_cast<uint64_t>(n)));
    // Decode from an odd address: GGUF data is only as aligned as the file says.
    std::vector<uint8_t> shifted(blocks.size() + 1);
    std::memcpy(shifted.data() + 1, blocks.data(), blocks.size());
    std::vector<float> out(static_cast<size_t>(n));
    km::dequantize_row(t, shifted.data() + 1, out.data(), n);
    for (int64_t i = 0; i < n; i++) {
      if (std::memcmp(&out[i], &want[4 * i], 4) != 0) {
        float w;
        std::memcpy(&w, &want[4 * i], 4);
        kt::report_failure(__FILE__, __LINE__, type + ": element " + std::to_string(i) + " is " +
                                                   std::to_string(out[i]) + ", llama.cpp gives " + std::to_string(w));
        break;
      }
    }
    checked++;
  }
  CHECK_EQ(checked, 11);  // ten block types and bf16
}

TEST(ggml_types, fp32_to_bf16_matches_llama_cpp) {
  Json fx = load_fixture("blocks.json");
  const Json& c = fx["fp32_to_bf16"];
  std::vector<uint8_t> src = unhex(c["floats"].str);
  std::vector<uint8_t> want = unhex(c["bf16"].str);
  const size_t n = static_cast<size_t>(c["n"].num);
  REQUIRE(src.size() == 4 * n && want.size() == 2 * n);
  for (size_t i = 0; i < n; i++) {
    float f;
    uint16_t w;
    std::memcpy(&f, &src[4 * i], 4);
    std::memcpy(&w, &want[2 * i], 2);
    CHECK_EQ(km::fp32_to_bf16(f), w);
  }
  CHECK_EQ(km::fp32_to_bf16(std::nanf("")) & 0x7fc0, 0x7fc0);
}

// ---- half.h against numpy ---------------------------------------------------------------

TEST(ggml_types, fp16_to_fp32_all_65536_match_numpy) {
  Json fx = load_fixture("half.json");
  std::vector<float> out(65536);
  for (uint32_t h = 0; h < 65536; h++) out[h] = km::fp16_to_fp32(static_cast<uint16_t>(h));
  CHECK_EQ(fnv1a64(out.data(), out.size() * 4), fx["fp16_to_fp32_all"].str);
  CHECK_EQ(km::float_to_bits(km::fp16_to_fp32(0x8000)), 0x80000000u);            // -0
  CHECK_EQ(km::fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));                    // smallest subnormal
  CHECK_EQ(km::fp16_to_fp32(0x03ff), std::ldexp(1023.0f, -24));                 // largest subnormal
  CHECK_EQ(km::fp16_to_fp32(0x7bff), 65504.0f);                                  // max finite
  CHECK(std::isinf(km::fp16_to_fp32(0xfc00)) && km::fp16_to_fp32(0xfc00) < 0);  // -inf
  CHECK(std::isnan(km::fp16_to_fp32(0x7e00)));
}

TEST(ggml_types, fp32_to_fp16_rounds_like_numpy) {
  Json fx = load_fixture("half.json");
  // The ties: for every finite half, the midpoint to the next one and its neighbours
  // (the same list scripts/reference/dequant_reference.py builds).
  std::vector<float> pos;
  for (uint32_t h = 0; h < 0x7bff; h++) {
    const float lo = km::fp16_to_fp32(static_cast<uint16_t>(h));
    const float hi = km::fp16_to_fp32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
    pos.push_back(mid);
    pos.push_back(std::nextafter(mid, -INFINITY));
    pos.push_back(std::nextafter(mid, INFINITY));
  }
  std::vector<uint16_t> ties;
  for (float f : pos) ties.push_back(km::fp32_to_fp16(f));
  for (float f : pos) ties.push_back(km::fp32_to_fp16(-f));
  CHECK_EQ(static_cast<double>(ties.size()), fx["fp32_to_fp16_ties"]["n"].num);
  CHECK_EQ(fnv1a64(ties.data(), ties.size() * 2), fx["fp32_to_fp16_ties"]["fnv1a64"].str);

  // A sweep over the float32 bit patterns; nan payloads are checked apart (below),
  // because numpy keeps a signalling nan's bits where IEEE hardware quiets it.
  std::vector<uint16_t> sweep;
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4097) {
    float f = km::bits_to_float(static_cast<uint32_t>(bits));
    if (!std::isnan(f)) sweep.push_back(km::fp32_to_fp16(f));
  }
  CHECK_EQ(static_cast<double>(sweep.size()), fx["fp32_to_fp16_sweep"]["n"].num);
  CHECK_EQ(fnv1a64(sweep.data(), sweep.size() * 2), fx["fp32_to_fp16_sweep"]["fnv1a64"].str);

  int edges = 0;
  for (const Json& e : fx["fp32_to_fp16_edges"].arr) {
    const float f = km::bits_to_float(static_cast<uint32_t>(e["f32"].num));
    CHECK_EQ(km::fp32_to_fp16(f), static_cast<uint16_t>(e["f16"].num));
    edges++;
  }
  CHECK(edges > 20);

  for (uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0xffc00000u, 0x7fffffffu}) {
    const uint16_t h = km::fp32_to_fp16(km::bits_to_float(nan_bits));
    CHECK((h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0);        // still a nan
    CHECK_EQ(static_cast<uint32_t>(h >> 15), nan_bits >> 31);  // same sign
  }
}
