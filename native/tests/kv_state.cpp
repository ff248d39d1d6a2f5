// kv_state: the prefix cache saved to a .kmkv file and loaded into a new
// engine on the CPU backend (stories260K). A loaded state continues as the
// engine that saved it would have (logits bit for bit) and as one that read
// the whole prompt itself (the same reply, logits within kPrefillSplitTol); a
// damaged file, another model, another format or a context too small is
// refused with one line, the cache as it was.
#include <sys/stat.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "keymate/engine.h"
#include "keymate/tokenizer.h"
#include "kv_state.h"
#include "logit_diff.h"
#include "temp_dir.h"
#include "test.h"

namespace {

const std::string kPrompt = "Once upon a time, there was a little girl named Lily.";
const std::string kMore = " She loved to";
constexpr int kReply = 8;
// A loaded state against an engine that ran every token in one prefill,
// relative to the logit range: the state's K/V came from a prefill and then
// one token at a time, and attention scores keys 8 at a time and the rest
// one by one, so a key may be summed differently (as cpu_backend's
// kBatchTolF32). Measured 3e-7 with f16 KV, 0 with int8 and fp8.
constexpr double kPrefillSplitTol = 1e-5;
// The KV formats whose bytes differ in kind: 16-bit floats, int8 with a
// scale array, 8-bit floats.
const char* const kKvFormats[] = {"f16", "int8", "fp8"};

std::unique_ptr<km::Engine> load(const std::string& kv = "f16", const std::string& model = "stories260K.gguf",
                                 int context = 0, const std::string& weights = "native") {
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = context;
  o.kv = kv;
  o.weights = weights;
  return km::Engine::load(kt::model_path(model), o);
}

km::GenerateRequest greedy(const std::string& prompt, int max_tokens) {
  km::GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.f;
  return r;
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Leading tokens two sequences share.
size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) n++;
  return n;
}

// The tokens the cache holds after generate(kPrompt, kReply): the prompt and
// every reply token but the last, which was sampled and never run.
std::vector<int32_t> cached_after(const km::Engine& e, const km::GenerateResult& r) {
  std::vector<int32_t> t = e.tokenizer().encode(kPrompt, true, true);
  t.insert(t.end(), r.tokens.begin(), r.tokens.end() - 1);
  return t;
}

// The engine still answers kPrompt from its cache as before: every prompt
// token but the last reused, the same reply.
void check_cache_kept(km::Engine& e, const km::GenerateResult& before) {
  const km::GenerateResult r = e.generate(greedy(kPrompt, kReply), nullptr);
  CHECK_EQ(r.cached_tokens, r.prompt_tokens - 1);
  CHECK(r.tokens == before.tokens);
}

}  // namespace

TEST(kv_state, a_loaded_state_continues_as_the_engine_that_saved_it) {
  kt::TempDir dir("keymate-kv-state");
  for (const char* kv : kKvFormats) {
    const std::string path = dir.path + "/" + kv + ".kmkv";
    auto saver = load(kv);
    const km::GenerateResult first = saver->generate(greedy(kPrompt, kReply), nullptr);
    REQUIRE(first.tokens.size() == size_t{kReply});
    const std::vector<int32_t> held = cached_after(*saver, first);
    const km::StateInfo saved = saver->save_state(path);
    CHECK_EQ(saved.tokens, static_cast<int>(held.size()));
    CHECK_EQ(saved.bytes, static_cast<uint64_t>(kt::read_all(path).size()));

    auto loader = load(kv);
    const km::StateInfo loaded = loader->load_state(path);
    CHECK_EQ(loaded.tokens, saved.tokens);
    CHECK_EQ(loaded.bytes, saved.bytes);

    // The conversation goes on: what was said, then new text.
    const std::string next = kPrompt + first.completion + kMore;
    const std::vector<int32_t> next_tokens = loader->tokenizer().encode(next, true, true);
    const size_t reuse = std::min(common_prefix(held, next_tokens), next_tokens.size() - 1);
    REQUIRE(reuse > held.size() / 2);  // the text re-encodes to (nearly) the tokens held
    const km::GenerateResult a = saver->generate(greedy(next, 16), nullptr);
    const km::GenerateResult b = loader->generate(greedy(next, 16), nullptr);
    auto fresh = load(kv);
    const km::GenerateResult c = fresh->generate(greedy(next, 16), nullptr);
    CHECK_EQ(b.cached_tokens, static_cast<int>(reuse));
    CHECK_EQ(a.cached_tokens, b.cached_tokens);
    CHECK_EQ(c.cached_tokens, 0);
    CHECK(b.tokens == a.tokens);
    CHECK(b.tokens == c.tokens);
    CHECK_EQ(b.completion, c.completion);
  }
}

TEST(kv_state, logits_after_a_load_are_the_saving_engines_bit_for_bit) {
  kt::TempDir dir("keymate-kv-state");
  for (const char* kv : kKvFormats) {
    const std::string path = dir.path + "/" + kv + ".kmkv";
    auto saver = load(kv);
    const km::GenerateResult first = saver->generate(greedy(kPrompt, kReply), nullptr);
    const km::StateInfo saved = saver->save_state(path);
    auto loader = load(kv);
    loader->load_state(path);

    // The rest of the conversation run on each cache directly, every
    // position's logits kept.
    std::vector<int32_t> all = cached_after(*saver, first);
    const std::vector<int32_t> more = saver->tokenizer().encode(kMore, false, true);
    all.insert(all.end(), more.begin(), more.end());
    const int n = saved.tokens, rest = static_cast<int>(more.size());
    const int vocab = saver->info().vocab;
    std::vector<float> a(static_cast<size_t>(rest) * vocab), b(a.size());
    saver->backend().forward(more.data(), rest, n, a.data(), true);
    loader->backend().forward(more.data(), rest, n, b.data(), true);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);

    // And as an engine that ran every token in one prefill.
    auto fresh = load(kv);
    const std::vector<float> whole = fresh->logits(all, true);
    const std::vector<float> tail(whole.begin() + static_cast<long>(n) * vocab, whole.end());
    CHECK(kt::max_rel_diff(b, tail, vocab) <= kPrefillSplitTol);
  }
}

TEST(kv_state, a_damaged_file_is_refused_and_the_cache_is_kept) {
  kt::TempDir dir("keymate-kv-state");
  const std::string good = dir.path + "/good.kmkv";
  auto saver = load();
  saver->generate(greedy("One day, a dog", kReply), nullptr);
  saver->save_state(good);
  const std::vector<uint8_t> bytes = kt::read_all(good);
  REQUIRE(bytes.size() > sizeof(km::KvStateHeader) + 64);

  auto e = load();
  const km::GenerateResult before = e->generate(greedy(kPrompt, kReply), nullptr);
  auto refused = [&](const std::vector<uint8_t>& file, const std::string& message) {
    const std::string path = dir.path + "/bad.kmkv";
    write_all(path, file);
    CHECK_THROWS_WITH(e->load_state(path), "load_state: " + path + " " + message);
    check_cache_kept(*e, before);
  };

  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 100);
  refused(cut, "is truncated (");
  std::vector<uint8_t> flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  refused(flipped, "is damaged (checksum mismatch)");
  std::vector<uint8_t> last = bytes;
  last.back() ^= 1;  // the checksum itself
  refused(last, "is damaged (checksum mismatch)");
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  refused(longer, "is damaged (");
  std::vector<uint8_t> count = bytes;
  count[offsetof(km::KvStateHeader, n_tokens)] ^= 1;
  refused(count, "is ");  // truncated or damaged, by which way the count moved
  std::vector<uint8_t> version = bytes;
  version[offsetof(km::KvStateHeader, version)] = 9;
  refused(version, "has format version 9; this Keymate reads version 1");
  refused(std::vector<uint8_t>{'G', 'G', 'U', 'F', 3, 0, 0, 0}, "is not a Keymate KV state (no KMKV magic)");
  refused(std::vector<uint8_t>{'K', 'M', 'K', 'V'}, "is truncated (4 bytes, shorter than a header)");
  refused(std::vector<uint8_t>{}, "is not a Keymate KV state");
  CHECK_THROWS_WITH(e->load_state(dir.path + "/missing.kmkv"), "cannot open: No such file or directory");
  CHECK_THROWS_WITH(e->load_state(dir.path), "is not a file");
  check_cache_kept(*e, before);
}

TEST(kv_state, another_model_format_or_context_is_refused) {
  kt::TempDir dir("keymate-kv-state");
  const std::string path = dir.path + "/f32-f16.kmkv";
  auto saver = load("f16", "stories260K.gguf");
  saver->generate(greedy("One day, a dog", kReply), nullptr);
  const km::StateInfo saved = saver->save_state(path);

  auto check = [&](km::Engine& e, const std::string& message) {
    const km::GenerateResult before = e.generate(greedy(kPrompt, kReply), nullptr);
    CHECK_THROWS_WITH(e.load_state(path), "load_state: " + path + " " + message);
    check_cache_kept(e, before);
  };
  // Same shape, other tensors: only the fingerprint tells them apart.
  auto q8 = load("f16", "stories260K-Q8_0.gguf");
  check(*q8, "was written for another model (fingerprint differs)");
  auto other = load("f16", "llama-2-tiny-random.gguf");
  check(*other, "was written for another model (llama: dim 64,");
  auto int8_kv = load("int8");
  check(*int8_kv, "holds a KV cache in f16; this engine's is in int8 (load the model with kv f16 to use it)");
  auto f16_weights = load("f16", "stories260K.gguf", 0, "f16");
  check(*f16_weights, "was written with weights native; this engine runs f16");
  auto small = load("f16", "stories260K.gguf", saved.tokens - 1);
  const km::GenerateResult before = small->generate(greedy("Once", 2), nullptr);
  CHECK_THROWS_WITH(small->load_state(path),
                    "holds " + std::to_string(saved.tokens) + " tokens, more than this engine's context of " +
                        std::to_string(saved.tokens - 1));
  CHECK_EQ(small->generate(greedy("Once", 2), nullptr).cached_tokens, before.prompt_tokens - 1);
  // The file was fine all along.
  auto same = load();
  CHECK_EQ(same->load_state(path).tokens, saved.tokens);
}

TEST(kv_state, saving_is_atomic_and_private) {
  kt::TempDir dir("keymate-kv-state");
  const std::string path = dir.path + "/chat.kmkv";
  auto e = load();
  e->generate(greedy(kPrompt, kReply), nullptr);
  const km::StateInfo first = e->save_state(path);
  e->generate(greedy(kPrompt + kMore, kReply), nullptr);
  const km::StateInfo second = e->save_state(path);  // replaces the first
  CHECK(second.tokens > first.tokens);
  CHECK_EQ(static_cast<uint64_t>(kt::read_all(path).size()), second.bytes);
  CHECK(dir.list() == std::vector<std::string>{"chat.kmkv"});  // no temporary file left
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK_EQ(st.st_mode & 0777, 0600u);
  CHECK_THROWS_WITH(e->save_state(dir.path + "/no/such/dir/chat.kmkv"), "save_state: " + dir.path + "/no/such/dir");
}

TEST(kv_state, an_empty_cache_round_trips) {
  kt::TempDir dir("keymate-kv-state");
  const std::string path = dir.path + "/empty.kmkv";
  auto fresh = load();
  const km::StateInfo saved = fresh->save_state(path);
  CHECK_EQ(saved.tokens, 0);
  CHECK_EQ(saved.bytes, uint64_t{sizeof(km::KvStateHeader) + sizeof(uint64_t)});
  auto e = load();
  e->generate(greedy(kPrompt, kReply), nullptr);
  CHECK_EQ(e->load_state(path).tokens, 0);
  CHECK_EQ(e->generate(greedy(kPrompt, kReply), nullptr).cached_tokens, 0);  // the old cache is gone
}

TEST(kv_state, the_checksum_sees_every_bit) {
  std::vector<uint8_t> data(203);  // four-lane blocks and a tail
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(i * 37 + 11);
  const uint64_t sum = km::kv_state_checksum(data.data(), data.size());
  for (size_t i = 0; i < data.size(); i++)
    for (int bit = 0; bit < 8; bit++) {
      data[i] ^= static_cast<uint8_t>(1 << bit);
      if (km::kv_state_checksum(data.data(), data.size()) == sum) CHECK(!"a flipped bit kept the checksum");
      data[i] ^= static_cast<uint8_t>(1 << bit);
    }
  CHECK(km::kv_state_checksum(data.data(), data.size() - 1) != sum);  // the length counts
}
