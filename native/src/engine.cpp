// km::Engine: the one object callers hold. It owns the model (a mapped file or
// an in-memory synthetic image), the tokenizer and the backend chosen once at
// load, and implements generation, logits and the benchmark on top of the
// Backend interface, so every backend gets the same timings and stop rules.
#include "keymate/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "keymate/tokenizer.h"
#include "backend_factory.h"
#include "kv_state.h"
#include "membw.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/weight_formats.h"
#include "rng.h"
#include "sampler.h"
#include "synth.h"
#include "timer.h"
#include "utf8_stream.h"
#ifdef KEYMATE_HAVE_CUDA
#include "cuda_backend.h"
#include "keymate/cuda.h"
#endif

namespace km {

namespace {

// The seed of the benchmark's random prompt: fixed, so runs are comparable.
constexpr uint64_t kBenchPromptSeed = 0x6b65796d617465ull;

// A pacing wait sleeps in slices this long, so that a cancel or a new pacing
// value takes effect within one slice rather than after the whole wait.
constexpr double kPacingSliceMs = 5;

std::vector<int> parse_archs(const char* csv) {
  std::vector<int> out;
  int v = 0;
  bool any = false;
  for (const char* p = csv;; p++) {
    if (*p >= '0' && *p <= '9') {
      v = v * 10 + (*p - '0');
      any = true;
    } else {
      if (any) out.push_back(v);
      v = 0;
      any = false;
      if (!*p) break;
    }
  }
  return out;
}

void check_options(const LoadOptions& o) {
  (void)quant::weight_format(o.weights);  // throws naming the known formats
  (void)quant::kv_format(o.kv);
  if (o.backend != "auto" && o.backend != "cpu" && o.backend != "cuda")
    fail("backend %s: unknown backend (auto, cpu or cuda)", o.backend.c_str());
  if (o.threads < 0) fail("threads %d: must be >= 0 (0 = one per physical core)", o.threads);
  if (o.context < 0) fail("context %d: must be >= 0 (0 = the model's, at most 4096)", o.context);
}

// "auto" -> cuda when a usable device exists, else cpu; "cuda" where it is not
// usable fails with the probe's reason.
std::string choose_backend(const std::string& asked) {
  if (asked == "cpu") return "cpu";
  const BackendReport report = probe_backends();
  if (report.cuda.available) return "cuda";
  if (asked == "cuda") fail("backend cuda: not available: %s", report.cuda.reason.c_str());
  return "cpu";
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name, std::shared_ptr<const Model> model,
                                      const BackendOptions& bo) {
  if (name == "cpu") return make_cpu_backend(std::move(model), bo);
  if (bo.observer) fail("backend %s: cannot show its matmul inputs (only the cpu backend can)", name.c_str());
#ifdef KEYMATE_HAVE_CUDA
  if (name == "cuda") return make_cuda_backend(std::move(model), bo);
#endif
  fail("backend %s: not compiled into this build", name.c_str());
}

namespace {

// The backend for a load: a CUDA backend that cannot be made (an old driver,
// too little memory, a shape its kernels refuse) leaves the engine on the CPU,
// with the reason in `why`; the engine never fails a load that the CPU can run.
std::unique_ptr<Backend> create_with_fallback(const std::string& name, std::shared_ptr<const Model> model,
                                              const BackendOptions& bo, std::string& why) {
  if (name != "cuda") return make_backend(name, std::move(model), bo);
  try {
    return make_backend(name, model, bo);
  } catch (const Error& e) {
    why = std::string("the CUDA backend failed at load: ") + e.what();
  }
  return make_cpu_backend(std::move(model), bo);
}

// The options with format aliases resolved (int4 -> int4-g32), as reported.
LoadOptions canonical(const LoadOptions& o) {
  LoadOptions c = o;
  c.weights = quant::weight_format(o.weights).name;
  c.kv = quant::kv_format(o.kv).name;
  return c;
}

// The model with its matrices converted to the chosen weight format, in
// memory, the scale search weighted by the importance the options ask for
// (measured on the stored weights first, when it is to be).
std::shared_ptr<Model> load_converted(std::shared_ptr<const GgufFile> file, const LoadOptions& o, bool synthetic,
                                      std::string& importance) {
  auto m = std::make_shared<Model>(load_model(std::move(file)));
  const quant::WeightFormat& f = quant::weight_format(o.weights);
  quant::ImportanceRequest ir;
  ir.source = o.imatrix.empty() ? "auto" : o.imatrix;
  ir.cache_dir = o.imatrix_cache;
  ir.text = o.calibration_text;
  ir.synthetic = synthetic;
  ir.threads = o.threads;
  const quant::ImportanceUse use = quant::importance_for_load(m, f, ir);
  importance = use.describe();
  quant::ConvertOptions co;
  co.threads = o.threads;
  co.rule = quant::scale_rule_from_env();
  if (!use.importance.empty()) co.importance = &use.importance;
  quant::convert_weights(*m, f, co);
  return m;
}

BackendOptions backend_options(const LoadOptions& o) {
  BackendOptions bo;
  bo.kv = quant::kv_format(o.kv).type;
  bo.threads = o.threads;
  bo.context = o.context;
  bo.profile = o.profile;
  return bo;
}

// Percentiles by linear interpolation between order statistics.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.median = percentile(v, 0.5);
  s.p90 = percentile(v, 0.9);
  return s;
}

// Weight bytes one decode step reads: every layer, the final norm, the output
// matrix, and one row of the embedding (all of it when tied to the output).
double bytes_per_token(const Model& m) {
  const Weights& w = m.weights;
  double bytes = static_cast<double>(m.weight_bytes());
  const bool tied = w.output.data == w.token_embd.data;
  if (!tied) bytes -= static_cast<double>(w.token_embd.bytes()) - static_cast<double>(w.token_embd.row_bytes);
  return bytes;
}

}  // namespace

BackendReport probe_backends() {
  BackendReport r;
  r.cpu.available = true;
  r.cpu.simd = cpu::simd_name(cpu::simd_from_env());
  r.cpu.threads = cpu::default_thread_count();
  r.cuda.archs = parse_archs(KEYMATE_CUDA_ARCHS);
#ifdef KEYMATE_HAVE_CUDA
  r.cuda.compiled = true;
  CudaProbe p = cuda_probe();
  r.cuda.available = p.available;
  r.cuda.reason = p.reason;
  r.cuda.devices = p.devices;
#else
  r.cuda.compiled = false;
  r.cuda.available = false;
  r.cuda.reason = KEYMATE_NO_CUDA_REASON;
#endif
  return r;
}

std::unique_ptr<Engine> Engine::load(const std::string& path, const LoadOptions& opts) {
  check_options(opts);
  const std::string backend = choose_backend(opts.backend);
  std::shared_ptr<const GgufFile> file = GgufFile::open(path);
  std::unique_ptr<Engine> e(new Engine());
  e->opts_ = canonical(opts);
  e->model_ = load_converted(file, e->opts_, false, e->importance_);
  e->tokenizer_ = Tokenizer::from_gguf(*file);
  e->backend_ = create_with_fallback(backend, e->model_, backend_options(opts), e->fallback_);
  return e;
}

std::unique_ptr<Engine> Engine::synthetic(const std::string& shape, const std::string& type, uint64_t seed,
                                          const LoadOptions& opts) {
  check_options(opts);
  const std::string backend = choose_backend(opts.backend);
  SynthOptions so;
  so.shape = shape;
  so.type = type;
  so.seed = seed;
  std::shared_ptr<const GgufFile> file = build_synthetic_gguf(so);
  std::unique_ptr<Engine> e(new Engine());
  e->opts_ = canonical(opts);
  e->model_ = load_converted(file, e->opts_, true, e->importance_);
  e->tokenizer_ = Tokenizer::from_gguf(*file);
  e->backend_ = create_with_fallback(backend, e->model_, backend_options(opts), e->fallback_);
  return e;
}

Engine::Engine() {
  const char* v = std::getenv("KEYMATE_HOST_SAMPLING");
  host_sampling_ = v != nullptr && std::string(v) == "1";
}

Engine::~Engine() = default;

ModelInfo Engine::info() const {
  const Config& c = model_->config;
  ModelInfo i;
  i.path = model_->file ? model_->file->path() : "";
  i.architecture = c.architecture;
  i.name = c.name;
  i.parameters = model_->parameters();
  i.weight_bytes = model_->weight_bytes();
  if (model_->file)
    for (const auto& t : model_->file->tensors()) {
      const char* n = ggml_type_info(t.type).name;
      i.tensor_types[n ? n : "unknown"]++;
    }
  i.context_length = c.context;
  i.vocab = c.vocab;
  i.dim = c.dim;
  i.layers = c.n_layers;
  i.heads = c.n_heads;
  i.kv_heads = c.n_kv_heads;
  i.ffn = c.ffn_dim;
  i.tokenizer = tokenizer_->model();
  i.weights = opts_.weights;
  i.kv = opts_.kv;
  i.importance = importance_;
  i.backend = backend_->name();
  i.backend_fallback = fallback_;
  if (model_->file) i.chat_template = std::string(model_->file->get_string("tokenizer.chat_template", ""));
  if (tokenizer_->bos() >= 0) i.bos_token = tokenizer_->text(tokenizer_->bos());
  if (tokenizer_->eos() >= 0) i.eos_token = tokenizer_->text(tokenizer_->eos());
  return i;
}

std::vector<float> Engine::logits(const std::vector<int32_t>& tokens, bool all_positions) {
  if (tokens.empty()) fail("logits: no tokens");
  const int n = static_cast<int>(tokens.size());
  if (n > backend_->context()) fail("logits: %d tokens do not fit the context of %d", n, backend_->context());
  const int vocab = model_->config.vocab;
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab) fail("logits: token %d is outside the vocabulary [0, %d)", t, vocab);
  std::vector<float> out(static_cast<size_t>(all_positions ? n : 1) * static_cast<size_t>(vocab));
  kv_tokens_.clear();
  forward(nullptr, tokens.data(), n, 0, out.data(), all_positions);
  kv_tokens_ = tokens;
  return out;
}

GenerateResult Engine::generate(const GenerateRequest& req, const std::function<void(const TokenEvent&)>& on_token) {
  const double t0 = now_ms();
  GenerateResult r;
  if (req.max_tokens < 0) fail("generate: max_tokens %d must be >= 0", req.max_tokens);
  const int vocab = model_->config.vocab;
  const int n_ctx = backend_->context();

  std::vector<int32_t> prompt = tokenizer_->encode(req.prompt, req.add_bos, req.parse_special);
  if (prompt.empty()) {
    // An empty prompt without BOS gives the model nothing to continue from.
    if (tokenizer_->bos() < 0) fail("generate: the prompt is empty and the model has no BOS token to start from");
    prompt.push_back(tokenizer_->bos());
  }
  r.prompt_tokens = static_cast<int>(prompt.size());
  if (r.prompt_tokens >= n_ctx)
    fail("generate: the prompt has %d tokens, but the context holds %d (one more is needed to reply)",
         r.prompt_tokens, n_ctx);

  Sampler sampler(req.sampling, vocab);
  for (int32_t t : prompt) sampler.accept(t);
  auto cancelled = [&] { return req.cancel && req.cancel->load(std::memory_order_relaxed); };
  if (cancelled()) {
    r.stop = "cancelled";
    return r;
  }

  // Prefix cache: K/V of the longest prefix this prompt shares with what the
  // cache holds are reused, so a persona prompt is prefilled once and a key
  // press pays only for its new tokens. At least the last prompt token is
  // always run: its logits start the reply.
  size_t reuse = 0;
  while (reuse < kv_tokens_.size() && reuse < prompt.size() && kv_tokens_[reuse] == prompt[reuse]) reuse++;
  reuse = std::min(reuse, prompt.size() - 1);
  r.cached_tokens = static_cast<int>(reuse);
  std::vector<float> logits(static_cast<size_t>(vocab));
  kv_tokens_.clear();  // if forward throws, nothing in the cache is trusted
  std::string fell;
  int32_t tok = step(prompt.data(), prompt.data() + reuse, r.prompt_tokens - r.cached_tokens, r.cached_tokens,
                     sampler, logits.data(), fell);
  if (!fell.empty()) r.fallback = fell;
  kv_tokens_ = prompt;
  r.prefill_ms = now_ms() - t0;
  if (opts_.profile) backend_->reset_stats();  // stages are reported for the decode steps only
  int decoded = 0;

  // Pacing: the next token may not come before `since` + the pacing in force,
  // read anew each slice so the thermal policy can change it mid-reply.
  // False when cancelled while waiting.
  auto pace_after = [&](double since) {
    for (;;) {
      const double left = since + pacing() - now_ms();
      if (left <= 0) return true;
      if (cancelled()) return false;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(std::min(left, kPacingSliceMs)));
    }
  };

  Utf8Stream utf8;
  int pos = r.prompt_tokens;
  double t_first = 0, t_last = 0;
  r.stop = "length";
  for (int i = 0; i < req.max_tokens; i++) {
    const double t = now_ms();
    if (i == 0) {
      r.ttft_ms = t - t0;
      t_first = t;
    }
    if (tokenizer_->is_eog(tok)) {
      r.stop = "eos";
      break;
    }
    sampler.accept(tok);
    r.tokens.push_back(tok);
    TokenEvent ev{tok, utf8.push(tokenizer_->piece(tok)), i, t - t0};
    r.completion += ev.text;
    t_last = t;
    if (on_token) on_token(ev);
    if (i + 1 == req.max_tokens) break;  // "length": no forward for a token nobody reads
    if (cancelled()) {
      r.stop = "cancelled";
      break;
    }
    if (pos >= n_ctx) {
      r.stop = "context";
      break;
    }
    kv_tokens_.resize(static_cast<size_t>(pos));
    const int32_t ran = tok;
    tok = step(kv_tokens_.data(), &ran, 1, pos, sampler, logits.data(), fell);
    if (!fell.empty()) r.fallback = fell;
    kv_tokens_.push_back(ran);
    decoded++;
    pos++;
    if (!pace_after(t)) {
      r.stop = "cancelled";
      break;
    }
  }
  if (opts_.profile && decoded > 0) {
    const StageTimes s = backend_->stats();
    const double k = 1.0 / decoded;
    r.stages_ms = {s.embed * k, s.qkv * k, s.attention * k, s.ffn * k, s.logits * k, s.other * k};
    r.profiled = true;
  }
  // Bytes that never became a character end the text as U+FFFD.
  r.completion += utf8.finish();
  const size_t n = r.tokens.size();
  if (n >= 2 && t_last > t_first) r.decode_tok_s = static_cast<double>(n - 1) / ((t_last - t_first) / 1000.0);
  return r;
}

void Engine::fall_back_to_cpu(const std::string& why) {
  fallback_ = why;
  backend_.reset();  // the CUDA context's memory goes before the CPU's is taken
  backend_ = make_cpu_backend(model_, backend_options(opts_));
}

std::string Engine::forward(const int32_t* history, const int32_t* tokens, int n, int pos, float* logits, bool all) {
  try {
    backend_->forward(tokens, n, pos, logits, all);
    return "";
  } catch (const Error& e) {
    if (backend_->name() != "cuda") throw;
    recover(e, history, pos);
  }
  backend_->forward(tokens, n, pos, logits, all);
  return fallback_;
}

int32_t Engine::step(const int32_t* history, const int32_t* tokens, int n, int pos, Sampler& sampler, float* logits,
                     std::string& fell) {
  std::string why;
  DeviceSample ds;
  if (!host_sampling_ && sampler.device_settings(ds)) {
    int32_t tok = -1;
    try {
      tok = backend_->forward_sample(tokens, n, pos, ds, nullptr);
    } catch (const Error& e) {
      if (backend_->name() != "cuda") throw;
      recover(e, history, pos);  // then the CPU runs the tokens and the host samples
      why = fallback_;
    }
    if (tok >= 0) {
      sampler.device_drew();
      fell = "";
      return tok;
    }
  }
  fell = forward(history, tokens, n, pos, logits, false);
  if (fell.empty()) fell = why;
  return sampler.sample(logits);
}

void Engine::recover(const Error& e, const int32_t* history, int pos) {
  fall_back_to_cpu(std::string("the CUDA backend failed during a forward pass: ") + e.what());
  if (pos > 0) backend_->forward(history, pos, 0, nullptr, false);
}

KvStateHeader Engine::state_identity() {
  if (model_hash_ == 0) model_hash_ = kv_state_model_hash(*model_);
  return kv_state_identity(*model_, model_hash_, opts_.weights, opts_.kv);
}

StateInfo Engine::save_state(const std::string& path) {
  const int n = static_cast<int>(kv_tokens_.size());
  auto read = [&](uint8_t* payload) {
    try {
      backend_->read_kv(n, payload);
      return;
    } catch (const Error& e) {
      if (backend_->name() != "cuda") throw;
      // The state is the same bytes from the CPU, once its cache is rebuilt.
      fall_back_to_cpu(std::string("the CUDA backend failed reading the KV cache: ") + e.what());
      if (n > 0) backend_->forward(kv_tokens_.data(), n, 0, nullptr, false);
    }
    backend_->read_kv(n, payload);
  };
  StateInfo info;
  info.tokens = n;
  info.bytes = write_kv_state(path, state_identity(), kv_tokens_, backend_->kv_bytes(n), read);
  return info;
}

StateInfo Engine::load_state(const std::string& path) {
  const KvStateFile f = read_kv_state(path, state_identity());
  const int n = static_cast<int>(f.tokens.size());
  if (n > backend_->context())
    fail("load_state: %s holds %d tokens, more than this engine's context of %d (load the model with a context of "
         "at least %d)",
         path.c_str(), n, backend_->context(), n);
  if (f.payload_bytes != backend_->kv_bytes(n))
    fail("load_state: %s holds %llu bytes of K/V for %d tokens, where this engine's layout has %llu", path.c_str(),
         (unsigned long long)f.payload_bytes, n, (unsigned long long)backend_->kv_bytes(n));
  // Everything is checked: from here the cache changes, and until the copy
  // is done nothing in it is trusted.
  kv_tokens_.clear();
  try {
    backend_->write_kv(n, f.payload());
  } catch (const Error& e) {
    if (backend_->name() != "cuda") throw;
    fall_back_to_cpu(std::string("the CUDA backend failed loading a KV state: ") + e.what());
    backend_->write_kv(n, f.payload());
  }
  kv_tokens_ = f.tokens;
  StateInfo info;
  info.tokens = n;
  info.bytes = f.bytes.size();
  return info;
}

void Engine::set_pacing(double ms) {
  if (!(ms >= 0 && ms <= kMaxPacingMs))  // also refuses NaN
    fail("pacing %g ms: must be 0 (off) to %g ms per token", ms, kMaxPacingMs);
  pacing_ms_.store(ms, std::memory_order_relaxed);
}

BenchResult Engine::bench(const BenchRequest& req) {
  if (req.prompt_tokens < 1) fail("bench: prompt_tokens %d must be >= 1", req.prompt_tokens);
  if (req.gen_tokens < 0) fail("bench: gen_tokens %d must be >= 0", req.gen_tokens);
  if (req.repeat < 1) fail("bench: repeat %d must be >= 1", req.repeat);
  if (req.path != ExecPath::Launch && backend_->name() != "cuda")
    fail("bench: path %s needs the cuda backend (this engine runs on %s)", exec_path_name(req.path),
         backend_->name().c_str());
  const int need = req.prompt_tokens + req.gen_tokens;
  if (need > backend_->context())
    fail("bench: %d prompt + %d generated tokens do not fit the context of %d", req.prompt_tokens, req.gen_tokens,
         backend_->context());

  const int vocab = model_->config.vocab;
  std::vector<int32_t> prompt(static_cast<size_t>(req.prompt_tokens));
  Rng rng(kBenchPromptSeed);
  for (auto& t : prompt) t = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(vocab));
  std::vector<float> logits(static_cast<size_t>(vocab));
  kv_tokens_.clear();  // the bench overwrites the cache with its own tokens

  struct Run { double ttft, decode; };
  // Greedy picks, made as generate() makes them: on the device where the
  // backend can (the logits never leave it), else argmax on the host.
  auto pick = [&](Backend& b, const int32_t* tokens, int n, int pos) {
    if (!host_sampling_) {
      const int32_t t = b.forward_sample(tokens, n, pos, DeviceSample{}, nullptr);
      if (t >= 0) return t;
    }
    b.forward(tokens, n, pos, logits.data(), false);
    return argmax(logits.data(), vocab);
  };
  // One request as the product runs it: prefill from position 0 and pick the
  // first token (ttft, also the prefill's time: the device runs both in one
  // program), then gen_tokens single-token steps.
  auto run_once = [&](Backend& b, bool profile_decode) {
    Run run{};
    const double t0 = now_ms();
    int32_t tok = pick(b, prompt.data(), req.prompt_tokens, 0);
    const double t1 = now_ms();
    if (profile_decode) b.reset_stats();
    for (int i = 0; i < req.gen_tokens; i++) tok = pick(b, &tok, 1, req.prompt_tokens + i);
    run.ttft = t1 - t0;
    run.decode = now_ms() - t1;
    return run;
  };

  // A GPU path other than this engine's own runs on a backend made for it.
  std::unique_ptr<Backend> path_owned;
  Backend* timed = backend_.get();
  if (req.path != ExecPath::Launch) {
    BackendOptions bo = backend_options(opts_);
    bo.path = req.path;
    bo.context = need;
    path_owned = make_backend(backend_->name(), model_, bo);
    timed = path_owned.get();
  }
  run_once(*timed, false);  // warm-up: page in the weights, spin up threads
  std::vector<double> ttft, prefill_tok_s, decode_tok_s, decode_ms;
  for (int i = 0; i < req.repeat; i++) {
    const Run run = run_once(*timed, false);
    ttft.push_back(run.ttft);
    prefill_tok_s.push_back(req.prompt_tokens / (run.ttft / 1000.0));
    if (req.gen_tokens > 0) {
      decode_ms.push_back(run.decode / req.gen_tokens);
      decode_tok_s.push_back(req.gen_tokens / (run.decode / 1000.0));
    }
  }

  BenchResult r;
  r.backend = timed->name();
  r.device = timed->device();
  r.path = req.path;
  r.prompt_tokens = req.prompt_tokens;
  r.gen_tokens = req.gen_tokens;
  r.repeat = req.repeat;
  r.threads = opts_.threads > 0 ? opts_.threads : cpu::default_thread_count();
  r.ttft_ms = stat_of(ttft);
  r.prefill_tok_s = percentile(prefill_tok_s, 0.5);
  r.decode_tok_s = percentile(decode_tok_s, 0.5);
  r.decode_ms_per_token = percentile(decode_ms, 0.5);

  // Stage times come from a profiled run: profiling adds a barrier per stage,
  // so it never runs inside the timed runs above. Without profile on this
  // engine's backend, a second one with a context just big enough is made.
  if (req.gen_tokens > 0) {
    std::unique_ptr<Backend> owned;
    Backend* prof = timed;
    if (!opts_.profile) {
      // An armed persistent kernel holds every SM: the timed backend goes
      // before the profiled one arms its own.
      path_owned.reset();
      BackendOptions bo = backend_options(opts_);
      bo.profile = true;
      bo.context = need;
      bo.path = req.path;
      owned = make_backend(backend_->name(), model_, bo);
      prof = owned.get();
      run_once(*prof, false);  // its own warm-up
    }
    run_once(*prof, true);
    const StageTimes s = prof->stats();
    const double k = 1.0 / req.gen_tokens;
    r.stages_ms = {s.embed * k, s.qkv * k, s.attention * k, s.ffn * k, s.logits * k, s.other * k};
  }

  // The roof for a memory-bound decode step on this host's memory.
  if (r.backend == "cpu") {
    const Bandwidth bw = measure_read_bandwidth(0, r.threads);
    r.bandwidth_gb_s = bw.gb_s;
    if (bw.gb_s > 0) r.bound_ms = bytes_per_token(*model_) / (bw.gb_s * 1e9) * 1e3;
  }
  return r;
}

}  // namespace km
