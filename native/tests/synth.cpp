// Synthetic models and the GGUF writer: the shape table, the written file
// (metadata, tensor shapes, weight statistics, the copied vocabulary), the
// same bytes from the same seed (pinned by a hash, so another machine or a
// later version that changes them fails here), the in-memory image equal to
// the file, quantizers equal to llama.cpp's, and atomic writes.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gguf_writer.h"
#include "keymate/error.h"
#include "keymate/formats.h"
#include "keymate/gguf.h"
#include "keymate/half.h"
#include "keymate/tokenizer.h"
#include "quant/quantize_gguf.h"
#include "rng.h"
#include "synth.h"
#include "temp_dir.h"
#include "test.h"

namespace {

std::string vocab_dir() { return kt::models_dir() + "/vocab"; }

km::SynthOptions opts(const std::string& shape, const std::string& type, uint64_t seed) {
  km::SynthOptions o;
  o.shape = shape;
  o.type = type;
  o.seed = seed;
  o.vocab = vocab_dir();
  return o;
}

std::vector<float> decode(const km::GgufTensor& t) {
  std::vector<float> out(t.n_elements);
  km::dequantize_row(t.type, t.data, out.data(), static_cast<int64_t>(t.n_elements));
  return out;
}

// The input of the known-answer quantization test (see quantizers_match_llama_cpp).
std::vector<float> known_block_input() {
  std::vector<float> x;
  for (int j = 0; j < 32; j++) x.push_back(static_cast<float>(((j * 7) % 32 - 15.5) * 0.013));
  for (int j = 0; j < 32; j++) x.push_back(static_cast<float>(((j * 5) % 32 - 12) * 0.25));
  x[40] = -9.0f;  // q4_0: the largest magnitude is negative
  x[33] = 3.5f;   // q8_0: exact halves round away from zero
  return x;
}

std::string hex(const void* p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; i++) {
    std::snprintf(b, sizeof b, "%02x", static_cast<const uint8_t*>(p)[i]);
    s += b;
  }
  return s;
}

}  // namespace

TEST(synth, shapes_are_the_real_ones) {
  const auto& t = km::synth_shape("tiny-125m");
  CHECK_EQ(t.dim, 768);
  CHECK_EQ(t.layers, 12);
  CHECK_EQ(t.heads, 12);
  CHECK_EQ(t.kv_heads, 4);
  CHECK_EQ(t.ffn, 2048);
  CHECK_EQ(t.vocab, 32000);
  const auto& l1 = km::synth_shape("llama3.2-1b");
  CHECK(l1.dim == 2048 && l1.layers == 16 && l1.heads == 32 && l1.kv_heads == 8 && l1.ffn == 8192);
  CHECK(l1.vocab == 128256 && l1.rope_theta == 500000.f && l1.tied);
  const auto& l7 = km::synth_shape("llama2-7b");
  CHECK(l7.dim == 4096 && l7.layers == 32 && l7.heads == 32 && l7.kv_heads == 32 && l7.ffn == 11008);
  CHECK(l7.vocab == 32000 && !l7.tied);
  const auto& l8 = km::synth_shape("llama3-8b");
  CHECK(l8.dim == 4096 && l8.layers == 32 && l8.heads == 32 && l8.kv_heads == 8 && l8.ffn == 14336);
  CHECK(l8.vocab == 128256 && l8.rope_theta == 500000.f);
  for (const auto& s : km::synth_shapes()) {
    CHECK(s.dim % s.heads == 0);
    CHECK(s.heads % s.kv_heads == 0);
    CHECK(s.dim % 32 == 0 && s.ffn % 32 == 0);  // every row a whole number of q8_0/q4_0 blocks
  }
  CHECK_THROWS_WITH(km::synth_shape("llama9-1t"), "tiny-125m");
  CHECK_THROWS_WITH(km::synth_type("q3_k"), "q8_0");
}

TEST(synth, writes_a_valid_llama_gguf) {
  kt::TempDir dir("keymate-synth");
  const std::string path = dir.path + "/m.gguf";
  const uint64_t bytes = km::write_synthetic_gguf(opts("test-llama2", "f32", 1), path);
  auto f = km::GgufFile::open(path);
  CHECK_EQ(f->file_size(), bytes);
  CHECK_EQ(std::string(f->get_string("general.architecture")), std::string("llama"));
  CHECK_EQ(f->get_uint("llama.embedding_length"), 64u);
  CHECK_EQ(f->get_uint("llama.block_count"), 2u);
  CHECK_EQ(f->get_uint("llama.attention.head_count"), 4u);
  CHECK_EQ(f->get_uint("llama.attention.head_count_kv"), 2u);
  CHECK_EQ(f->get_uint("llama.feed_forward_length"), 128u);
  CHECK_EQ(f->get_uint("llama.rope.dimension_count"), 16u);
  CHECK_EQ(f->get_uint("llama.context_length"), 512u);
  CHECK_EQ(f->get_uint("general.file_type"), 0u);
  CHECK_EQ(f->get_uint("keymate.synth.seed"), 1u);
  CHECK_EQ(f->get_uint("keymate.synth.version"), static_cast<uint64_t>(km::kSynthVersion));
  CHECK_NEAR(f->get_float("llama.rope.freq_base", 0), 10000.0, 0);
  CHECK_EQ(f->tensors().size(), size_t{3 + 2 * 9});

  const km::GgufTensor* q = f->tensor("blk.1.attn_k.weight");
  REQUIRE(q != nullptr);
  CHECK(q->shape == (std::vector<uint64_t>{64, 32}));  // [kv_heads * head_dim, dim], ne[0] = dim
  const km::GgufTensor* down = f->tensor("blk.0.ffn_down.weight");
  REQUIRE(down != nullptr);
  CHECK(down->shape == (std::vector<uint64_t>{128, 64}));
  const km::GgufTensor* emb = f->tensor("token_embd.weight");
  REQUIRE(emb != nullptr);
  CHECK(emb->shape == (std::vector<uint64_t>{64, 32000}));
  CHECK(f->tensor("output.weight") != nullptr);

  // Norms look like N(1, 0.1); matrices like N(0, 0.02).
  for (float v : decode(*f->tensor("blk.0.attn_norm.weight"))) CHECK(v > 1.0f - 0.1f * 3.5f && v < 1.0f + 0.1f * 3.5f);
  const auto norm = decode(*f->tensor("blk.1.ffn_norm.weight"));
  CHECK(norm != decode(*f->tensor("blk.0.attn_norm.weight")));
  const auto w = decode(*emb);
  double sum = 0, sq = 0, amax = 0;
  for (float v : w) {
    sum += v;
    sq += static_cast<double>(v) * v;
    amax = std::max(amax, std::fabs(static_cast<double>(v)));
  }
  const double n = static_cast<double>(w.size());
  CHECK_NEAR(sum / n, 0.0, 5 * 0.02 / std::sqrt(n));
  CHECK_NEAR(std::sqrt(sq / n), 0.02, 0.0004);
  CHECK(amax < 0.02 * 3.5);  // the Irwin-Hall normal's range
  // Different tensors (and rows) are different streams.
  const auto k0 = decode(*f->tensor("blk.0.attn_k.weight"));
  const auto k1 = decode(*f->tensor("blk.1.attn_k.weight"));
  CHECK(k0 != k1);
  CHECK(!std::equal(k0.begin(), k0.begin() + 64, k0.begin() + 64));
}

TEST(synth, carries_the_real_vocabulary) {
  kt::TempDir dir("keymate-synth");
  const std::string path = dir.path + "/m.gguf";
  km::write_synthetic_gguf(opts("test-llama2", "q8_0", 3), path);
  auto synth = km::GgufFile::open(path);
  auto vocab = km::GgufFile::open(vocab_dir() + "/ggml-vocab-llama-spm.gguf");
  for (const auto& kv : vocab->metadata()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;
    const km::GgufValue* v = synth->find(kv.key);
    REQUIRE(v != nullptr);
    CHECK(v->kind == kv.value.kind);
    CHECK_EQ(v->count, kv.value.count);
    CHECK(v->strings == kv.value.strings);
    CHECK_EQ(std::string(v->str), std::string(kv.value.str));
  }
  auto a = km::Tokenizer::from_gguf(*synth);
  auto b = km::Tokenizer::from_gguf(*vocab);
  const std::string text = "Hello world, once upon a time: 3.14 ünïcödé";
  CHECK(a->encode(text, true, true) == b->encode(text, true, true));
}

TEST(synth, same_seed_same_bytes) {
  kt::TempDir dir("keymate-synth");
  auto o = opts("test-llama2", "q8_0", 42);
  o.threads = 1;
  km::write_synthetic_gguf(o, dir.path + "/a.gguf");
  o.threads = 3;
  km::write_synthetic_gguf(o, dir.path + "/b.gguf");
  const auto a = kt::read_all(dir.path + "/a.gguf");
  const auto b = kt::read_all(dir.path + "/b.gguf");
  REQUIRE(!a.empty());
  CHECK(a == b);
  // Pinned: these bytes are what every machine must write for this shape,
  // type and seed (the vocabulary file is fixed by ../shared/models/SHA256SUMS).
  // A change here means peers' files differ: bump kSynthVersion.
  CHECK_EQ(km::fnv1a64(a.data(), a.size()), 0x6c1d5fee04e590dbull);
  o.seed = 43;
  km::write_synthetic_gguf(o, dir.path + "/c.gguf");
  CHECK(kt::read_all(dir.path + "/c.gguf") != a);
}

TEST(synth, memory_image_equals_the_file) {
  kt::TempDir dir("keymate-synth");
  for (const char* type : {"f16", "q4_0"}) {
    const auto o = opts("test-llama3", type, 5);
    km::write_synthetic_gguf(o, dir.path + "/m.gguf");
    auto file = km::GgufFile::open(dir.path + "/m.gguf");
    auto mem = km::build_synthetic_gguf(o);
    REQUIRE(file->tensors().size() == mem->tensors().size());
    CHECK_EQ(file->metadata().size(), mem->metadata().size());
    for (size_t i = 0; i < file->tensors().size(); i++) {
      const auto& a = file->tensors()[i];
      const auto& b = mem->tensors()[i];
      CHECK_EQ(a.name, b.name);
      CHECK(a.type == b.type);
      REQUIRE(a.n_bytes == b.n_bytes);
      CHECK(std::memcmp(a.data, b.data, a.n_bytes) == 0);
    }
    CHECK(file->tensor("output.weight") == nullptr);  // llama3 shapes tie the output
  }
}

TEST(synth, quantized_types_approximate_the_floats) {
  kt::TempDir dir("keymate-synth");
  km::write_synthetic_gguf(opts("test-llama2", "f32", 9), dir.path + "/f32.gguf");
  auto ref = km::GgufFile::open(dir.path + "/f32.gguf");
  const auto exact = decode(*ref->tensor("blk.0.ffn_up.weight"));
  for (const char* type : {"f16", "bf16", "q8_0", "q4_0"}) {
    km::write_synthetic_gguf(opts("test-llama2", type, 9), dir.path + "/q.gguf");
    auto q = km::GgufFile::open(dir.path + "/q.gguf");
    CHECK(q->tensor("blk.0.ffn_norm.weight")->type == km::GgmlType::F32);  // norms stay f32
    const auto got = decode(*q->tensor("blk.0.ffn_up.weight"));
    REQUIRE(got.size() == exact.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); i++) worst = std::max(worst, std::fabs(double(got[i]) - exact[i]));
    // Largest possible error: half a step of each format on weights < 0.07
    // (q4_0's clamped end can reach a whole step d = amax/8).
    const double bound = std::string(type) == "f16"    ? 0.07 / 2048
                         : std::string(type) == "bf16" ? 0.07 / 256
                         : std::string(type) == "q8_0" ? 0.07 / 127 / 2 * 1.01
                                                       : 0.07 / 8 * 1.01;
    if (worst > bound)
      kt::report_failure(__FILE__, __LINE__,
                         std::string(type) + ": worst error " + std::to_string(worst) + " > " + std::to_string(bound));
    CHECK(worst > 0);
  }
}

TEST(synth, quantizers_match_llama_cpp) {
  // Bytes from llama.cpp's gguf-py (gguf.quants.quantize, which mirrors
  // quantize_row_q8_0_ref / quantize_row_q4_0_ref) for known_block_input().
  const auto x = known_block_input();
  uint8_t q8[2 * sizeof(km::block_q8_0)], q4[2 * sizeof(km::block_q4_0)];
  km::quantize_row(km::GgmlType::Q8_0, x.data(), q8, 64);
  km::quantize_row(km::GgmlType::Q4_0, x.data(), q4, 64);
  CHECK_EQ(hex(q8, sizeof q8),
           std::string("801681baf42d669ad30c467fb2ec255e91cb043d77aae31d5689c3fc356fa2db144e892cd631f90b1c2e40e0"
                       "8104152738d9ebfc0e203143e4f507192a3cddee00122335"));
  CHECK_EQ(hex(q4, sizeof q4),
           std::string("732680c4f73b6ea2d5194c8fb3f72a6e91d5803c95abb8c96a7b8ca6b0c8697a8c96a7b8"));
  // An all-zero block has d = 0 and zero quants (no division by zero).
  std::vector<float> zeros(32, 0.f);
  km::block_q8_0 z;
  km::quantize_row(km::GgmlType::Q8_0, zeros.data(), &z, 32);
  CHECK_EQ(z.d, 0);
  for (int8_t v : z.qs) CHECK_EQ(static_cast<int>(v), 0);
  CHECK_THROWS_WITH(km::quantize_row(km::GgmlType::Q8_0, zeros.data(), &z, 31), "multiple");
  CHECK_THROWS_WITH(km::quantize_row(km::GgmlType::Q4_K, zeros.data(), &z, 32), "q4_K");
}

TEST(synth, missing_vocabulary_says_which_file) {
  auto o = opts("tiny-125m", "q8_0", 0);
  o.vocab = "/nonexistent/folder";
  CHECK_THROWS_WITH(km::write_synthetic_gguf(o, "/tmp/never-written.gguf"), "ggml-vocab-llama-spm.gguf");
  o.shape = "llama3-8b";
  CHECK_THROWS_WITH(km::build_synthetic_gguf(o), "ggml-vocab-llama-bpe.gguf");
  // A vocabulary of the wrong size is refused.
  o.vocab = vocab_dir() + "/ggml-vocab-llama-spm.gguf";
  CHECK_THROWS_WITH(km::build_synthetic_gguf(o), "128256");
  // Found through KEYMATE_VOCAB_DIR when no path is given.
  o = opts("test-llama2", "f32", 0);
  o.vocab = "";
  setenv("KEYMATE_VOCAB_DIR", vocab_dir().c_str(), 1);
  CHECK_EQ(km::find_vocab_file(km::synth_shape("test-llama2"), ""), vocab_dir() + "/ggml-vocab-llama-spm.gguf");
  unsetenv("KEYMATE_VOCAB_DIR");
}

TEST(synth, writer_round_trips_metadata) {
  kt::TempDir dir("keymate-synth");
  km::GgufWriter w(64);
  w.add_string("s", "text \xE2\x96\x81 with bytes");
  w.add_u32("u32", 4000000000u);
  w.add_i32("i32", -7);
  w.add_u64("u64", 1ull << 40);
  w.add_f32("f32", 0.125f);
  w.add_bool("b", true);
  w.add_string_array("sa", {"a", "", "ccc"});
  const int32_t ints[3] = {1, -2, 3};
  w.add_array("ia", km::GgufKind::I32, 3, ints);
  CHECK_THROWS_WITH(w.add_u32("u32", 1), "twice");
  w.add_tensor("t", km::GgmlType::F32, {4, 2}, [](uint8_t* dst, uint64_t n) {
    for (uint64_t i = 0; i < n / 4; i++) reinterpret_cast<float*>(dst)[i] = static_cast<float>(i);
  });
  w.add_tensor("h", km::GgmlType::F16, {32}, [](uint8_t* dst, uint64_t n) { std::memset(dst, 0, n); });
  CHECK_THROWS_WITH(w.add_tensor("q", km::GgmlType::Q8_0, {31}, nullptr), "block");
  w.write_file(dir.path + "/w.gguf");
  auto f = km::GgufFile::open(dir.path + "/w.gguf");
  CHECK_EQ(f->alignment(), 64u);
  CHECK_EQ(std::string(f->get_string("s")), std::string("text \xE2\x96\x81 with bytes"));
  CHECK_EQ(f->get_uint("u32"), 4000000000u);
  CHECK_EQ(f->find("i32")->as_int("i32"), -7);
  CHECK_EQ(f->get_uint("u64"), 1ull << 40);
  CHECK_EQ(f->get_float("f32", 0), 0.125);
  CHECK(f->find("b")->as_bool("b"));
  CHECK(f->find("sa")->strings == (std::vector<std::string_view>{"a", "", "ccc"}));
  CHECK_EQ(f->find("ia")->count, 3u);
  const auto* t = f->tensor("t");
  REQUIRE(t != nullptr);
  CHECK_EQ(t->offset % 64, 0u);
  CHECK_EQ(reinterpret_cast<const float*>(t->data)[7], 7.0f);
  CHECK_EQ(f->tensor("h")->offset % 64, 0u);
  // The in-memory layout is the file's, byte for byte.
  std::vector<uint8_t> mem(w.total_bytes());
  w.write_memory(mem.data());
  CHECK(mem == kt::read_all(dir.path + "/w.gguf"));
}

TEST(synth, writes_are_atomic) {
  kt::TempDir dir("keymate-synth");
  const std::string path = dir.path + "/m.gguf";
  {
    std::ofstream(path) << "previous contents";
  }
  km::GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_tensor("a", km::GgmlType::F32, {8}, [](uint8_t* dst, uint64_t n) { std::memset(dst, 0, n); });
  w.add_tensor("b", km::GgmlType::F32, {8}, [](uint8_t*, uint64_t) { km::fail("interrupted"); });
  CHECK_THROWS_WITH(w.write_file(path), "interrupted");
  // The old file is untouched and no temporary file is left behind.
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  CHECK_EQ(s, std::string("previous contents"));
  CHECK_EQ(dir.list().size(), size_t{1});
  // A folder that does not exist: a clear error naming the path.
  CHECK_THROWS_WITH(km::write_synthetic_gguf(opts("test-llama2", "f32", 0), dir.path + "/no/such/dir/m.gguf"),
                    "no/such/dir/m.gguf");
}
