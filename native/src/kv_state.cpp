// The .kmkv file (see kv_state.h). Saving builds the file's image in one
// buffer whose payload the backend fills in place, then writes it through
// AtomicFile; loading reads the whole file and checks it, cheapest test first,
// so a file is refused before anything in the engine has changed.
#include "kv_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "atomic_file.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "rng.h"

namespace km {

namespace {

constexpr uint64_t kHashSampleBytes = 64;
constexpr uint64_t kChecksumBytes = sizeof(uint64_t);
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

template <typename T>
uint64_t hash_value(uint64_t h, const T& v) {
  return fnv1a64(&v, sizeof v, h);
}

// The first, middle and last kHashSampleBytes of a tensor's bytes (all of a
// smaller one).
uint64_t hash_bytes_sample(uint64_t h, const uint8_t* p, uint64_t n) {
  if (n <= 3 * kHashSampleBytes) return fnv1a64(p, n, h);
  h = fnv1a64(p, kHashSampleBytes, h);
  h = fnv1a64(p + (n - kHashSampleBytes) / 2, kHashSampleBytes, h);
  return fnv1a64(p + n - kHashSampleBytes, kHashSampleBytes, h);
}

uint64_t hash_file_tensors(uint64_t h, const GgufFile& f) {
  for (const GgufTensor& t : f.tensors()) {
    h = fnv1a64(t.name.data(), t.name.size(), h);
    h = hash_value(h, static_cast<uint32_t>(t.type));
    for (uint64_t d : t.shape) h = hash_value(h, d);
    h = hash_bytes_sample(h, t.data, t.n_bytes);
  }
  return h;
}

// A model with no file behind it (one built in memory by a test): the
// tensors it runs, in the order of Weights.
uint64_t hash_weights(uint64_t h, const Weights& w) {
  auto one = [&](const Tensor& t) {
    h = hash_value(h, static_cast<uint8_t>(t.empty() ? 0 : 1));
    if (t.empty()) return;
    h = fnv1a64(t.name.data(), t.name.size(), h);
    h = hash_value(h, static_cast<uint32_t>(t.type));
    h = hash_value(h, static_cast<uint32_t>(t.quant.type));
    h = hash_value(h, t.quant.group);
    h = hash_value(h, t.rows);
    h = hash_value(h, t.cols);
    h = hash_value(h, t.row_bytes);
    h = hash_bytes_sample(h, static_cast<const uint8_t*>(t.data), t.bytes());
  };
  one(w.token_embd);
  for (const LayerWeights& L : w.layers)
    for (const Tensor* t : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.bq, &L.bk, &L.bv, &L.wo, &L.ffn_norm, &L.w_gate,
                            &L.w_up, &L.w_down})
      one(*t);
  one(w.output_norm);
  one(w.output);
  one(w.rope_freqs);
  return h;
}

void copy_name(char* dst, size_t size, const std::string& s) {
  std::memset(dst, 0, size);
  std::memcpy(dst, s.data(), std::min(s.size(), size - 1));
}

std::string name_of(const char* field, size_t size) { return std::string(field, strnlen(field, size)); }

// "llama: dim 64, 5 layers, 8 heads (4 KV) of 8, vocab 512, context 512"
std::string shape_of(const KvStateHeader& h) {
  return format("%s: dim %d, %d layers, %d heads (%d KV) of %d, vocab %d, context %d",
                name_of(h.architecture, sizeof h.architecture).c_str(), h.dim, h.n_layers, h.n_heads, h.n_kv_heads,
                h.head_dim, h.vocab, h.context);
}

bool same_shape(const KvStateHeader& a, const KvStateHeader& b) {
  return std::memcmp(a.architecture, b.architecture, sizeof a.architecture) == 0 && a.dim == b.dim &&
         a.n_layers == b.n_layers && a.n_heads == b.n_heads && a.n_kv_heads == b.n_kv_heads &&
         a.head_dim == b.head_dim && a.vocab == b.vocab && a.context == b.context;
}

// Reads exactly n bytes at offset, or fails naming the file.
void read_at(int fd, const std::string& path, uint8_t* dst, uint64_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, dst, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("load_state: %s: cannot read: %s", path.c_str(), std::strerror(errno));
    if (r == 0) fail("load_state: %s is truncated (it ended while being read)", path.c_str());
    dst += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

uint64_t kv_state_model_hash(const Model& m) {
  const Config& c = m.config;
  uint64_t h = fnv1a64(c.architecture);
  for (int v : {c.dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim, c.vocab, c.context})
    h = hash_value(h, v);
  for (float v : {c.norm_eps, c.rope_theta, c.rope_freq_scale}) h = hash_value(h, v);
  h = hash_value(h, static_cast<int>(c.rope_style));
  for (bool v : {c.has_rope_freqs, c.qkv_bias, c.tied_embeddings}) h = hash_value(h, static_cast<uint8_t>(v));
  // The file's own tensors where there is one: the model as published,
  // whatever format it runs in (the header names that apart).
  return m.file ? hash_file_tensors(h, *m.file) : hash_weights(h, m.weights);
}

KvStateHeader kv_state_identity(const Model& m, uint64_t model_hash, const std::string& weights,
                                const std::string& kv) {
  const Config& c = m.config;
  KvStateHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kKvStateMagic, sizeof h.magic);
  h.version = kKvStateVersion;
  copy_name(h.architecture, sizeof h.architecture, c.architecture);
  copy_name(h.weights, sizeof h.weights, weights);
  copy_name(h.kv, sizeof h.kv, kv);
  h.dim = c.dim;
  h.n_layers = c.n_layers;
  h.n_heads = c.n_heads;
  h.n_kv_heads = c.n_kv_heads;
  h.head_dim = c.head_dim;
  h.vocab = c.vocab;
  h.context = c.context;
  h.model_hash = model_hash;
  return h;
}

// FNV-1a over 64-bit words in four lanes rather than over bytes: a byte at a
// time runs under 1 GB/s, this about ten times faster, so checking a state of
// hundreds of MB costs tens of milliseconds on a conversation switch. Each
// step is a bijection of the lane (xor, odd multiply, rotate), so changing
// any one word changes that lane for good; the rotate carries high bits down,
// which a multiply alone never does. The tail, the lanes and the length are
// folded in by the byte-wise FNV-1a.
uint64_t kv_state_checksum(const uint8_t* data, uint64_t n) {
  uint64_t lane[4] = {kFnvOffset, kFnvOffset ^ 1, kFnvOffset ^ 2, kFnvOffset ^ 3};
  uint64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; l++) {
      uint64_t w;
      std::memcpy(&w, data + i + 8 * l, sizeof w);
      const uint64_t x = (lane[l] ^ w) * kFnvPrime;
      lane[l] = (x << 29) | (x >> 35);
    }
  uint64_t h = fnv1a64(data + i, n - i);
  for (uint64_t v : lane) h = hash_value(h, v);
  return hash_value(h, n);
}

uint64_t write_kv_state(const std::string& path, KvStateHeader identity, const std::vector<int32_t>& tokens,
                        uint64_t payload_bytes, const std::function<void(uint8_t*)>& fill) {
  identity.n_tokens = static_cast<int32_t>(tokens.size());
  identity.payload_bytes = payload_bytes;
  const uint64_t token_bytes = tokens.size() * sizeof(int32_t);
  const uint64_t payload_at = sizeof identity + token_bytes;
  std::vector<uint8_t> image(payload_at + payload_bytes + kChecksumBytes);
  std::memcpy(image.data(), &identity, sizeof identity);
  if (token_bytes) std::memcpy(image.data() + sizeof identity, tokens.data(), token_bytes);
  fill(image.data() + payload_at);
  const uint64_t sum = kv_state_checksum(image.data(), payload_at + payload_bytes);
  std::memcpy(image.data() + payload_at + payload_bytes, &sum, sizeof sum);
  try {
    AtomicFile out(path, 0600);  // a conversation: the user's alone
    out.write(image.data(), image.size());
    out.commit();
  } catch (const Error& e) {
    fail("save_state: %s", e.what());
  }
  return image.size();
}

KvStateFile read_kv_state(const std::string& path, const KvStateHeader& want) {
  const char* p = path.c_str();
  Fd f;
  f.fd = ::open(p, O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) fail("load_state: %s: cannot open: %s", p, std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail("load_state: %s: cannot read: %s", p, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("load_state: %s is not a file", p);
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  KvStateHeader h;
  std::memset(&h, 0, sizeof h);
  read_at(f.fd, path, reinterpret_cast<uint8_t*>(&h), std::min<uint64_t>(size, sizeof h), 0);
  if (size < sizeof h.magic || std::memcmp(h.magic, kKvStateMagic, sizeof h.magic) != 0)
    fail("load_state: %s is not a Keymate KV state (no KMKV magic)", p);
  if (size < sizeof h + kChecksumBytes)
    fail("load_state: %s is truncated (%llu bytes, shorter than a header)", p, (unsigned long long)size);
  if (h.version != kKvStateVersion)
    fail("load_state: %s has format version %u; this Keymate reads version %u", p, h.version, kKvStateVersion);
  if (h.n_tokens < 0) fail("load_state: %s is damaged (a token count of %d)", p, h.n_tokens);
  // Sizes from the header are checked against the file's before anything is
  // allocated from them, so a damaged count cannot ask for terabytes.
  const uint64_t token_bytes = static_cast<uint64_t>(h.n_tokens) * sizeof(int32_t);
  const uint64_t known = sizeof h + token_bytes + kChecksumBytes;
  if (h.payload_bytes > size || known + h.payload_bytes > size)
    fail("load_state: %s is truncated (%llu bytes; its header says %llu)", p, (unsigned long long)size,
         (unsigned long long)(known + h.payload_bytes));
  if (known + h.payload_bytes < size)
    fail("load_state: %s is damaged (%llu bytes; its header says %llu)", p, (unsigned long long)size,
         (unsigned long long)(known + h.payload_bytes));

  KvStateFile out;
  out.bytes.resize(size);
  read_at(f.fd, path, out.bytes.data(), size, 0);
  uint64_t sum;
  std::memcpy(&sum, out.bytes.data() + size - kChecksumBytes, sizeof sum);
  if (sum != kv_state_checksum(out.bytes.data(), size - kChecksumBytes))
    fail("load_state: %s is damaged (checksum mismatch)", p);
  std::memcpy(&h, out.bytes.data(), sizeof h);  // what the checksum vouched for

  if (!same_shape(h, want))
    fail("load_state: %s was written for another model (%s; this engine runs %s)", p, shape_of(h).c_str(),
         shape_of(want).c_str());
  if (h.model_hash != want.model_hash) fail("load_state: %s was written for another model (fingerprint differs)", p);
  const std::string weights = name_of(h.weights, sizeof h.weights), kv = name_of(h.kv, sizeof h.kv);
  const std::string my_weights = name_of(want.weights, sizeof want.weights), my_kv = name_of(want.kv, sizeof want.kv);
  if (weights != my_weights)
    fail("load_state: %s was written with weights %s; this engine runs %s (load the model with weights %s to use it)",
         p, weights.c_str(), my_weights.c_str(), weights.c_str());
  if (kv != my_kv)
    fail("load_state: %s holds a KV cache in %s; this engine's is in %s (load the model with kv %s to use it)", p,
         kv.c_str(), my_kv.c_str(), kv.c_str());

  out.tokens.resize(static_cast<size_t>(h.n_tokens));
  if (token_bytes) std::memcpy(out.tokens.data(), out.bytes.data() + sizeof h, token_bytes);
  for (size_t i = 0; i < out.tokens.size(); i++)
    if (out.tokens[i] < 0 || out.tokens[i] >= h.vocab)
      fail("load_state: %s is damaged (token %d at position %zu is outside the vocabulary)", p, out.tokens[i], i);
  out.payload_offset = sizeof h + token_bytes;
  out.payload_bytes = h.payload_bytes;
  return out;
}

}  // namespace km
