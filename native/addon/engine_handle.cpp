// EngineHandle's JS-facing methods (see engine_handle.h). Each method checks
// its arguments here, on the JS thread, then either answers at once (info,
// tokenize, cancel, close, plan, planMemory, formats) or starts one worker
// (load, generate, bench, eval, saveState, loadState).
// Misuse of types throws TypeError/RangeError synchronously; a state that
// forbids the call now (busy, no model) rejects the returned Promise.
#include "engine_handle.h"

#include "args.h"
#include "keymate/tokenizer.h"
#include "to_js.h"
#include "workers.h"

namespace km::addon {

// Generous upper bounds: they catch garbage (1e300 tokens), not real use.
constexpr int64_t kMaxTokens = 1 << 20;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxContext = 1 << 24;
// Bytes as a JS number stay exact up to 2^53 (8 PiB): far beyond any GPU.
constexpr int64_t kMaxBytes = (int64_t{1} << 53) - 1;

Napi::Function EngineHandle::Define(Napi::Env env) {
  return DefineClass(env, "EngineHandle",
                     {
                         InstanceMethod<&EngineHandle::Load>("load"),
                         InstanceMethod<&EngineHandle::LoadSynthetic>("loadSynthetic"),
                         InstanceMethod<&EngineHandle::Generate>("generate"),
                         InstanceMethod<&EngineHandle::Cancel>("cancel"),
                         InstanceMethod<&EngineHandle::SetPacing>("setPacing"),
                         InstanceMethod<&EngineHandle::Tokenize>("tokenize"),
                         InstanceMethod<&EngineHandle::Info>("info"),
                         InstanceMethod<&EngineHandle::BackendInfo>("backend"),
                         InstanceMethod<&EngineHandle::Bench>("bench"),
                         InstanceMethod<&EngineHandle::Eval>("eval"),
                         InstanceMethod<&EngineHandle::SaveState>("saveState"),
                         InstanceMethod<&EngineHandle::LoadState>("loadState"),
                         InstanceMethod<&EngineHandle::Plan>("plan"),
                         InstanceMethod<&EngineHandle::Close>("close"),
                         InstanceAccessor<&EngineHandle::GetBusy>("busy"),
                         InstanceAccessor<&EngineHandle::GetLoaded>("loaded"),
                         StaticMethod<&EngineHandle::ProbeBackends>("probeBackends"),
                         StaticMethod<&EngineHandle::Synth>("synth"),
                         StaticMethod<&EngineHandle::PlanMemory>("planMemory"),
                         StaticMethod<&EngineHandle::PlanShape>("planShape"),
                         StaticMethod<&EngineHandle::Formats>("formats"),
                     });
}

EngineHandle::EngineHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineHandle>(info) {
  if (info.Length() != 0) throw Napi::TypeError::New(info.Env(), "EngineHandle takes no arguments: call load() next");
}

void EngineHandle::Claim(const char* op) {
  busy_ = op;
  cancel_.store(false);
  Ref();
}

void EngineHandle::Release() {
  busy_ = nullptr;
  Unref();
}

Napi::Value EngineHandle::Refuse(Napi::Env env, const char* op, bool needs_model) {
  std::string why;
  if (busy_) {
    why = std::string(op) + ": the engine is busy with " + busy_ +
          (std::string(busy_) == "generate" || std::string(busy_) == "eval" ? " (wait for it, or call cancel())" : " (wait for it)");
  } else if (needs_model && !engine_) {
    why = std::string(op) + ": no model is loaded (call load() first)";
  } else {
    return Napi::Value();
  }
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(Napi::Error::New(env, why).Value());
  return deferred.Promise();
}

static LoadOptions load_options(const Napi::CallbackInfo& info, size_t i, const std::string& call) {
  Napi::Object obj = object_arg(info, i, call + ": options", true);
  Fields f(obj, call + ": options", {"backend", "threads", "context", "weights", "kv", "profile", "imatrix", "imatrixCache"});
  LoadOptions o;
  o.backend = f.one_of("backend", o.backend, {"auto", "cpu", "cuda"});
  o.threads = static_cast<int>(f.integer("threads", o.threads, 0, kMaxThreads));
  o.context = static_cast<int>(f.integer("context", o.context, 0, kMaxContext));
  // Which formats exist is the engine's to say (it names the supported ones).
  o.weights = f.string("weights", o.weights);
  o.kv = f.string("kv", o.kv);
  o.profile = f.boolean("profile", o.profile);
  // "auto", "off" or an imatrix file; the engine reads and checks the file.
  o.imatrix = f.string("imatrix", o.imatrix);
  o.imatrix_cache = f.string("imatrixCache", o.imatrix_cache);
  return o;
}

// synth() may name the vocabulary file; Engine::synthetic (loadSynthetic)
// always searches for it itself, so there the field is refused.
static SyntheticSpec synthetic_spec(const Napi::CallbackInfo& info, size_t i, const std::string& call,
                                    bool with_vocab) {
  Napi::Object obj = object_arg(info, i, call + ": spec", false);
  const std::string what = call + ": spec";
  Fields f = with_vocab ? Fields(obj, what, {"shape", "type", "seed", "vocab", "chatTemplate"})
                        : Fields(obj, what, {"shape", "type", "seed"});
  SyntheticSpec s;
  s.shape = f.required_string("shape");
  s.type = f.string("type", "f16");
  s.seed = f.seed("seed", 0);
  s.vocab = f.string("vocab", "");
  s.chat_template = f.string("chatTemplate", "");
  return s;
}

Napi::Value EngineHandle::Load(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "load: path");
  if (path.empty()) throw Napi::TypeError::New(info.Env(), "load: path must not be empty");
  LoadOptions opts = load_options(info, 1, "load");
  if (Napi::Value refused = Refuse(info.Env(), "load", false); !refused.IsEmpty()) return refused;
  return start_load(info.Env(), this, std::move(path), std::move(opts));
}

Napi::Value EngineHandle::LoadSynthetic(const Napi::CallbackInfo& info) {
  SyntheticSpec spec = synthetic_spec(info, 0, "loadSynthetic", false);
  LoadOptions opts = load_options(info, 1, "loadSynthetic");
  if (Napi::Value refused = Refuse(info.Env(), "loadSynthetic", false); !refused.IsEmpty()) return refused;
  return start_load_synthetic(info.Env(), this, std::move(spec), std::move(opts));
}

Napi::Value EngineHandle::Generate(const Napi::CallbackInfo& info) {
  const std::string what = "generate: request";
  Fields f(object_arg(info, 0, what, false), what,
           {"prompt", "maxTokens", "temperature", "topK", "topP", "minP", "repeatPenalty",
            "repeatLastN", "seed", "addBos", "parseSpecial"});
  GenerateRequest req;
  req.prompt = f.required_string("prompt");
  req.max_tokens = static_cast<int>(f.integer("maxTokens", req.max_tokens, 0, kMaxTokens));
  SamplingParams& s = req.sampling;
  s.temperature = static_cast<float>(f.number("temperature", s.temperature, 0, 100));
  s.top_k = static_cast<int>(f.integer("topK", s.top_k, 0, kMaxTokens));
  s.top_p = static_cast<float>(f.number("topP", s.top_p, 0, 1));
  s.min_p = static_cast<float>(f.number("minP", s.min_p, 0, 1));
  s.repeat_penalty = static_cast<float>(f.number("repeatPenalty", s.repeat_penalty, 0.01, 100));
  s.repeat_last_n = static_cast<int>(f.integer("repeatLastN", s.repeat_last_n, 0, kMaxTokens));
  s.seed = f.seed("seed", s.seed);
  req.add_bos = f.boolean("addBos", req.add_bos);
  req.parse_special = f.boolean("parseSpecial", req.parse_special);
  Napi::Function on_token = function_arg(info, 1, "generate: onToken");
  if (Napi::Value refused = Refuse(info.Env(), "generate", true); !refused.IsEmpty()) return refused;
  return start_generate(info.Env(), this, std::move(req), on_token);
}

Napi::Value EngineHandle::Cancel(const Napi::CallbackInfo& info) {
  // Only a generation or an eval can be stopped; the answer says whether one was.
  bool stoppable = busy_ && (std::string(busy_) == "generate" || std::string(busy_) == "eval");
  if (stoppable) RequestCancel();
  return Napi::Boolean::New(info.Env(), stoppable);
}

Napi::Value EngineHandle::SetPacing(const Napi::CallbackInfo& info) {
  // Live: allowed while a generation runs (the engine's pacing is atomic), so
  // the thermal policy can slow a reply down mid-way. Kept on the handle too,
  // so it also holds for a model loaded later.
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "setPacing: ms must be a number");
  const double ms = info[0].As<Napi::Number>().DoubleValue();
  if (!(ms >= 0 && ms <= Engine::kMaxPacingMs))
    throw Napi::RangeError::New(env, "setPacing: ms must be 0 (off) to " + std::to_string(static_cast<int>(Engine::kMaxPacingMs)) +
                                         ", got " + info[0].ToString().Utf8Value());
  pacing_ms_ = ms;
  if (engine_) engine_->set_pacing(ms);
  return env.Undefined();
}

Napi::Value EngineHandle::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string text = string_arg(info, 0, "tokenize: text");
  Fields f(object_arg(info, 1, "tokenize: options", true), "tokenize: options",
           {"addSpecial", "parseSpecial"});
  bool add_special = f.boolean("addSpecial", true);
  bool parse_special = f.boolean("parseSpecial", true);
  // The tokenizer is not promised to be safe beside a running generation.
  if (busy_) throw Napi::Error::New(env, std::string("tokenize: the engine is busy with ") + busy_);
  if (!engine_) throw Napi::Error::New(env, "tokenize: no model is loaded (call load() first)");
  std::vector<int32_t> ids;
  try {
    ids = engine_->tokenizer().encode(text, add_special, parse_special);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return out;
}

Napi::Value EngineHandle::Info(const Napi::CallbackInfo& info) {
  // Model facts are immutable once loaded, so this is safe beside a worker.
  if (!engine_) throw Napi::Error::New(info.Env(), "info: no model is loaded (call load() first)");
  try {
    return to_js(info.Env(), engine_->info());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), error_message(e));
  }
}

Napi::Value EngineHandle::BackendInfo(const Napi::CallbackInfo& info) {
  // Chosen once at load and fixed afterwards, so safe beside a worker too.
  Napi::Env env = info.Env();
  if (!engine_) throw Napi::Error::New(env, "backend: no model is loaded (call load() first)");
  Napi::Object o = Napi::Object::New(env);
  try {
    Backend& b = engine_->backend();
    o.Set("name", Napi::String::New(env, b.name()));
    o.Set("device", Napi::String::New(env, b.device()));
    o.Set("context", Napi::Number::New(env, b.context()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
  return o;
}

Napi::Value EngineHandle::Bench(const Napi::CallbackInfo& info) {
  const std::string what = "bench: request";
  Fields f(object_arg(info, 0, what, true), what, {"promptTokens", "genTokens", "repeat", "path"});
  BenchRequest req;
  req.prompt_tokens = static_cast<int>(f.integer("promptTokens", req.prompt_tokens, 1, kMaxContext));
  req.gen_tokens = static_cast<int>(f.integer("genTokens", req.gen_tokens, 1, kMaxContext));
  req.repeat = static_cast<int>(f.integer("repeat", req.repeat, 1, 100000));
  req.path = f.exec_path("path", req.path);
  if (Napi::Value refused = Refuse(info.Env(), "bench", true); !refused.IsEmpty()) return refused;
  return start_bench(info.Env(), this, std::move(req));
}

Napi::Value EngineHandle::Eval(const Napi::CallbackInfo& info) {
  const std::string what = "eval: request";
  Fields f(object_arg(info, 0, what, false), what, {"text", "ctx", "maxChunks", "reference"});
  EvalRequest req;
  req.text = f.required_string("text");
  // The engine needs 4 tokens per chunk at least (half of each is scored).
  req.ctx = static_cast<int>(f.integer("ctx", req.ctx, 4, kMaxContext));
  req.max_chunks = static_cast<int>(f.integer("maxChunks", req.max_chunks, 0, kMaxContext));
  req.reference = f.string("reference", req.reference);
  if (Napi::Value refused = Refuse(info.Env(), "eval", true); !refused.IsEmpty()) return refused;
  return start_eval(info.Env(), this, std::move(req));
}

Napi::Value EngineHandle::SaveState(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "saveState: path");
  if (path.empty()) throw Napi::TypeError::New(info.Env(), "saveState: path must not be empty");
  if (Napi::Value refused = Refuse(info.Env(), "saveState", true); !refused.IsEmpty()) return refused;
  return start_save_state(info.Env(), this, std::move(path));
}

Napi::Value EngineHandle::LoadState(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "loadState: path");
  if (path.empty()) throw Napi::TypeError::New(info.Env(), "loadState: path must not be empty");
  if (Napi::Value refused = Refuse(info.Env(), "loadState", true); !refused.IsEmpty()) return refused;
  return start_load_state(info.Env(), this, std::move(path));
}

// Fields of a plan request shared by plan() and planMemory().
static void plan_fields(const Fields& f, int* context, uint64_t* vram_bytes) {
  *context = static_cast<int>(f.integer("context", 0, 0, kMaxContext));
  *vram_bytes = static_cast<uint64_t>(f.integer("vramBytes", 0, 0, kMaxBytes));
}

// The options of a plan of a model not loaded (a file, or a shape): formats too.
struct PlanRequest {
  std::string weights, kv;
  int context = 0;
  uint64_t vram = 0;
};
static PlanRequest plan_request(const Napi::CallbackInfo& info, size_t index, const std::string& what) {
  Fields f(object_arg(info, index, what, true), what, {"weights", "kv", "context", "vramBytes"});
  PlanRequest r;
  r.weights = f.string("weights", "native");
  r.kv = f.string("kv", "f16");
  plan_fields(f, &r.context, &r.vram);
  return r;
}

Napi::Value EngineHandle::Plan(const Napi::CallbackInfo& info) {
  // Arithmetic on immutable model facts: safe beside a worker, so no busy check.
  Napi::Env env = info.Env();
  const std::string what = "plan: options";
  Fields f(object_arg(info, 0, what, true), what, {"context", "vramBytes"});
  int context = 0;
  uint64_t vram = 0;
  plan_fields(f, &context, &vram);
  if (!engine_) throw Napi::Error::New(env, "plan: no model is loaded (call load() first)");
  try {
    return to_js(env, engine_->plan(context, vram));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
}

Napi::Value EngineHandle::PlanMemory(const Napi::CallbackInfo& info) {
  // Synchronous: it reads only the GGUF header (milliseconds), no weights.
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "planMemory: path");
  if (path.empty()) throw Napi::TypeError::New(env, "planMemory: path must not be empty");
  const PlanRequest r = plan_request(info, 1, "planMemory: options");
  try {
    return to_js(env, plan_memory(path, r.weights, r.kv, r.context, r.vram));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
}

Napi::Value EngineHandle::PlanShape(const Napi::CallbackInfo& info) {
  // Arithmetic only: the plan of a model that exists as a shape (not downloaded yet).
  Napi::Env env = info.Env();
  const std::string what_shape = "planShape: shape";
  Fields s(object_arg(info, 0, what_shape, false), what_shape,
           {"layers", "dim", "heads", "kvHeads", "headDim", "ffn", "vocab", "contextLength", "tiedOutput", "fileType"});
  constexpr int64_t kMaxCount = 1 << 24;
  ModelShape shape;
  shape.layers = static_cast<int>(s.integer("layers", 0, 1, kMaxCount));
  shape.dim = static_cast<int>(s.integer("dim", 0, 1, kMaxCount));
  shape.heads = static_cast<int>(s.integer("heads", 0, 1, kMaxCount));
  shape.kv_heads = static_cast<int>(s.integer("kvHeads", 0, 1, kMaxCount));
  shape.head_dim = static_cast<int>(s.integer("headDim", 0, 0, kMaxCount));
  shape.ffn = static_cast<int>(s.integer("ffn", 0, 1, kMaxCount));
  shape.vocab = static_cast<int>(s.integer("vocab", 0, 1, kMaxCount));
  shape.context = static_cast<int>(s.integer("contextLength", 0, 1, kMaxContext));
  shape.tied_output = s.boolean("tiedOutput", false);
  shape.file_type = s.string("fileType", "f16");
  const PlanRequest r = plan_request(info, 1, "planShape: options");
  try {
    return to_js(env, plan_shape(shape, r.weights, r.kv, r.context, r.vram));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
}

Napi::Value EngineHandle::Formats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = [&](const std::vector<FormatInfo>& formats) {
    Napi::Array a = Napi::Array::New(env, formats.size());
    for (size_t i = 0; i < formats.size(); i++) a.Set(static_cast<uint32_t>(i), to_js(env, formats[i]));
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  try {
    o.Set("weights", list(weight_formats()));
    o.Set("kv", list(kv_formats()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
  return o;
}

Napi::Value EngineHandle::Close(const Napi::CallbackInfo& info) {
  if (busy_) throw Napi::Error::New(info.Env(), std::string("close: the engine is busy with ") + busy_);
  engine_.reset();
  return info.Env().Undefined();
}

Napi::Value EngineHandle::GetBusy(const Napi::CallbackInfo& info) {
  return busy_ ? Napi::String::New(info.Env(), busy_) : info.Env().Null();
}

Napi::Value EngineHandle::GetLoaded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), engine_ != nullptr);
}

Napi::Value EngineHandle::ProbeBackends(const Napi::CallbackInfo& info) {
  try {
    return to_js(info.Env(), probe_backends());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), error_message(e));
  }
}

Napi::Value EngineHandle::Synth(const Napi::CallbackInfo& info) {
  SyntheticSpec spec = synthetic_spec(info, 0, "synth", true);
  std::string out = string_arg(info, 1, "synth: out");
  if (out.empty()) throw Napi::TypeError::New(info.Env(), "synth: out must not be empty");
  return start_synth(info.Env(), std::move(spec), std::move(out));
}

}  // namespace km::addon
