// Synthetic models (synth.h): the shape table, the vocabulary search, and the
// one function that describes a model to a GgufWriter, used both for files and
// for in-memory images, so the two cannot differ.
#include "synth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gguf_writer.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "quant/quantize_gguf.h"
#include "rng.h"

namespace km {

namespace {

constexpr const char* kSpm = "ggml-vocab-llama-spm.gguf";  // Llama 2's 32000 tokens
constexpr const char* kBpe = "ggml-vocab-llama-bpe.gguf";  // Llama 3's 128256 tokens
constexpr const char* kQwen = "ggml-vocab-qwen2.gguf";     // Qwen2/Qwen3's 151936 tokens
constexpr const char* kPhi3 = "ggml-vocab-phi-3.gguf";     // Phi-3's 32064 tokens
constexpr double kInitStd = 0.02;                          // std of every weight matrix
constexpr double kNormStd = 0.1;                           // norm weights: N(1, this)

const std::vector<SynthShape> kShapes = {
    // name            dim  layers heads kv  ffn    vocab   ctx     theta    eps   tied  vocab
    {"tiny-125m",      768,  12,   12,   4,  2048,  32000,  2048,   10000.f, 1e-5f, false, kSpm,
     "a 125M Llama-2-vocabulary model for CPU benchmarks"},
    {"tinyllama-1.1b", 2048, 22,   32,   4,  5632,  32000,  2048,   10000.f, 1e-5f, false, kSpm,
     "TinyLlama 1.1B"},
    {"llama3.2-1b",    2048, 16,   32,   8,  8192,  128256, 131072, 500000.f, 1e-5f, true, kBpe,
     "Llama 3.2 1B", "llama", 0, 0, 0, 0, true},
    {"llama3.2-3b",    3072, 28,   24,   8,  8192,  128256, 131072, 500000.f, 1e-5f, true, kBpe,
     "Llama 3.2 3B", "llama", 0, 0, 0, 0, true},
    {"llama2-7b",      4096, 32,   32,   32, 11008, 32000,  4096,   10000.f, 1e-5f, false, kSpm,
     "Llama 2 7B"},
    {"llama3-8b",      4096, 32,   32,   8,  14336, 128256, 8192,   500000.f, 1e-5f, false, kBpe,
     "Llama 3 8B"},
    {"llama2-13b",     5120, 40,   40,   40, 13824, 32000,  4096,   10000.f, 1e-5f, false, kSpm,
     "Llama 2 13B"},
    //                                                                                         arch  head window rot orig
    {"qwen3-0.6b",     1024, 28,   16,   8,  3072,  151936, 40960,  1e6f,    1e-6f, true,  kQwen,
     "Qwen3 0.6B", "qwen3", 128},
    {"qwen3-1.7b",     2048, 28,   16,   8,  6144,  151936, 40960,  1e6f,    1e-6f, true,  kQwen,
     "Qwen3 1.7B", "qwen3", 128},
    {"qwen3-4b",       2560, 36,   32,   8,  9728,  151936, 40960,  1e6f,    1e-6f, true,  kQwen,
     "Qwen3 4B", "qwen3", 128},
    {"gemma3-270m",    640,  18,   4,    1,  2048,  262144, 32768,  1e6f,    1e-6f, true,  kSpm,
     "Gemma 3 270M (its vocabulary's size, Llama 2's tokens)", "gemma3", 256, 512},
    {"gemma3-1b",      1152, 26,   4,    1,  6912,  262144, 32768,  1e6f,    1e-6f, true,  kSpm,
     "Gemma 3 1B (its vocabulary's size, Llama 2's tokens)", "gemma3", 256, 512},
    {"phi3.5-mini",    3072, 32,   32,   32, 8192,  32064,  131072, 10000.f, 1e-5f, false, kPhi3,
     "Phi-3.5-mini", "phi3", 0, 0, 0, 4096},
    {"phi4-mini",      3072, 32,   24,   8,  8192,  200064, 131072, 10000.f, 1e-5f, true,  kPhi3,
     "Phi-4-mini (its vocabulary's size, Phi-3's tokens)", "phi3", 0, 0, 96, 4096},
    {"smollm3-3b",     2048, 36,   16,   4,  11008, 128256, 65536,  5e6f,    1e-6f, true,  kBpe,
     "SmolLM3 3B", "smollm3"},
    // Small shapes with real vocabularies, for tests: each family's golden
    // files (tests/fixtures/golden) are made from these.
    {"test-llama2",    64,   2,    4,    2,  128,   32000,  512,    10000.f, 1e-5f, false, kSpm,
     "a 4M test model with the Llama 2 vocabulary"},
    {"test-llama3",    64,   2,    4,    1,  96,    128256, 512,    500000.f, 1e-5f, true, kBpe,
     "an 8M test model with the Llama 3 vocabulary and rope_freqs", "llama", 0, 0, 0, 0, true},
    {"test-qwen3",     64,   2,    4,    2,  96,    151936, 512,    1e6f,    1e-6f, true,  kQwen,
     "a 10M qwen3 test model (head size 32 over width 64)", "qwen3", 32},
    {"test-gemma3",    64,   6,    4,    2,  128,   32000,  512,    1e6f,    1e-6f, true,  kSpm,
     "a 2M gemma3 test model (window 16: five layers slide, the sixth is global)", "gemma3", 32, 16},
    {"test-phi3",      64,   2,    4,    2,  96,    32064,  512,    10000.f, 1e-5f, false, kPhi3,
     "a 4M phi3 test model (fused tensors, 12 of 16 dimensions rotated, LongRoPE past 256 tokens)", "phi3", 0,
     0, 12, 256},
    {"test-smollm3",   64,   4,    4,    1,  96,    128256, 512,    5e6f,    1e-6f, true,  kBpe,
     "an 8M smollm3 test model (the fourth layer without RoPE)", "smollm3"},
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

// A fill function for a [rows, cols] tensor of `type`: N(mean, std) per row.
GgufWriter::Fill make_fill(std::string name, GgmlType type, int64_t rows, int64_t cols, double mean, double std,
                           uint64_t seed, int threads) {
  return [=](uint8_t* dst, uint64_t n_bytes) {
    const uint64_t row_bytes = ggml_row_bytes(type, static_cast<uint64_t>(cols));
    if (row_bytes * static_cast<uint64_t>(rows) != n_bytes) fail("synth: %s: size mismatch", name.c_str());
    const int n_threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, rows / 16)));
    auto work = [&](int t) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = t; r < rows; r += n_threads) {
        Rng rng(row_seed(seed, name, static_cast<uint64_t>(r)));
        for (auto& x : row) x = static_cast<float>(mean + rng.normal() * std);
        quantize_row(type, row.data(), dst + static_cast<uint64_t>(r) * row_bytes, cols);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; t++) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
  };
}

// Llama 3.1's frequency factors, as llama.cpp's converter computes them from
// rope_scaling {factor 32, low_freq_factor 1, high_freq_factor 4,
// original_max_position_embeddings 8192}: long wavelengths slowed by the
// factor, short ones kept, a smooth ramp between.
std::vector<float> llama3_rope_factors(int rope_dims, float theta) {
  const double factor = 32, low = 1, high = 4, old_context = 8192;
  const double pi = 3.14159265358979323846;
  std::vector<float> out;
  for (int i = 0; i < rope_dims; i += 2) {
    const double freq = 1.0 / std::pow((double)theta, (double)i / rope_dims);
    const double wavelen = 2 * pi / freq;
    if (wavelen < old_context / high) {
      out.push_back(1.0f);
    } else if (wavelen > old_context / low) {
      out.push_back((float)factor);
    } else {
      const double smooth = (old_context / wavelen - low) / (high - low);
      out.push_back((float)(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

// A fill that writes fixed f32 values.
GgufWriter::Fill fixed_f32(std::vector<float> values) {
  return [values](uint8_t* dst, uint64_t n_bytes) {
    if (n_bytes != values.size() * sizeof(float)) fail("synth: size mismatch in fixed values");
    std::memcpy(dst, values.data(), n_bytes);
  };
}

// The vocabulary's tokenizer metadata, padded to `vocab` tokens when the file
// has fewer: unused tokens ("<keymate_pad_N>", type 5, the lowest score) that
// no text tokenizes to, so only the matrices grow.
void copy_vocabulary(GgufWriter& w, const GgufFile& vocab, int n_vocab, const std::string& need, bool skip_template) {
  const GgufValue* tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->kind != GgufKind::ARRAY || tokens->item_kind != GgufKind::STRING)
    fail("%s: no tokenizer.ggml.tokens array: not a vocabulary GGUF", vocab.path().c_str());
  const uint64_t have = tokens->count, want = static_cast<uint64_t>(n_vocab);
  if (have > want)
    fail("%s: holds %llu tokens, more than the %d the shape has (use %s)", vocab.path().c_str(),
         static_cast<unsigned long long>(have), n_vocab, need.c_str());
  const uint64_t pad = want - have;
  // Only the vocabulary the shape names is padded: another one of the wrong
  // size was passed by mistake.
  const std::string& path = vocab.path();
  const bool named = path.size() >= need.size() && path.compare(path.size() - need.size(), need.size(), need) == 0;
  if (pad && !named)
    fail("%s: holds %llu tokens, but the shape needs %d (use %s)", path.c_str(), static_cast<unsigned long long>(have),
         n_vocab, need.c_str());
  for (const auto& kv : vocab.metadata()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;
    if (skip_template && kv.key == "tokenizer.chat_template") continue;
    if (pad && kv.key == "tokenizer.ggml.merges") fail("%s: a BPE vocabulary cannot be padded", vocab.path().c_str());
    if (!pad || (kv.key != "tokenizer.ggml.tokens" && kv.key != "tokenizer.ggml.scores" &&
                 kv.key != "tokenizer.ggml.token_type")) {
      w.add_value(kv.key, kv.value);
      continue;
    }
    if (kv.value.kind != GgufKind::ARRAY || kv.value.count != have)
      fail("%s: %s does not have one entry per token", vocab.path().c_str(), kv.key.c_str());
    if (kv.key == "tokenizer.ggml.tokens") {
      std::vector<std::string> names;
      for (uint64_t i = 0; i < pad; i++) names.push_back("<keymate_pad_" + std::to_string(i) + ">");
      std::vector<std::string_view> all(kv.value.strings.begin(), kv.value.strings.end());
      for (const auto& n : names) all.push_back(n);
      w.add_string_array(kv.key, all);
    } else if (kv.key == "tokenizer.ggml.scores" && kv.value.item_kind == GgufKind::F32) {
      std::vector<float> v(want);
      std::memcpy(v.data(), kv.value.items, have * sizeof(float));
      const float low = have ? *std::min_element(v.begin(), v.begin() + (ptrdiff_t)have) : 0.0f;
      std::fill(v.begin() + (ptrdiff_t)have, v.end(), low - 1.0f);
      w.add_array(kv.key, GgufKind::F32, want, v.data());
    } else if (kv.key == "tokenizer.ggml.token_type" && kv.value.item_kind == GgufKind::I32) {
      std::vector<int32_t> v(want, 5);  // llama.cpp's LLAMA_TOKEN_TYPE_UNUSED
      std::memcpy(v.data(), kv.value.items, have * sizeof(int32_t));
      w.add_array(kv.key, GgufKind::I32, want, v.data());
    } else {
      fail("%s: %s has an item kind synth cannot pad", vocab.path().c_str(), kv.key.c_str());
    }
  }
}

// Describes the whole model to `w`: metadata, the copied vocabulary, then the
// tensors in llama.cpp's order, each family's as its converter writes them.
void describe(GgufWriter& w, const SynthShape& s, const SynthOptions& opts, const GgufFile& vocab) {
  const GgmlType type = synth_type(opts.type);
  const std::string arch = s.arch;
  const int head_dim = s.head_size();
  const int rope_dims = s.rope_dims ? s.rope_dims : head_dim;
  const int threads =
      opts.threads > 0 ? opts.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const ArchFamily* fam = find_family(arch);
  if (!fam) fail("synth: shape %s has architecture %s, which the engine does not run", s.name, s.arch);
  const bool fused = fam->fused_ffn_up;  // its converter fuses attn_qkv as well

  w.add_string("general.architecture", arch);
  w.add_string("general.name", std::string("keymate synthetic ") + s.name);
  w.add_string("general.description",
               "seeded random weights in the shape of " + std::string(s.about) + "; not a trained model");
  w.add_u32("general.file_type", file_type_of(type));
  w.add_string("keymate.synth.shape", s.name);
  w.add_u64("keymate.synth.seed", opts.seed);
  w.add_u32("keymate.synth.version", kSynthVersion);
  auto u32 = [&](const char* key, int v) { w.add_u32(arch + "." + key, static_cast<uint32_t>(v)); };
  u32("context_length", s.context);
  u32("embedding_length", s.dim);
  u32("block_count", s.layers);
  u32("feed_forward_length", s.ffn);
  u32("attention.head_count", s.heads);
  u32("attention.head_count_kv", s.kv_heads);
  if (s.head_dim) {
    u32("attention.key_length", head_dim);
    u32("attention.value_length", head_dim);
  }
  u32("rope.dimension_count", rope_dims);
  w.add_f32(arch + ".rope.freq_base", s.rope_theta);
  w.add_f32(arch + ".attention.layer_norm_rms_epsilon", s.norm_eps);
  if (s.window) u32("attention.sliding_window", s.window);
  if (s.orig_context) {
    // LongRoPE's magnitude correction, as the Phi-3 converter computes it.
    const double scale = static_cast<double>(s.context) / s.orig_context;
    u32("rope.scaling.original_context_length", s.orig_context);
    w.add_f32(arch + ".rope.scaling.attn_factor",
              static_cast<float>(std::sqrt(1 + std::log(scale) / std::log(static_cast<double>(s.orig_context)))));
  }
  u32("vocab_size", s.vocab);
  copy_vocabulary(w, vocab, s.vocab, s.vocab_file, !opts.chat_template.empty());
  if (!opts.chat_template.empty()) w.add_string("tokenizer.chat_template", opts.chat_template);

  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    w.add_tensor(name, type, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)},
                 make_fill(name, type, rows, cols, 0.0, kInitStd, opts.seed, threads));
  };
  auto norm = [&](const std::string& name, int n) {
    w.add_tensor(name, GgmlType::F32, {static_cast<uint64_t>(n)},
                 make_fill(name, GgmlType::F32, 1, n, 1.0, kNormStd, opts.seed, threads));
  };
  auto factors = [&](const std::string& name, std::vector<float> v) {
    const uint64_t n = v.size();  // before the move: argument order is unspecified
    w.add_tensor(name, GgmlType::F32, {n}, fixed_f32(std::move(v)));
  };
  const int64_t q_dim = static_cast<int64_t>(s.heads) * head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.kv_heads) * head_dim;
  matrix("token_embd.weight", s.vocab, s.dim);
  norm("output_norm.weight", s.dim);
  if (!s.tied) matrix("output.weight", s.vocab, s.dim);
  if (s.llama3_rope) factors("rope_freqs.weight", llama3_rope_factors(rope_dims, s.rope_theta));
  if (s.orig_context) {
    // Made-up LongRoPE factors of the real kind: near 1 for the short
    // context, rising with the wavelength for the long one.
    std::vector<float> lo, hi;
    const int n = rope_dims / 2;
    for (int i = 0; i < n; i++) {
      const float t = static_cast<float>(i) / static_cast<float>(n);
      lo.push_back(1.0f + 0.2f * t);
      hi.push_back(1.0f + 40.0f * t * t);
    }
    factors("rope_factors_long.weight", hi);
    factors("rope_factors_short.weight", lo);
  }
  for (int l = 0; l < s.layers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    norm(p + "attn_norm.weight", s.dim);
    if (fused) {
      matrix(p + "attn_qkv.weight", q_dim + 2 * kv_dim, s.dim);
    } else {
      matrix(p + "attn_q.weight", q_dim, s.dim);
      matrix(p + "attn_k.weight", kv_dim, s.dim);
      matrix(p + "attn_v.weight", kv_dim, s.dim);
    }
    if (fam->qk_norm) {
      norm(p + "attn_q_norm.weight", head_dim);
      norm(p + "attn_k_norm.weight", head_dim);
    }
    matrix(p + "attn_output.weight", s.dim, q_dim);
    if (fam->post_norms) norm(p + "post_attention_norm.weight", s.dim);
    norm(p + "ffn_norm.weight", s.dim);
    if (fused) {
      matrix(p + "ffn_up.weight", 2 * static_cast<int64_t>(s.ffn), s.dim);
    } else {
      matrix(p + "ffn_gate.weight", s.ffn, s.dim);
      matrix(p + "ffn_up.weight", s.ffn, s.dim);
    }
    matrix(p + "ffn_down.weight", s.dim, s.ffn);
    if (fam->post_norms) norm(p + "post_ffw_norm.weight", s.dim);
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
