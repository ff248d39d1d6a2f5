// The Engine API on real and synthetic models: backend probe, load options,
// greedy and seeded generation, streaming (complete UTF-8 only, events that
// add up to the completion), every stop reason, logits, synthetic models
// equal to their written files, and the benchmark's report.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gguf_writer.h"
#include "keymate/engine.h"
#include "keymate/gguf.h"
#include "keymate/error.h"
#include "keymate/tokenizer.h"
#include "synth.h"
#include "test.h"
#include "utf8_stream.h"

namespace {

std::string stories() { return kt::model_path("stories260K.gguf"); }

km::LoadOptions cpu_opts(int context = 0) {
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = context;
  return o;
}

km::GenerateRequest greedy(const std::string& prompt, int max_tokens) {
  km::GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.f;
  return r;
}

bool valid_utf8(const std::string& s) {
  km::Utf8Stream u;
  return u.push(s) == s && !u.pending();
}

}  // namespace

TEST(engine, utf8_stream_holds_back_partial_characters) {
  km::Utf8Stream u;
  CHECK_EQ(u.push("caf\xC3"), std::string("caf"));  // é split after its lead byte
  CHECK(u.pending());
  CHECK_EQ(u.push("\xA9!"), std::string("\xC3\xA9!"));
  // A 4-byte emoji one byte at a time.
  CHECK_EQ(u.push("\xF0"), std::string());
  CHECK_EQ(u.push("\x9F"), std::string());
  CHECK_EQ(u.push("\x98"), std::string());
  CHECK_EQ(u.push("\x80"), std::string("\xF0\x9F\x98\x80"));
  CHECK(!u.pending());
  // Bytes that can never be a character become U+FFFD at once.
  CHECK_EQ(u.push("a\xFF" "b"), std::string("a\xEF\xBF\xBD" "b"));
  CHECK_EQ(u.push("\xC3" "x"), std::string("\xEF\xBF\xBD" "x"));          // lead byte, then no continuation
  CHECK_EQ(u.push("\xED\xA0\x80"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));  // a surrogate
  CHECK_EQ(u.push("\xE0\x80"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));  // overlong
  // An unfinished tail at the end of the stream.
  CHECK_EQ(u.push("\xE2\x96"), std::string());
  CHECK_EQ(u.finish(), std::string("\xEF\xBF\xBD"));
  CHECK_EQ(u.finish(), std::string());
}

TEST(engine, probe_reports_this_build) {
  const km::BackendReport r = km::probe_backends();
  CHECK(r.cpu.available);
  CHECK(r.cpu.simd == "scalar" || r.cpu.simd == "avx2" || r.cpu.simd == "avx512vnni");
  CHECK(r.cpu.threads >= 1);
  // The archs this build was configured for, in order. The release default
  // (all five) is checked on the shipped addon by the node test of `keymate
  // info`; `npm test` builds this tree for one arch to save CI minutes.
  std::vector<int> configured;
  for (const char* p = KEYMATE_TEST_CUDA_ARCHS; *p != 0;) {
    configured.push_back(std::atoi(p));
    while (*p != 0 && *p != ',') p++;
    if (*p == ',') p++;
  }
  CHECK(!configured.empty());
  CHECK(r.cuda.archs == configured);
  if (!r.cuda.available) CHECK(!r.cuda.reason.empty());
#ifndef KEYMATE_HAVE_CUDA
  CHECK(!r.cuda.compiled);
  CHECK(r.cuda.devices.empty());
#else
  CHECK(r.cuda.compiled);
#endif
}

TEST(engine, load_options_are_checked) {
  auto o = cpu_opts();
  o.weights = "int3";  // the formats themselves are tested in quant_*.cpp and kv_*.cpp
  CHECK_THROWS_WITH(km::Engine::load(stories(), o), "weights int3: unknown format (native, f16, fp8");
  o = cpu_opts();
  o.kv = "fp4";
  CHECK_THROWS_WITH(km::Engine::load(stories(), o), "kv fp4: unknown format (f16, int8, fp8");
  o = cpu_opts();
  o.backend = "tpu";
  CHECK_THROWS_WITH(km::Engine::load(stories(), o), "unknown backend");
  o = cpu_opts();
  o.backend = "cuda";
  const km::BackendReport r = km::probe_backends();
  if (!r.cuda.available) CHECK_THROWS_WITH(km::Engine::load(stories(), o), r.cuda.reason);
  CHECK_THROWS_WITH(km::Engine::load(kt::models_dir() + "/no-such-model.gguf", cpu_opts()), "no-such-model.gguf");
  // auto picks a backend that exists.
  o = cpu_opts();
  o.backend = "auto";
  auto e = km::Engine::load(stories(), o);
  CHECK(e->backend().name() == (r.cuda.available ? "cuda" : "cpu"));
}

TEST(engine, info_describes_the_model) {
  auto e = km::Engine::load(stories(), cpu_opts());
  const km::ModelInfo i = e->info();
  CHECK_EQ(i.architecture, std::string("llama"));
  CHECK_EQ(i.dim, 64);
  CHECK_EQ(i.layers, 5);
  CHECK_EQ(i.heads, 8);
  CHECK_EQ(i.kv_heads, 4);
  CHECK_EQ(i.ffn, 172);
  CHECK_EQ(i.vocab, 512);
  CHECK_EQ(i.context_length, 512);
  CHECK_EQ(i.tokenizer, std::string("llama"));
  CHECK(i.parameters > 200000 && i.parameters < 300000);
  CHECK_EQ(i.tensor_types.size(), size_t{1});
  CHECK(i.tensor_types.count("f32") == 1);
  CHECK(i.path.find("stories260K.gguf") != std::string::npos);
}

TEST(engine, greedy_story_as_llama_cpp_tells_it) {
  // models/README: llama.cpp's greedy continuation of this prompt.
  auto e = km::Engine::load(stories(), cpu_opts());
  const auto r = e->generate(greedy("Once upon a time", 40), nullptr);
  const std::string expect =
      ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
  CHECK_EQ(r.completion.substr(0, expect.size()), expect);
  CHECK_EQ(r.prompt_tokens, 5);  // BOS + 4
  CHECK(r.ttft_ms > 0);
  CHECK(r.prefill_ms > 0 && r.prefill_ms <= r.ttft_ms);
  CHECK(r.decode_tok_s > 0);
  // Greedy is deterministic.
  CHECK(e->generate(greedy("Once upon a time", 40), nullptr).tokens == r.tokens);
}

TEST(engine, tokens_stream_as_they_are_made) {
  auto e = km::Engine::load(stories(), cpu_opts());
  std::vector<km::TokenEvent> events;
  const auto r = e->generate(greedy("The little dog", 30), [&](const km::TokenEvent& ev) { events.push_back(ev); });
  REQUIRE(events.size() == r.tokens.size());
  std::string text;
  for (size_t i = 0; i < events.size(); i++) {
    CHECK_EQ(events[i].index, static_cast<int>(i));
    CHECK_EQ(events[i].token, r.tokens[i]);
    CHECK(valid_utf8(events[i].text));
    if (i > 0) CHECK(events[i].t_ms >= events[i - 1].t_ms);
    text += events[i].text;
  }
  CHECK_EQ(text, r.completion);
  std::string pieces;  // the completion keeps the first token's leading space, as llama.cpp prints it
  for (int32_t t : r.tokens) pieces += e->tokenizer().piece(t);
  CHECK_EQ(r.completion, pieces);
  CHECK_EQ(r.completion.substr(0, 4), std::string(" was"));
  CHECK_NEAR(events[0].t_ms, r.ttft_ms, 1e-9);
}

TEST(engine, stop_reasons) {
  auto e = km::Engine::load(stories(), cpu_opts(32));
  // length
  auto r = e->generate(greedy("Once upon a time", 7), nullptr);
  CHECK_EQ(r.stop, std::string("length"));
  CHECK_EQ(r.tokens.size(), size_t{7});
  CHECK(e->generate(greedy("Once upon a time", 0), nullptr).tokens.empty());
  // cancelled: the flag is read between tokens
  std::atomic<bool> cancel{false};
  auto req = greedy("Once upon a time", 20);
  req.cancel = &cancel;
  r = e->generate(req, [&](const km::TokenEvent& ev) {
    if (ev.index == 2) cancel = true;
  });
  CHECK_EQ(r.stop, std::string("cancelled"));
  CHECK_EQ(r.tokens.size(), size_t{3});
  // cancelled before it starts: nothing runs
  r = e->generate(req, nullptr);
  CHECK_EQ(r.stop, std::string("cancelled"));
  CHECK(r.tokens.empty());
  // context: 32 positions; the last sampled token needs no position of its own
  r = e->generate(greedy("Once upon a time", 100), nullptr);
  if (r.stop != "eos") {
    CHECK_EQ(r.stop, std::string("context"));
    CHECK_EQ(r.prompt_tokens + static_cast<int>(r.tokens.size()), 33);
  }
  // a prompt that does not fit
  std::string long_prompt;
  for (int i = 0; i < 40; i++) long_prompt += " the dog";
  CHECK_THROWS_WITH(e->generate(greedy(long_prompt, 4), nullptr), "context");
}

TEST(engine, eos_stops_generation) {
  // stories260K never ends a story with EOS (its stories are separated by
  // BOS), so make a copy whose EOS is a token the greedy story does produce:
  // generation must stop right before its first occurrence.
  auto e = km::Engine::load(stories(), cpu_opts());
  const auto story = e->generate(greedy("Once upon a time", 24), nullptr);
  REQUIRE(story.tokens.size() == 24u);
  const int32_t eos = story.tokens[10];
  size_t first = 0;
  while (story.tokens[first] != eos) first++;

  auto src = km::GgufFile::open(stories());
  km::GgufWriter w(static_cast<uint32_t>(src->alignment()));
  for (const auto& kv : src->metadata()) {
    if (kv.key == "general.alignment") continue;
    if (kv.key == "tokenizer.ggml.eos_token_id")
      w.add_u32(kv.key, static_cast<uint32_t>(eos));
    else
      w.add_value(kv.key, kv.value);
  }
  for (const auto& t : src->tensors()) {
    const uint8_t* data = t.data;
    w.add_tensor(t.name, t.type, t.shape, [data](uint8_t* dst, uint64_t n) { std::memcpy(dst, data, n); });
  }
  char dir[] = "/tmp/keymate-engine-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/eos.gguf";
  w.write_file(path);
  auto e2 = km::Engine::load(path, cpu_opts());
  CHECK(e2->tokenizer().is_eog(eos));
  std::vector<km::TokenEvent> events;
  const auto r = e2->generate(greedy("Once upon a time", 24), [&](const km::TokenEvent& ev) { events.push_back(ev); });
  CHECK_EQ(r.stop, std::string("eos"));
  CHECK(r.tokens == std::vector<int32_t>(story.tokens.begin(), story.tokens.begin() + static_cast<long>(first)));
  CHECK_EQ(events.size(), first);  // EOS itself is neither streamed nor part of the completion
  unlink(path.c_str());
  rmdir(dir);
}

TEST(engine, seeded_sampling_repeats) {
  auto e = km::Engine::load(stories(), cpu_opts());
  km::GenerateRequest req;
  req.prompt = "Once upon a time";
  req.max_tokens = 40;
  req.sampling.temperature = 1.0f;
  req.sampling.seed = 7;
  const auto a = e->generate(req, nullptr);
  const auto b = e->generate(req, nullptr);
  CHECK(a.tokens == b.tokens);
  CHECK(valid_utf8(a.completion));
  std::vector<std::vector<int32_t>> others;
  for (uint64_t seed = 8; seed < 12; seed++) {
    req.sampling.seed = seed;
    others.push_back(e->generate(req, nullptr).tokens);
  }
  bool differs = false;
  for (const auto& o : others) differs = differs || o != a.tokens;
  CHECK(differs);
  // With a repetition penalty, the text still comes out whole.
  req.sampling.repeat_penalty = 1.3f;
  CHECK(valid_utf8(e->generate(req, nullptr).completion));
}

TEST(engine, logits_agree_with_generation) {
  auto e = km::Engine::load(stories(), cpu_opts());
  const std::vector<int32_t> prompt = e->tokenizer().encode("Once upon a time", true, true);
  const auto last = e->logits(prompt);
  REQUIRE(last.size() == 512u);
  const auto all = e->logits(prompt, true);
  REQUIRE(all.size() == 512u * prompt.size());
  float range = 0;
  for (float v : last) range = std::max(range, std::fabs(v));
  for (size_t i = 0; i < 512; i++) CHECK_NEAR(all[(prompt.size() - 1) * 512 + i], last[i], 1e-4 * range);
  int best = 0;
  for (int i = 1; i < 512; i++)
    if (last[static_cast<size_t>(i)] > last[static_cast<size_t>(best)]) best = i;
  const auto r = e->generate(greedy("Once upon a time", 1), nullptr);
  REQUIRE(r.tokens.size() == 1);
  CHECK_EQ(r.tokens[0], best);
  CHECK_THROWS_WITH(e->logits({}), "no tokens");
  CHECK_THROWS_WITH(e->logits({1, 9999}), "vocabulary");
}

TEST(engine, quantized_models_generate_sensibly) {
  // Q8_0 and Q4_0 of the same story model: real words, mostly the F32 story.
  auto f32 = km::Engine::load(stories(), cpu_opts());
  const auto ref = f32->generate(greedy("Once upon a time", 32), nullptr);
  for (const char* file : {"/stories260K-Q8_0.gguf", "/stories260K-Q4_0.gguf"}) {
    auto e = km::Engine::load(kt::models_dir() + file, cpu_opts());
    const auto r = e->generate(greedy("Once upon a time", 32), nullptr);
    CHECK_EQ(r.tokens.size(), size_t{32});
    CHECK(valid_utf8(r.completion));
    CHECK(r.completion.find(" there was") != std::string::npos || r.completion.find("Lily") != std::string::npos);
    size_t same = 0;
    while (same < r.tokens.size() && r.tokens[same] == ref.tokens[same]) same++;
    std::fprintf(stderr, "  %s: first %zu of 32 greedy tokens equal F32's: %s\n", file, same, r.completion.c_str());
    CHECK(same >= 4);
  }
}

TEST(engine, synthetic_equals_its_file) {
  char dir[] = "/tmp/keymate-engine-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/m.gguf";
  setenv("KEYMATE_VOCAB_DIR", (kt::models_dir() + "/vocab").c_str(), 1);
  km::SynthOptions so;
  so.shape = "test-llama2";
  so.type = "q8_0";
  so.seed = 11;
  km::write_synthetic_gguf(so, path);
  auto from_file = km::Engine::load(path, cpu_opts());
  auto in_memory = km::Engine::synthetic("test-llama2", "q8_0", 11, cpu_opts());
  unsetenv("KEYMATE_VOCAB_DIR");
  const std::vector<int32_t> tokens = from_file->tokenizer().encode("Hello there, keyboard", true, true);
  const auto a = from_file->logits(tokens);
  const auto b = in_memory->logits(tokens);
  CHECK(a == b);  // the same bytes, the same backend: bit-identical
  float amax = 0;
  for (float v : a) {
    REQUIRE(std::isfinite(v));
    amax = std::max(amax, std::fabs(v));
  }
  CHECK(amax > 0);
  const auto i = in_memory->info();
  CHECK_EQ(i.vocab, 32000);
  CHECK_EQ(i.dim, 64);
  CHECK(i.tensor_types.count("q8_0") == 1);
  const auto g = in_memory->generate(greedy("Hello", 8), nullptr);
  CHECK_EQ(g.tokens.size(), size_t{8});
  CHECK(valid_utf8(g.completion));
  unlink(path.c_str());
  rmdir(dir);
}

TEST(engine, bench_reports_consistent_numbers) {
  auto e = km::Engine::load(stories(), cpu_opts(64));
  km::BenchRequest req;
  req.prompt_tokens = 16;
  req.gen_tokens = 8;
  req.repeat = 3;
  const km::BenchResult r = e->bench(req);
  CHECK_EQ(r.backend, std::string("cpu"));
  CHECK(!r.device.empty());
  CHECK_EQ(r.prompt_tokens, 16);
  CHECK_EQ(r.gen_tokens, 8);
  CHECK_EQ(r.threads, 2);
  CHECK(r.ttft_ms.min > 0 && r.ttft_ms.min <= r.ttft_ms.median && r.ttft_ms.median <= r.ttft_ms.p90);
  CHECK(r.prefill_tok_s > 0);
  CHECK(r.decode_tok_s > 0);
  CHECK_NEAR(r.decode_ms_per_token, 1000.0 / r.decode_tok_s, 0.5 * r.decode_ms_per_token);
  const auto& s = r.stages_ms;
  CHECK(s.qkv + s.attention + s.ffn + s.logits > 0);
  CHECK(r.bandwidth_gb_s > 0.1);
  // A token reads every weight but only one row of the embedding (stories260K
  // has its own output.weight).
  const km::Weights& w = e->model().weights;
  REQUIRE(w.output.data != w.token_embd.data);
  const double bytes = static_cast<double>(e->model().weight_bytes() - w.token_embd.bytes() + w.token_embd.row_bytes);
  CHECK_NEAR(r.bound_ms, bytes / (r.bandwidth_gb_s * 1e9) * 1e3, 1e-9);
  req.prompt_tokens = 60;
  CHECK_THROWS_WITH(e->bench(req), "context");
  req.prompt_tokens = 16;
  req.path = km::ExecPath::ZeroLaunch;
  CHECK_THROWS_WITH(e->bench(req), "cuda");
}

TEST(engine, prefix_cache_reuses_the_shared_prompt) {
  // A persona warmed once (max_tokens 0), then two presses that extend it: each
  // reply must be what a fresh engine says, while only the new tokens prefill.
  const std::string persona = "Once upon a time, there was a little girl named Lily.";
  auto warm = km::Engine::load(stories(), cpu_opts());
  const auto w = warm->generate(greedy(persona, 0), nullptr);
  CHECK_EQ(w.cached_tokens, 0);
  CHECK(w.tokens.empty());

  for (const std::string press : {" She loved to", " One day, she saw"}) {
    const auto cached = warm->generate(greedy(persona + press, 24), nullptr);
    auto fresh = km::Engine::load(stories(), cpu_opts());
    const auto ref = fresh->generate(greedy(persona + press, 24), nullptr);
    CHECK_EQ(ref.cached_tokens, 0);
    CHECK_EQ(cached.cached_tokens, w.prompt_tokens);  // the whole persona, nothing more
    CHECK(cached.tokens == ref.tokens);
    CHECK_EQ(cached.completion, ref.completion);
  }
  // The same prompt again reuses all but its last token, whose logits start the reply.
  const auto again = warm->generate(greedy(persona, 8), nullptr);
  CHECK_EQ(again.cached_tokens, again.prompt_tokens - 1);
  // A different prompt shares only BOS.
  const auto other = warm->generate(greedy("The little dog", 8), nullptr);
  CHECK_EQ(other.cached_tokens, 1);
}

TEST(engine, info_carries_what_chat_templates_need) {
  auto e = km::Engine::load(stories(), cpu_opts());
  const auto i = e->info();
  CHECK_EQ(i.chat_template, std::string());  // stories260K has none: the host uses its plain fallback
  CHECK_EQ(i.bos_token, std::string("<s>"));
  CHECK_EQ(i.eos_token, std::string("</s>"));
}

TEST(engine, profiled_generation_reports_stage_times_per_decoded_token) {
  km::LoadOptions o = cpu_opts();
  o.profile = true;
  auto e = km::Engine::load(stories(), o);
  const auto r = e->generate(greedy("Once upon a time", 16), nullptr);
  REQUIRE(r.profiled);
  const km::StageTimes& s = r.stages_ms;
  CHECK(s.qkv > 0 && s.attention > 0 && s.ffn > 0 && s.logits > 0);
  // The stages are parts of one decode step, which cannot take longer than all of decoding.
  const double per_token_ms = 1000.0 / r.decode_tok_s;
  CHECK(s.embed + s.qkv + s.attention + s.ffn + s.logits + s.other <= per_token_ms * 1.5);
  // Profiling changes timing, never tokens.
  auto plain = km::Engine::load(stories(), cpu_opts());
  const auto p = plain->generate(greedy("Once upon a time", 16), nullptr);
  CHECK(!p.profiled);
  CHECK(p.tokens == r.tokens);
}
