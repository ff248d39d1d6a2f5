// GGUF loader tests: the real model files load with their known metadata and
// shapes, and a table of hostile images, written byte by byte by a tiny GGUF
// writer below, each fail with one km::Error line that names the file and the
// problem (never a crash: the test binary would die).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "keymate/error.h"
#include "keymate/gguf.h"
#include "test.h"

namespace {

using km::GgufFile;
using km::GgufKind;

// ---- a tiny GGUF writer --------------------------------------------------------
struct Writer {
  std::vector<uint8_t> b;

  Writer& u8(uint8_t v) { b.push_back(v); return *this; }
  Writer& u16(uint16_t v) { return raw(&v, 2); }
  Writer& u32(uint32_t v) { return raw(&v, 4); }
  Writer& u64(uint64_t v) { return raw(&v, 8); }
  Writer& f32(float v) { return raw(&v, 4); }
  Writer& f64(double v) { return raw(&v, 8); }
  Writer& raw(const void* p, size_t n) {
    const uint8_t* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  Writer& str(const std::string& s) { u64(s.size()); return raw(s.data(), s.size()); }

  Writer& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    raw("GGUF", 4);
    u32(version);
    u64(n_tensors);
    return u64(n_kv);
  }
  Writer& kv(const std::string& key, GgufKind kind) { str(key); return u32(static_cast<uint32_t>(kind)); }
  Writer& kv_u32(const std::string& key, uint32_t v) { kv(key, GgufKind::U32); return u32(v); }
  Writer& kv_str(const std::string& key, const std::string& v) { kv(key, GgufKind::STRING); return str(v); }
  Writer& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name);
    u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    u32(type);
    return u64(offset);
  }
  Writer& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  Writer& fill(size_t n, uint8_t v = 0) { b.insert(b.end(), n, v); return *this; }
};

// A small valid file with every metadata kind, two tensors and 32-byte alignment.
// The second tensor ends exactly at the end of the file, so every proper prefix
// of it is truncated somewhere that matters.
std::vector<uint8_t> valid_file() {
  Writer w;
  w.header(2, 16);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.context_length", 512);
  w.kv("k.u8", GgufKind::U8).u8(200);
  w.kv("k.i8", GgufKind::I8).u8(0x80);
  w.kv("k.u16", GgufKind::U16).u16(65535);
  w.kv("k.i16", GgufKind::I16).u16(0x8000);
  w.kv("k.i32", GgufKind::I32).u32(0xFFFFFFFF);
  w.kv("k.f32", GgufKind::F32).f32(1.5f);
  w.kv("k.bool", GgufKind::BOOL).u8(1);
  w.kv("k.u64", GgufKind::U64).u64(1ull << 40);
  w.kv("k.i64", GgufKind::I64).u64(static_cast<uint64_t>(-5ll));
  w.kv("k.f64", GgufKind::F64).f64(-0.25);
  w.kv("k.strs", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::STRING)).u64(3).str("a").str("").str("ccc");
  w.kv("k.f32s", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::F32)).u64(2).f32(0.5f).f32(-2.0f);
  w.kv("k.empty", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::I32)).u64(0);
  w.kv_u32("general.alignment", 32);
  w.tensor("a", {4, 2}, 0, 0);   // f32: 32 bytes
  w.tensor("b", {32}, 8, 32);    // q8_0: one 34-byte block
  w.pad(32);
  for (int i = 0; i < 8; i++) w.f32(static_cast<float>(i));
  w.u16(0x3c00);  // q8_0 scale 1.0
  for (int i = 0; i < 32; i++) w.u8(static_cast<uint8_t>(i - 16));
  return w.b;
}

std::unique_ptr<GgufFile> parse(const std::vector<uint8_t>& b, const std::string& name = "test.gguf") {
  return GgufFile::parse(b.data(), b.size(), name);
}

// Parses `b` expecting a km::Error whose message names the file first, holds
// `needle`, and is one line. Returns the message for further checks.
std::string parse_error(const std::vector<uint8_t>& b, const std::string& needle) {
  try {
    parse(b, "evil.gguf");
  } catch (const km::Error& e) {
    std::string m = e.what();
    if (m.rfind("evil.gguf: ", 0) != 0) kt::report_failure(__FILE__, __LINE__, "error does not name the file: " + m);
    if (m.find('\n') != std::string::npos) kt::report_failure(__FILE__, __LINE__, "error is not one line: " + m);
    if (m.find(needle) == std::string::npos)
      kt::report_failure(__FILE__, __LINE__, "error '" + m + "' lacks '" + needle + "'");
    return m;
  } catch (const std::exception& e) {
    kt::report_failure(__FILE__, __LINE__, std::string("not a km::Error: ") + e.what());
    return "";
  }
  kt::report_failure(__FILE__, __LINE__, "parse did not fail, expected '" + needle + "'");
  return "";
}

std::string model(const std::string& name) {
  return kt::model_path(name);
}

// One tensor, f32 [ne...], at `offset`, with `data_bytes` of data after alignment.
std::vector<uint8_t> one_tensor(std::vector<uint64_t> dims, uint32_t type, uint64_t offset, size_t data_bytes) {
  Writer w;
  w.header(1, 0).tensor("t", dims, type, offset).pad(32).fill(data_bytes);
  return w.b;
}

constexpr uint64_t kHuge = 1ull << 62;

}  // namespace

// ---- real files ------------------------------------------------------------------

TEST(gguf, stories260k_metadata_and_shapes) {
  auto g = GgufFile::open(model("stories260K.gguf"));
  CHECK_EQ(g->version(), 3u);
  CHECK_EQ(g->alignment(), 32u);
  CHECK_EQ(std::string(g->get_string("general.architecture")), "llama");
  CHECK_EQ(g->get_uint("llama.context_length"), 512u);
  CHECK_EQ(g->get_uint("llama.embedding_length"), 64u);
  CHECK_EQ(g->get_uint("llama.block_count"), 5u);
  CHECK_EQ(g->get_uint("llama.feed_forward_length"), 172u);
  CHECK_EQ(g->get_uint("llama.attention.head_count"), 8u);
  CHECK_EQ(g->get_uint("llama.attention.head_count_kv"), 4u);
  CHECK_NEAR(g->get_float("llama.attention.layer_norm_rms_epsilon", 0), 1e-5, 1e-12);
  CHECK_EQ(g->get_uint("tokenizer.ggml.bos_token_id"), 1u);
  CHECK_EQ(g->get_uint("tokenizer.ggml.eos_token_id"), 2u);

  const km::GgufValue* tokens = g->find("tokenizer.ggml.tokens");
  REQUIRE(tokens != nullptr);
  CHECK(tokens->kind == GgufKind::ARRAY);
  CHECK(tokens->item_kind == GgufKind::STRING);
  CHECK_EQ(tokens->count, 512u);
  REQUIRE(tokens->strings.size() == 512);
  CHECK_EQ(std::string(tokens->strings[1]), "<s>");
  CHECK_EQ(std::string(tokens->strings[2]), "</s>");
  const km::GgufValue* scores = g->find("tokenizer.ggml.scores");
  REQUIRE(scores != nullptr);
  CHECK(scores->item_kind == GgufKind::F32);
  CHECK_EQ(scores->count, 512u);
  CHECK(scores->items != nullptr);

  CHECK_EQ(g->tensors().size(), 48u);  // 5 layers x 9 + token_embd, output_norm, output
  const km::GgufTensor* emb = g->tensor("token_embd.weight");
  REQUIRE(emb != nullptr);
  CHECK(emb->type == km::GgmlType::F32);
  REQUIRE(emb->shape.size() == 2);
  CHECK_EQ(emb->shape[0], 64u);
  CHECK_EQ(emb->shape[1], 512u);
  CHECK_EQ(emb->n_elements, 64u * 512u);
  CHECK_EQ(emb->n_bytes, 64u * 512u * 4u);
  CHECK_EQ(emb->rows(), 512u);
  const km::GgufTensor* down = g->tensor("blk.4.ffn_down.weight");
  REQUIRE(down != nullptr);
  CHECK_EQ(down->shape[0], 172u);
  CHECK_EQ(down->shape[1], 64u);
  const km::GgufTensor* k = g->tensor("blk.0.attn_k.weight");
  REQUIRE(k != nullptr);
  CHECK_EQ(k->shape[1], 32u);  // 4 KV heads of 8
  const km::GgufTensor* norm = g->tensor("output_norm.weight");
  REQUIRE(norm != nullptr);
  CHECK_EQ(norm->shape.size(), 1u);
  // Tied to token_embd: the file carries a copy holding the same values.
  const km::GgufTensor* out = g->tensor("output.weight");
  REQUIRE(out != nullptr);
  CHECK_EQ(out->shape[1], 512u);
  for (const auto& t : g->tensors()) {
    CHECK(t.data != nullptr);
    CHECK_EQ(t.offset % g->alignment(), 0u);
    CHECK(t.offset + t.n_bytes <= g->file_size());
  }
  CHECK(g->find("no.such.key") == nullptr);
  CHECK_EQ(g->get_uint("no.such.key", 7), 7u);
  CHECK_EQ(std::string(g->get_string("no.such.key", "dflt")), "dflt");
}

TEST(gguf, quantized_stories_types) {
  auto q8 = GgufFile::open(model("stories260K-Q8_0.gguf"));
  auto q4 = GgufFile::open(model("stories260K-Q4_0.gguf"));
  const km::GgufTensor* a = q8->tensor("blk.0.attn_q.weight");
  const km::GgufTensor* b = q4->tensor("blk.0.attn_q.weight");
  REQUIRE(a && b);
  CHECK(a->type == km::GgmlType::Q8_0);
  CHECK(b->type == km::GgmlType::Q4_0);
  CHECK_EQ(a->n_bytes, 64u * 64u / 32u * 34u);
  CHECK_EQ(b->n_bytes, 64u * 64u / 32u * 18u);
  // ffn_down rows are 172 long, not a multiple of 32: llama-quantize kept a fallback type.
  const km::GgufTensor* d = q8->tensor("blk.0.ffn_down.weight");
  REQUIRE(d != nullptr);
  CHECK(d->type != km::GgmlType::Q8_0);
  CHECK_EQ(q8->tensors().size(), 48u);
}

TEST(gguf, llama2_tiny_random_and_vocab_files_load) {
  auto g = GgufFile::open(model("llama-2-tiny-random.gguf"));
  const km::GgufValue* tokens = g->find("tokenizer.ggml.tokens");
  REQUIRE(tokens != nullptr);
  CHECK_EQ(tokens->strings.size(), 32000u);
  bool has_f16 = false;
  for (const auto& t : g->tensors()) has_f16 |= t.type == km::GgmlType::F16;
  CHECK(has_f16);
  for (const char* v : {"llama-spm", "llama-bpe", "qwen2", "phi-3"}) {
    auto f = GgufFile::open(model(std::string("vocab/ggml-vocab-") + v + ".gguf"));
    CHECK(f->tensors().empty());
    CHECK(f->find("tokenizer.ggml.model") != nullptr);
    CHECK(f->find("tokenizer.ggml.tokens")->count > 1000);
  }
}

// A named pipe with no writer would block a plain open() forever, and a
// socket cannot be opened at all: both are refused at once, by kind.
TEST(gguf, open_refuses_pipes_and_sockets_without_blocking) {
  char dir[] = "/tmp/km-gguf-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/pipe.gguf";
  const std::string sock = std::string(dir) + "/sock.gguf";
  CHECK(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(GgufFile::open(fifo), "pipe.gguf: is a named pipe (FIFO), not a model file");
  const int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  CHECK(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  CHECK_THROWS_WITH(GgufFile::open(sock), "sock.gguf: is a socket, not a model file");
  close(s);
  unlink(sock.c_str());
  unlink(fifo.c_str());
  rmdir(dir);
}

TEST(gguf, open_errors_name_the_file) {
  CHECK_THROWS_WITH(GgufFile::open("/nonexistent/x.gguf"), "/nonexistent/x.gguf: cannot open");
  CHECK_THROWS_WITH(GgufFile::open("/"), "/: is a folder, not a model file");
  CHECK_THROWS_WITH(GgufFile::open("/dev/null"), "/dev/null: is a character device, not a model file");
  auto g = GgufFile::open(model("stories260K.gguf"));
  CHECK_THROWS_WITH(g->get_uint("no.such.key"), "stories260K.gguf: missing metadata no.such.key");
  CHECK_THROWS_WITH(g->get_string("llama.context_length"),
                    "stories260K.gguf: metadata llama.context_length: expected a string, found u32");
  CHECK_THROWS_WITH(g->get_uint("general.architecture"), "expected an unsigned integer, found string");
}

// ---- the synthetic valid file ---------------------------------------------------

TEST(gguf, every_metadata_kind_round_trips) {
  const std::vector<uint8_t> bytes = valid_file();
  auto g = parse(bytes);
  CHECK_EQ(g->metadata().size(), 16u);
  CHECK_EQ(g->get_uint("llama.context_length"), 512u);
  CHECK_EQ(g->find("k.u8")->as_uint("k.u8"), 200u);
  CHECK_EQ(g->find("k.i8")->as_int("k.i8"), -128);
  CHECK_EQ(g->find("k.u16")->as_uint("k.u16"), 65535u);
  CHECK_EQ(g->find("k.i16")->as_int("k.i16"), -32768);
  CHECK_EQ(g->find("k.i32")->as_int("k.i32"), -1);
  CHECK_THROWS_WITH(g->find("k.i32")->as_uint("k.i32"), "expected an unsigned integer, found -1");
  CHECK_EQ(g->find("k.f32")->as_float("k.f32"), 1.5);
  CHECK(g->find("k.bool")->as_bool("k.bool"));
  CHECK_THROWS_WITH(g->find("k.bool")->as_uint("k.bool"), "k.bool: expected an unsigned integer, found bool");
  CHECK_EQ(g->find("k.u64")->as_uint("k.u64"), 1ull << 40);
  CHECK_EQ(g->find("k.i64")->as_int("k.i64"), -5);
  CHECK_EQ(g->find("k.f64")->as_float("k.f64"), -0.25);
  CHECK_EQ(g->find("k.u8")->as_float("k.u8"), 200.0);
  const km::GgufValue* strs = g->find("k.strs");
  REQUIRE(strs && strs->strings.size() == 3);
  CHECK_EQ(std::string(strs->strings[0]), "a");
  CHECK_EQ(std::string(strs->strings[1]), "");
  CHECK_EQ(std::string(strs->strings[2]), "ccc");
  const km::GgufValue* fs = g->find("k.f32s");
  REQUIRE(fs && fs->count == 2 && fs->items);
  float f1;
  std::memcpy(&f1, fs->items + 4, 4);
  CHECK_EQ(f1, -2.0f);
  CHECK_EQ(g->find("k.empty")->count, 0u);

  REQUIRE(g->tensors().size() == 2);
  const km::GgufTensor* a = g->tensor("a");
  const km::GgufTensor* b = g->tensor("b");
  REQUIRE(a && b);
  CHECK_EQ(a->rows(), 2u);
  float a7;
  std::memcpy(&a7, a->data + 28, 4);
  CHECK_EQ(a7, 7.0f);
  CHECK_EQ(b->n_bytes, 34u);
  CHECK_EQ(b->data + b->n_bytes - bytes.data(), static_cast<long>(bytes.size()));  // ends at the file end
}

TEST(gguf, alignment_from_metadata) {
  Writer w;
  w.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {16}, 0, 64).pad(64).fill(64 + 64);
  auto g = parse(w.b);
  CHECK_EQ(g->alignment(), 64u);
  const km::GgufTensor* t = g->tensor("t");
  REQUIRE(t != nullptr);
  CHECK_EQ(static_cast<size_t>(t->data - w.b.data()) % 64, 0u);

  Writer bad;
  bad.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {16}, 0, 32).pad(64).fill(128);
  parse_error(bad.b, "data offset 32 is not a multiple of the alignment 64");
  for (uint32_t al : {0u, 3u, 48u, 1u << 30}) {
    Writer x;
    x.header(0, 1).kv_u32("general.alignment", al);
    parse_error(x.b, "general.alignment");
  }
  Writer s;
  s.header(0, 1).kv_str("general.alignment", "32");
  parse_error(s.b, "general.alignment must be an integer, found string");
}

// ---- hostile input ----------------------------------------------------------------

TEST(gguf, bad_magic_and_versions) {
  std::vector<uint8_t> b = valid_file();
  b[0] = 'X';
  parse_error(b, "not a GGUF file (bad magic)");
  parse_error({}, "not a GGUF file");
  parse_error({'G', 'G', 'U'}, "not a GGUF file");
  for (uint32_t v : {0u, 1u, 4u, 99u, 0xFFFFFFFFu}) {
    b = valid_file();
    std::memcpy(&b[4], &v, 4);
    parse_error(b, v == 1 ? "GGUF version 1 is not supported" : "unsupported GGUF version " + std::to_string(v));
  }
  b = valid_file();
  uint32_t be3 = 0x03000000;
  std::memcpy(&b[4], &be3, 4);
  parse_error(b, "big-endian");
}

TEST(gguf, truncated_at_every_byte) {
  const std::vector<uint8_t> full = valid_file();
  REQUIRE(parse(full) != nullptr);
  int failures = 0;
  for (size_t n = 0; n < full.size(); n++) {
    // A fresh exact-size copy so reading past `n` would be a real overflow (ASan sees it).
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(n));
    try {
      parse(prefix, "cut.gguf");
      failures++;
      kt::report_failure(__FILE__, __LINE__, "prefix of " + std::to_string(n) + " bytes parsed");
    } catch (const km::Error& e) {
      std::string m = e.what();
      if (m.rfind("cut.gguf: ", 0) != 0 || m.find('\n') != std::string::npos) {
        failures++;
        kt::report_failure(__FILE__, __LINE__, "bad message: " + m);
      }
    }
    if (failures > 5) break;
  }
}

TEST(gguf, absurd_counts_and_lengths) {
  Writer w;
  w.header(0, kHuge);
  parse_error(w.b, "metadata count 4611686018427387904 is absurd");
  w = Writer();
  w.header(kHuge, 0);
  parse_error(w.b, "tensor count 4611686018427387904 is absurd");
  w = Writer();
  w.header(0, 1000).fill(100);
  parse_error(w.b, "metadata count 1000 cannot fit");
  w = Writer();
  w.header(1000, 0).fill(100);
  parse_error(w.b, "tensor count 1000 cannot fit");

  w = Writer();
  w.header(0, 1).u64(kHuge).raw("key", 3).fill(16);
  parse_error(w.b, "metadata key has length 4611686018427387904");
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::STRING).u64(kHuge).fill(16);
  parse_error(w.b, "string value has length 4611686018427387904");
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::STRING).u64(UINT64_MAX).fill(16);
  parse_error(w.b, "past the end of the file");
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::U32)).u64(kHuge).fill(16);
  parse_error(w.b, "metadata k: array of 4611686018427387904 u32 items cannot fit");
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::F64)).u64(UINT64_MAX / 4).fill(16);
  parse_error(w.b, "cannot fit");  // count * 8 would wrap around without the division check
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::STRING)).u64(kHuge).fill(16);
  parse_error(w.b, "metadata k: array of 4611686018427387904 strings cannot fit");
  w = Writer();
  w.header(0, 1).kv("k", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::STRING)).u64(2).str("x").u64(kHuge);
  parse_error(w.b, "array string has length");
  w = Writer();
  w.header(1, 0).str("t").u32(4).u64(4).u64(4);  // 4 dims announced, 2 present
  parse_error(w.b, "truncated file: tensor dimension");
}

TEST(gguf, unknown_kinds_and_types) {
  for (uint32_t kind : {13u, 100u, 0xFFFFFFFFu}) {
    Writer w;
    w.header(0, 1).kv("k", static_cast<GgufKind>(kind)).u64(0);
    parse_error(w.b, "metadata k has unknown kind " + std::to_string(kind));
    Writer a;
    a.header(0, 1).kv("k", GgufKind::ARRAY).u32(kind).u64(1).u64(0);
    parse_error(a.b, "metadata k: array item kind " + std::to_string(kind) + " is unknown");
  }
  Writer n;
  n.header(0, 1).kv("k", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::ARRAY)).u64(1).u32(4).u64(0);
  parse_error(n.b, "metadata k: arrays of arrays are not supported");
  Writer b;
  b.header(0, 1).kv("flag", GgufKind::BOOL).u8(2);
  parse_error(b.b, "metadata flag: bool value 2 is neither 0 nor 1");
  Writer ba;
  ba.header(0, 1).kv("flags", GgufKind::ARRAY).u32(static_cast<uint32_t>(GgufKind::BOOL)).u64(3).u8(0).u8(1).u8(7);
  parse_error(ba.b, "bool item 2 is 7");

  for (uint32_t type : {4u, 5u, 31u, 36u, 43u, 1000u, 0xFFFFFFFFu})
    parse_error(one_tensor({32}, type, 0, 128), "tensor t has unknown type " + std::to_string(type));
}

TEST(gguf, tensor_shapes_and_offsets) {
  parse_error(one_tensor({32}, 0, 96, 128), "tensor t: data [96, +128) runs past the end");
  parse_error(one_tensor({32}, 0, 0, 127), "runs past the end");
  parse_error(one_tensor({32}, 0, 1ull << 63, 128), "runs past the end");
  parse_error(one_tensor({32}, 0, 7, 128), "data offset 7 is not a multiple of the alignment 32");
  parse_error(one_tensor({4, 0}, 0, 0, 128), "tensor t has dimension 1 of size 0");
  parse_error(one_tensor({1, 1, 1, 1, 1}, 0, 0, 128), "tensor t has 5 dimensions (at most 4)");
  parse_error(one_tensor({1ull << 32, 1ull << 32}, 0, 0, 128), "tensor t: element count overflows");
  parse_error(one_tensor({1ull << 62, 2}, 0, 0, 128), "element count overflows");
  parse_error(one_tensor({1ull << 40}, 0, 0, 128), "runs past the end");  // counts fine, bytes not there
  parse_error(one_tensor({1ull << 62}, 0, 0, 128), "tensor t: byte size overflows");  // 2^62 f32 = 2^64 bytes
  parse_error(one_tensor({33}, 8, 0, 128), "tensor t: row length 33 is not a multiple of the q8_0 block size 32");
  parse_error(one_tensor({32}, 12, 0, 512), "row length 32 is not a multiple of the q4_K block size 256");
  // A known type the engine cannot decode still loads: the loader only needs its size.
  auto g = parse(one_tensor({256}, 16, 0, 66));
  CHECK_EQ(g->tensor("t")->n_bytes, 66u);

  Writer d;
  d.header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad(32).fill(64);
  parse_error(d.b, "duplicate tensor t");
  Writer k;
  k.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  parse_error(k.b, "duplicate metadata key a.b");
  Writer past;
  past.header(1, 0).tensor("t", {8}, 0, 0);  // data section would start past the end
  parse_error(past.b, "the tensor data section starts at 64, past the end");
  // Names from the file are made printable, so the message stays one line.
  Writer nl;
  nl.header(2, 0).tensor("x\ny", {8}, 0, 0).tensor("x\ny", {8}, 0, 32).pad(32).fill(64);
  parse_error(nl.b, "duplicate tensor x?y");
}

TEST(gguf, empty_and_tensorless_files) {
  Writer w;
  w.header(0, 0);
  auto g = parse(w.b);
  CHECK(g->metadata().empty());
  CHECK(g->tensors().empty());
  CHECK_EQ(g->version(), 3u);
  Writer v2;
  v2.header(0, 1, 2).kv_str("general.architecture", "llama");
  CHECK_EQ(parse(v2.b)->version(), 2u);
}
