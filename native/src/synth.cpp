// Synthetic models (synth.h): the shape table, the vocabulary search, and the
// one function that describes a model to a GgufWriter, used both for files and
// for in-memory images, so the two cannot differ.
#include "synth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gguf_writer.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "quantize.h"
#include "rng.h"

namespace km {

namespace {

constexpr const char* kSpm = "ggml-vocab-llama-spm.gguf";  // Llama 2's 32000 tokens
constexpr const char* kBpe = "ggml-vocab-llama-bpe.gguf";  // Llama 3's 128256 tokens
constexpr double kInitStd = 0.02;                          // std of every weight matrix

const std::vector<SynthShape> kShapes = {
    // name            dim  layers heads kv  ffn    vocab   ctx     theta    eps   tied  vocab
    {"tiny-125m",      768,  12,   12,   4,  2048,  32000,  2048,   10000.f, 1e-5f, false, kSpm,
     "a 125M Llama-2-vocabulary model for CPU benchmarks"},
    {"tinyllama-1.1b", 2048, 22,   32,   4,  5632,  32000,  2048,   10000.f, 1e-5f, false, kSpm,
     "TinyLlama 1.1B"},
    {"llama3.2-1b",    2048, 16,   32,   8,  8192,  128256, 131072, 500000.f, 1e-5f, true, kBpe,
     "Llama 3.2 1B (without its rope_freqs scaling)"},
    {"llama3.2-3b",    3072, 28,   24,   8,  8192,  128256, 131072, 500000.f, 1e-5f, true, kBpe,
     "Llama 3.2 3B (without its rope_freqs scaling)"},
    {"llama2-7b",      4096, 32,   32,   32, 11008, 32000,  4096,   10000.f, 1e-5f, false, kSpm,
     "Llama 2 7B"},
    {"llama3-8b",      4096, 32,   32,   8,  14336, 128256, 8192,   500000.f, 1e-5f, false, kBpe,
     "Llama 3 8B"},
    {"llama2-13b",     5120, 40,   40,   40, 13824, 32000,  4096,   10000.f, 1e-5f, false, kSpm,
     "Llama 2 13B"},
    // Small shapes with real vocabularies, for tests.
    {"test-llama2",    64,   2,    4,    2,  128,   32000,  512,    10000.f, 1e-5f, false, kSpm,
     "a 4M test model with the Llama 2 vocabulary"},
    {"test-llama3",    64,   2,    4,    1,  96,    128256, 512,    500000.f, 1e-5f, true, kBpe,
     "an 8M test model with the Llama 3 vocabulary"},
};

uint32_t file_type_of(GgmlType t) {  // llama.cpp's general.file_type ("mostly ...")
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    default: fail("synth: no file type for this tensor type");
  }
}

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent(const std::string& p) {
  const size_t slash = p.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return p.substr(0, slash);
}

// `dir` and each folder above it.
std::vector<std::string> ancestors(std::string dir) {
  std::vector<std::string> out;
  while (!dir.empty()) {
    out.push_back(dir);
    if (dir == "/") break;
    dir = parent(dir);
  }
  return out;
}

// One random stream per row: FNV-1a of (seed, tensor name, row) seeds it,
// so rows can be generated in any order, on any number of threads.
uint64_t row_seed(uint64_t seed, const std::string& name, uint64_t row) {
  uint64_t h = fnv1a64(&seed, sizeof seed);
  h = fnv1a64(name.data(), name.size(), h);
  return fnv1a64(&row, sizeof row, h);
}

// A fill function for a [rows, cols] tensor of `type`: N(0, std) per row, or
// all ones when std == 0 (norm weights).
GgufWriter::Fill make_fill(std::string name, GgmlType type, int64_t rows, int64_t cols, double std,
                           uint64_t seed, int threads) {
  return [=](uint8_t* dst, uint64_t n_bytes) {
    const uint64_t row_bytes = ggml_row_bytes(type, static_cast<uint64_t>(cols));
    if (row_bytes * static_cast<uint64_t>(rows) != n_bytes) fail("synth: %s: size mismatch", name.c_str());
    const int n_threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, rows / 16)));
    auto work = [&](int t) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = t; r < rows; r += n_threads) {
        if (std == 0) {
          std::fill(row.begin(), row.end(), 1.f);
        } else {
          Rng rng(row_seed(seed, name, static_cast<uint64_t>(r)));
          for (auto& x : row) x = static_cast<float>(rng.normal() * std);
        }
        quantize_row(type, row.data(), dst + static_cast<uint64_t>(r) * row_bytes, cols);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; t++) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
  };
}

// Describes the whole model to `w`: metadata, the copied vocabulary, then the
// tensors in llama.cpp's order.
void describe(GgufWriter& w, const SynthShape& s, const SynthOptions& opts, const GgufFile& vocab) {
  const GgmlType type = synth_type(opts.type);
  const int head_dim = s.dim / s.heads;
  const int threads =
      opts.threads > 0 ? opts.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  const GgufValue* tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->kind != GgufKind::ARRAY || tokens->item_kind != GgufKind::STRING)
    fail("%s: no tokenizer.ggml.tokens array: not a vocabulary GGUF", vocab.path().c_str());
  if (tokens->count != static_cast<uint64_t>(s.vocab))
    fail("%s: holds %llu tokens, but shape %s needs %d (use %s)", vocab.path().c_str(),
         static_cast<unsigned long long>(tokens->count), s.name, s.vocab, s.vocab_file);

  w.add_string("general.architecture", "llama");
  w.add_string("general.name", std::string("keymate synthetic ") + s.name);
  w.add_string("general.description",
               "seeded random weights in the shape of " + std::string(s.about) + "; not a trained model");
  w.add_u32("general.file_type", file_type_of(type));
  w.add_string("keymate.synth.shape", s.name);
  w.add_u64("keymate.synth.seed", opts.seed);
  w.add_u32("keymate.synth.version", kSynthVersion);
  w.add_u32("llama.context_length", static_cast<uint32_t>(s.context));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(s.dim));
  w.add_u32("llama.block_count", static_cast<uint32_t>(s.layers));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(s.ffn));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(s.heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(s.kv_heads));
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(head_dim));
  w.add_f32("llama.rope.freq_base", s.rope_theta);
  w.add_f32("llama.attention.layer_norm_rms_epsilon", s.norm_eps);
  w.add_u32("llama.vocab_size", static_cast<uint32_t>(s.vocab));
  for (const auto& kv : vocab.metadata())
    if (kv.key.rfind("tokenizer.", 0) == 0) w.add_value(kv.key, kv.value);

  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    w.add_tensor(name, type, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)},
                 make_fill(name, type, rows, cols, kInitStd, opts.seed, threads));
  };
  auto norm = [&](const std::string& name) {
    w.add_tensor(name, GgmlType::F32, {static_cast<uint64_t>(s.dim)},
                 make_fill(name, GgmlType::F32, 1, s.dim, 0, opts.seed, threads));
  };
  const int64_t q_dim = static_cast<int64_t>(s.heads) * head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.kv_heads) * head_dim;
  matrix("token_embd.weight", s.vocab, s.dim);
  norm("output_norm.weight");
  if (!s.tied) matrix("output.weight", s.vocab, s.dim);
  for (int l = 0; l < s.layers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    norm(p + "attn_norm.weight");
    matrix(p + "attn_q.weight", q_dim, s.dim);
    matrix(p + "attn_k.weight", kv_dim, s.dim);
    matrix(p + "attn_v.weight", kv_dim, s.dim);
    matrix(p + "attn_output.weight", s.dim, q_dim);
    norm(p + "ffn_norm.weight");
    matrix(p + "ffn_gate.weight", s.ffn, s.dim);
    matrix(p + "ffn_up.weight", s.ffn, s.dim);
    matrix(p + "ffn_down.weight", s.dim, s.ffn);
  }
}

}  // namespace

const std::vector<SynthShape>& synth_shapes() { return kShapes; }

const SynthShape& synth_shape(std::string_view name) {
  for (const auto& s : kShapes)
    if (name == s.name) return s;
  std::string known;
  for (const auto& s : kShapes) known += (known.empty() ? "" : ", ") + std::string(s.name);
  fail("synth: unknown shape '%.*s' (known: %s)", static_cast<int>(name.size()), name.data(), known.c_str());
}

GgmlType synth_type(std::string_view name) {
  if (name == "f32") return GgmlType::F32;
  if (name == "f16") return GgmlType::F16;
  if (name == "bf16") return GgmlType::BF16;
  if (name == "q8_0") return GgmlType::Q8_0;
  if (name == "q4_0") return GgmlType::Q4_0;
  fail("synth: unknown type '%.*s' (f32, f16, bf16, q8_0 or q4_0)", static_cast<int>(name.size()), name.data());
}

std::string find_vocab_file(const SynthShape& shape, const std::string& hint) {
  const std::string file = shape.vocab_file;
  if (!hint.empty()) {
    if (is_file(hint)) return hint;
    if (is_dir(hint) && is_file(hint + "/" + file)) return hint + "/" + file;
    fail("synth: %s: no vocabulary %s there (shape %s needs llama.cpp's models/%s)", hint.c_str(), file.c_str(),
         shape.name, file.c_str());
  }
  std::vector<std::string> dirs;
  if (const char* v = std::getenv("KEYMATE_VOCAB_DIR"); v && *v) dirs.emplace_back(v);
  if (const char* m = std::getenv("KEYMATE_MODELS_DIR"); m && *m) dirs.push_back(std::string(m) + "/vocab");
  std::vector<std::string> starts;
  if (char cwd[4096]; getcwd(cwd, sizeof cwd)) starts.emplace_back(cwd);
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) starts.push_back(parent(std::string(exe, static_cast<size_t>(n))));
  for (const auto& start : starts)
    for (const auto& a : ancestors(start)) {
      dirs.push_back(a + "/../shared/models/vocab");
      dirs.push_back(a + "/shared/models/vocab");
    }
  for (const auto& d : dirs)
    if (is_file(d + "/" + file)) return d + "/" + file;
  fail("synth: shape %s needs the vocabulary file %s (llama.cpp's models/%s): pass its path (--vocab) or set "
       "KEYMATE_VOCAB_DIR to the folder holding it",
       shape.name, file.c_str(), file.c_str());
}

uint64_t write_synthetic_gguf(const SynthOptions& opts, const std::string& out) {
  const SynthShape& s = synth_shape(opts.shape);
  const auto vocab = GgufFile::open(find_vocab_file(s, opts.vocab));
  GgufWriter w;
  describe(w, s, opts, *vocab);
  w.write_file(out);
  return w.total_bytes();
}

std::shared_ptr<const GgufFile> build_synthetic_gguf(const SynthOptions& opts) {
  const SynthShape& s = synth_shape(opts.shape);
  const auto vocab = GgufFile::open(find_vocab_file(s, opts.vocab));
  GgufWriter w;
  describe(w, s, opts, *vocab);
  const uint64_t size = w.total_bytes();
  std::shared_ptr<uint8_t[]> image(new (std::nothrow) uint8_t[size]);
  if (!image)
    fail("synth: not enough memory for %s as %s: it needs %.1f GiB", s.name, opts.type.c_str(),
         static_cast<double>(size) / (1ull << 30));
  w.write_memory(image.get());
  std::unique_ptr<GgufFile> file =
      GgufFile::parse(image.get(), size, "synthetic " + std::string(s.name) + " " + opts.type);
  // The deleter owns the image, so it is freed with the file and not before.
  return std::shared_ptr<const GgufFile>(file.release(), [image](const GgufFile* f) { delete f; });
}

}  // namespace km
