// dump_logits: the reference side of Keymate's parity tests. It drives
// libllama (the llama.cpp that node-llama-cpp bundles) through its public C API
// and prints one JSON object: the prompt's token ids, a greedy continuation, and
// the full logits vector at chosen sequence positions.
//
// Design notes
// - Greedy is done here (argmax, first index wins a tie, as llama.cpp's greedy
//   sampler does) rather than with a sampler chain, so nothing but the logits
//   decides a token; make-golden.mjs checks the text against llama-completion.
// - The prompt is decoded as ONE batch (n_batch = n_ubatch = n_ctx), then one
//   token per llama_decode: the path our engine takes (prefill, then decode).
//   "--logits-mode batch" instead re-feeds prompt + continuation as one batch
//   afterwards, to measure how much batching alone moves the logits.
// - "--continuation" feeds given token ids instead of greedy ones (teacher
//   forcing), so two settings can be compared on the very same sequence.
// - Position p means: the logits computed for the token at sequence position p
//   (BOS is position 0), i.e. the distribution of the token at p + 1.
// - Settings are explicit (threads, context, flash attention, F16 KV cache) and
//   echoed in the output so a golden file says what made it.
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string model;
  std::string prompt;
  int n_predict = 96;
  int threads = 1;
  int ctx = 512;
  std::string fa = "auto";              // on | off | auto (llama-completion's default)
  std::string logits_mode = "decode";   // decode | batch
  std::string kv = "f16";               // f16 (llama.cpp's default) | f32 (for error studies)
  std::vector<int> positions;           // extra positions; the last prompt position is always dumped
  std::vector<int> continuation;        // when given: feed these tokens instead of greedy ones
  int gpu_layers = 0;                   // 0: the CPU backend, the reference; >0 only in a CUDA build
  bool verbose = false;
  bool lossy_text = false;              // invalid UTF-8 in the text becomes U+FFFD (random-weight models)
};

// What the library logged about flash attention when it resolved "auto".
std::string g_fa_resolved;
bool g_verbose = false;
bool g_lossy_text = false;

void on_log(ggml_log_level level, const char* text, void*) {
  const std::string line = text ? text : "";
  if (line.find("Flash Attention enabled") != std::string::npos) g_fa_resolved = "enabled";
  if (line.find("Flash Attention not supported") != std::string::npos) g_fa_resolved = "disabled";
  if (g_verbose || level == GGML_LOG_LEVEL_ERROR) fputs(line.c_str(), stderr);
}

[[noreturn]] void usage(const char* why) {
  fprintf(stderr,
          "dump_logits: %s\n"
          "usage: dump_logits -m MODEL -p PROMPT [-n 96] [--positions 8,32,64] [-t 1] [-c 512]\n"
          "                   [--fa on|off|auto] [--kv f16|f32] [--logits-mode decode|batch]\n"
          "                   [--continuation ID,ID,...] [-ngl N] [--lossy-text] [-v]\n",
          why);
  exit(2);
}

std::vector<int> parse_positions(const std::string& s) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    const std::string item = s.substr(start, comma - start);
    if (!item.empty()) {
      char* end = nullptr;
      long v = strtol(item.c_str(), &end, 10);
      if (*end != '\0' || v < 0) usage("--positions: expected non-negative integers separated by commas");
      out.push_back(static_cast<int>(v));
    }
    start = comma + 1;
  }
  return out;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((a + ": missing value").c_str());
      return argv[++i];
    };
    if (a == "-m" || a == "--model") o.model = value();
    else if (a == "-p" || a == "--prompt") o.prompt = value();
    else if (a == "-n" || a == "--n-predict") o.n_predict = std::atoi(value().c_str());
    else if (a == "-t" || a == "--threads") o.threads = std::atoi(value().c_str());
    else if (a == "-c" || a == "--ctx") o.ctx = std::atoi(value().c_str());
    else if (a == "--fa") o.fa = value();
    else if (a == "--logits-mode") o.logits_mode = value();
    else if (a == "--kv") o.kv = value();
    else if (a == "-ngl" || a == "--gpu-layers") o.gpu_layers = std::atoi(value().c_str());
    else if (a == "--positions") o.positions = parse_positions(value());
    else if (a == "--continuation") o.continuation = parse_positions(value());
    else if (a == "-v" || a == "--verbose") o.verbose = true;
    else if (a == "--lossy-text") o.lossy_text = true;
    else usage(("unknown argument " + a).c_str());
  }
  if (o.model.empty()) usage("-m MODEL is required");
  if (!o.continuation.empty()) o.n_predict = static_cast<int>(o.continuation.size());
  if (o.n_predict < 0 || o.threads < 1 || o.ctx < 1) usage("-n, -t and -c must be positive");
  if (o.fa != "on" && o.fa != "off" && o.fa != "auto") usage("--fa must be on, off or auto");
  if (o.logits_mode != "decode" && o.logits_mode != "batch") usage("--logits-mode must be decode or batch");
  if (o.kv != "f16" && o.kv != "f32") usage("--kv must be f16 or f32");
  return o;
}

// JSON string body; rejects invalid UTF-8 so the golden files stay valid JSON
// (with --lossy-text, each byte that does not start a valid sequence becomes
// U+FFFD instead: a random-weight model's text is made of byte tokens).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (!ok) {
      if (!g_lossy_text) throw std::runtime_error("text is not valid UTF-8");
      out += "\xEF\xBF\xBD";
      i += 1;
      continue;
    }
    if (len == 1) {
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else if (c == '\r') out += "\\r";
      else if (c < 0x20) { char buf[8]; snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
      else out += static_cast<char>(c);
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out + "\"";
}

std::string json_ints(const std::vector<int32_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "]";
}

// %.9g round-trips every float exactly.
std::string json_floats(const float* v, size_t n) {
  std::string out = "[";
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) throw std::runtime_error("non-finite logit");
    snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", v[i]);
    out += buf;
  }
  return out + "]";
}

std::string piece(const llama_vocab* vocab, llama_token t) {
  char buf[256];
  const int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
  if (n < 0) throw std::runtime_error("token_to_piece: piece longer than 256 bytes");
  return std::string(buf, static_cast<size_t>(n));
}

// First maximum wins, like llama_sampler_greedy. Also returns the gap to the
// runner-up: a small gap marks a token that a tiny numeric difference may flip.
llama_token argmax(const float* logits, int n_vocab, float* margin) {
  int best = 0;
  for (int i = 1; i < n_vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  float second = -INFINITY;
  for (int i = 0; i < n_vocab; ++i)
    if (i != best) second = std::max(second, logits[i]);
  *margin = logits[best] - second;
  return best;
}

const float* logits_ptr(llama_context* ctx, int batch_index) {
  const float* lg = llama_get_logits_ith(ctx, batch_index);
  if (!lg) throw std::runtime_error("no logits for batch index " + std::to_string(batch_index));
  return lg;
}

std::vector<float> logits_at(llama_context* ctx, int batch_index, int n_vocab) {
  const float* lg = logits_ptr(ctx, batch_index);
  return std::vector<float>(lg, lg + n_vocab);
}

struct Decoder {
  llama_context* ctx;
  // Decodes tokens[first..] at positions first.., asking for logits where want(pos).
  template <class Want>
  void run(const std::vector<llama_token>& tokens, size_t first, Want want) {
    const int n = static_cast<int>(tokens.size() - first);
    llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; ++i) {
      const int pos = static_cast<int>(first) + i;
      b.token[i] = tokens[first + i];
      b.pos[i] = pos;
      b.n_seq_id[i] = 1;
      b.seq_id[i][0] = 0;
      b.logits[i] = want(pos) ? 1 : 0;
    }
    b.n_tokens = n;
    const int rc = llama_decode(ctx, b);
    llama_batch_free(b);
    if (rc != 0) throw std::runtime_error("llama_decode failed with code " + std::to_string(rc));
  }
};

int run(const Options& o) {
  g_verbose = o.verbose;
  g_lossy_text = o.lossy_text;
  llama_log_set(on_log, nullptr);
  llama_backend_init();

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = o.gpu_layers;
  std::unique_ptr<llama_model, decltype(&llama_model_free)> model_owner(
      llama_model_load_from_file(o.model.c_str(), mp), &llama_model_free);
  llama_model* model = model_owner.get();
  if (!model) throw std::runtime_error("cannot load model " + o.model);
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(o.ctx);
  cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(o.ctx);  // the prompt is one batch
  cp.n_threads = cp.n_threads_batch = o.threads;
  cp.type_k = cp.type_v = o.kv == "f32" ? GGML_TYPE_F32 : GGML_TYPE_F16;  // f16: llama.cpp's default, stated
  cp.flash_attn_type = o.fa == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                       : o.fa == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                       : LLAMA_FLASH_ATTN_TYPE_AUTO;
  cp.no_perf = true;
  std::unique_ptr<llama_context, decltype(&llama_free)> ctx_owner(llama_init_from_model(model, cp), &llama_free);
  llama_context* ctx = ctx_owner.get();
  if (!ctx) throw std::runtime_error("cannot create context");
  const std::string fa_used = o.fa == "on" ? "enabled" : o.fa == "off" ? "disabled" : g_fa_resolved;

  // add_special as llama.cpp does by default (BOS for this vocabulary);
  // parse_special as llama-completion does.
  std::vector<llama_token> tokens(o.prompt.size() + 8);
  auto tokenize = [&] {
    return llama_tokenize(vocab, o.prompt.data(), static_cast<int32_t>(o.prompt.size()), tokens.data(),
                          static_cast<int32_t>(tokens.size()), true, true);
  };
  int n_prompt = tokenize();
  if (n_prompt < 0) {  // a negative count is the size it needs
    tokens.resize(static_cast<size_t>(-n_prompt));
    n_prompt = tokenize();
  }
  if (n_prompt < 0) throw std::runtime_error("tokenize failed");
  if (n_prompt == 0) throw std::runtime_error("prompt gives no tokens");
  tokens.resize(static_cast<size_t>(n_prompt));
  const std::vector<llama_token> prompt_tokens = tokens;
  if (n_prompt + o.n_predict > o.ctx) throw std::runtime_error("prompt + n_predict exceeds the context");

  const int last_prompt_pos = n_prompt - 1;
  auto wanted = [&](int pos) {
    return pos == last_prompt_pos || std::find(o.positions.begin(), o.positions.end(), pos) != o.positions.end();
  };

  Decoder dec{ctx};
  std::vector<std::pair<int, std::vector<float>>> dumped;  // (position, logits)
  std::vector<llama_token> generated;
  std::vector<float> margins;
  std::string text;
  bool eog = false;

  // Prefill: logits only at the last prompt position (and any wanted earlier one).
  dec.run(tokens, 0, [&](int pos) { return pos == last_prompt_pos || (o.logits_mode == "decode" && wanted(pos)); });
  // llama_get_logits_ith takes the token's index in the batch (here: its position).
  if (o.logits_mode == "decode")
    for (int pos = 0; pos <= last_prompt_pos; ++pos)
      if (wanted(pos)) dumped.emplace_back(pos, logits_at(ctx, pos, n_vocab));
  const float* cur = logits_ptr(ctx, last_prompt_pos);

  for (int i = 0; i < o.n_predict; ++i) {
    float margin = 0;
    llama_token t = argmax(cur, n_vocab, &margin);
    if (!o.continuation.empty()) t = o.continuation[static_cast<size_t>(i)];  // teacher forcing
    generated.push_back(t);
    margins.push_back(margin);
    if (llama_vocab_is_eog(vocab, t)) { eog = true; break; }
    text += piece(vocab, t);
    tokens.push_back(t);
    if (i + 1 == o.n_predict) break;  // the last token needs no forward pass
    dec.run(tokens, tokens.size() - 1, [](int) { return true; });
    cur = logits_ptr(ctx, 0);
    const int pos = static_cast<int>(tokens.size()) - 1;
    if (o.logits_mode == "decode" && wanted(pos)) dumped.emplace_back(pos, logits_at(ctx, 0, n_vocab));
  }

  if (o.logits_mode == "batch") {
    // Re-feed everything we have as one batch in a fresh cache.
    llama_memory_clear(llama_get_memory(ctx), true);
    dec.run(tokens, 0, wanted);
    for (int pos = 0; pos < static_cast<int>(tokens.size()); ++pos)
      if (wanted(pos)) dumped.emplace_back(pos, logits_at(ctx, pos, n_vocab));
  }
  // In decode mode the last generated token is never fed, so it has no logits.
  const int last_with_logits = static_cast<int>(tokens.size()) - (o.logits_mode == "decode" ? 2 : 1);
  for (int p : o.positions)
    if (p > last_with_logits)
      throw std::runtime_error("--positions: " + std::to_string(p) + " has no logits (the run has logits up to " +
                               "position " + std::to_string(last_with_logits) + ")");

  std::string out = "{";
  out += "\"model\":" + json_string(o.model);
  out += ",\"prompt\":" + json_string(o.prompt);
  out += ",\"settings\":{\"threads\":" + std::to_string(o.threads) + ",\"n_ctx\":" + std::to_string(o.ctx) +
         ",\"n_batch\":" + std::to_string(o.ctx) + ",\"kv_type\":" + json_string(o.kv) + ",\"flash_attn_requested\":" +
         json_string(o.fa) + ",\"flash_attn\":" + json_string(fa_used) +
         ",\"logits_mode\":" + json_string(o.logits_mode) + ",\"gpu_layers\":" + std::to_string(o.gpu_layers) + ",\"add_special\":true,\"parse_special\":true}";
  out += ",\"system_info\":" + json_string(llama_print_system_info());
  out += ",\"n_vocab\":" + std::to_string(n_vocab);
  out += ",\"prompt_tokens\":" + json_ints(prompt_tokens);
  out += ",\"tokens\":" + json_ints(generated);
  out += ",\"stop\":" + std::string(eog ? "\"eog\"" : "\"length\"");
  out += ",\"text\":" + json_string(text);
  out += ",\"margins\":" + json_floats(margins.data(), margins.size());
  out += ",\"logits\":[";
  std::sort(dumped.begin(), dumped.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < dumped.size(); ++i) {
    out += (i ? ",{\"position\":" : "{\"position\":") + std::to_string(dumped[i].first);
    out += ",\"values\":" + json_floats(dumped[i].second.data(), dumped[i].second.size()) + "}";
  }
  out += "]}\n";
  fputs(out.c_str(), stdout);

  ctx_owner.reset();
  model_owner.reset();
  llama_backend_free();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    fprintf(stderr, "dump_logits: %s\n", e.what());
    return 1;
  }
}
