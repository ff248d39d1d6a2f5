// Engine results as JavaScript objects (see to_js.h). 64-bit counts become
// doubles: byte and parameter counts stay exact far beyond any model size.
#include "to_js.h"

namespace km::addon {

static Napi::Number num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

Napi::Object to_js(Napi::Env env, const TokenEvent& ev) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("token", num(env, ev.token));
  o.Set("text", Napi::String::New(env, ev.text));
  o.Set("index", num(env, ev.index));
  o.Set("tMs", num(env, ev.t_ms));
  return o;
}

Napi::Object to_js(Napi::Env env, const GenerateResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("completion", Napi::String::New(env, r.completion));
  Napi::Array tokens = Napi::Array::New(env, r.tokens.size());
  for (size_t i = 0; i < r.tokens.size(); i++) tokens.Set(static_cast<uint32_t>(i), num(env, r.tokens[i]));
  o.Set("tokens", tokens);
  o.Set("promptTokens", num(env, r.prompt_tokens));
  o.Set("cachedTokens", num(env, r.cached_tokens));
  o.Set("ttftMs", num(env, r.ttft_ms));
  o.Set("prefillMs", num(env, r.prefill_ms));
  o.Set("decodeTokS", num(env, r.decode_tok_s));
  o.Set("stop", Napi::String::New(env, r.stop));
  o.Set("fallback", r.fallback.empty() ? env.Null() : Napi::Value(Napi::String::New(env, r.fallback)));
  o.Set("stagesMs", r.profiled ? Napi::Value(to_js(env, r.stages_ms)) : env.Null());
  return o;
}

Napi::Object to_js(Napi::Env env, const StageTimes& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("embed", num(env, s.embed));
  o.Set("qkv", num(env, s.qkv));
  o.Set("attention", num(env, s.attention));
  o.Set("ffn", num(env, s.ffn));
  o.Set("logits", num(env, s.logits));
  o.Set("other", num(env, s.other));
  return o;
}

Napi::Object to_js(Napi::Env env, const BenchResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", Napi::String::New(env, r.backend));
  o.Set("device", Napi::String::New(env, r.device));
  o.Set("path", Napi::String::New(env, exec_path_name(r.path)));
  o.Set("promptTokens", num(env, r.prompt_tokens));
  o.Set("genTokens", num(env, r.gen_tokens));
  o.Set("repeat", num(env, r.repeat));
  o.Set("threads", num(env, r.threads));
  Napi::Object ttft = Napi::Object::New(env);
  ttft.Set("min", num(env, r.ttft_ms.min));
  ttft.Set("median", num(env, r.ttft_ms.median));
  ttft.Set("p90", num(env, r.ttft_ms.p90));
  o.Set("ttftMs", ttft);
  o.Set("prefillTokS", num(env, r.prefill_tok_s));
  o.Set("decodeTokS", num(env, r.decode_tok_s));
  o.Set("decodeMsPerToken", num(env, r.decode_ms_per_token));
  o.Set("stagesMs", to_js(env, r.stages_ms));
  o.Set("boundMs", num(env, r.bound_ms));
  o.Set("bandwidthGbS", num(env, r.bandwidth_gb_s));
  return o;
}

Napi::Object to_js(Napi::Env env, const ModelInfo& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", Napi::String::New(env, m.path));
  o.Set("architecture", Napi::String::New(env, m.architecture));
  o.Set("name", Napi::String::New(env, m.name));
  o.Set("parameters", num(env, static_cast<double>(m.parameters)));
  o.Set("weightBytes", num(env, static_cast<double>(m.weight_bytes)));
  Napi::Object types = Napi::Object::New(env);
  for (const auto& [type, count] : m.tensor_types) types.Set(type, num(env, count));
  o.Set("tensorTypes", types);
  o.Set("contextLength", num(env, m.context_length));
  o.Set("vocab", num(env, m.vocab));
  o.Set("dim", num(env, m.dim));
  o.Set("layers", num(env, m.layers));
  o.Set("heads", num(env, m.heads));
  o.Set("kvHeads", num(env, m.kv_heads));
  o.Set("ffn", num(env, m.ffn));
  o.Set("tokenizer", Napi::String::New(env, m.tokenizer));
  o.Set("chatTemplate", Napi::String::New(env, m.chat_template));
  o.Set("bosToken", Napi::String::New(env, m.bos_token));
  o.Set("eosToken", Napi::String::New(env, m.eos_token));
  o.Set("weights", Napi::String::New(env, m.weights));
  o.Set("kv", Napi::String::New(env, m.kv));
  o.Set("importance", Napi::String::New(env, m.importance));
  o.Set("backend", Napi::String::New(env, m.backend));
  o.Set("backendFallback", m.backend_fallback.empty() ? env.Null() : Napi::Value(Napi::String::New(env, m.backend_fallback)));
  return o;
}

Napi::Object to_js(Napi::Env env, const BackendReport& r) {
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("available", Napi::Boolean::New(env, r.cpu.available));
  cpu.Set("simd", Napi::String::New(env, r.cpu.simd));
  cpu.Set("threads", num(env, r.cpu.threads));

  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("compiled", Napi::Boolean::New(env, r.cuda.compiled));
  Napi::Array archs = Napi::Array::New(env, r.cuda.archs.size());
  for (size_t i = 0; i < r.cuda.archs.size(); i++) archs.Set(static_cast<uint32_t>(i), num(env, r.cuda.archs[i]));
  cuda.Set("archs", archs);
  cuda.Set("available", Napi::Boolean::New(env, r.cuda.available));
  cuda.Set("reason", Napi::String::New(env, r.cuda.reason));
  Napi::Array devices = Napi::Array::New(env, r.cuda.devices.size());
  for (size_t i = 0; i < r.cuda.devices.size(); i++) {
    const CudaDevice& d = r.cuda.devices[i];
    Napi::Object dev = Napi::Object::New(env);
    dev.Set("name", Napi::String::New(env, d.name));
    dev.Set("cc", num(env, d.cc));
    dev.Set("memoryMb", num(env, static_cast<double>(d.memory_mb)));
    dev.Set("driver", Napi::String::New(env, d.driver));
    devices.Set(static_cast<uint32_t>(i), dev);
  }
  cuda.Set("devices", devices);

  Napi::Object o = Napi::Object::New(env);
  o.Set("cpu", cpu);
  o.Set("cuda", cuda);
  return o;
}

Napi::Object to_js(Napi::Env env, const EvalResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kldMean", num(env, r.kld_mean));
  o.Set("kldP99", num(env, r.kld_p99));
  o.Set("kldMedian", num(env, r.kld_median));
  o.Set("kldMax", num(env, r.kld_max));
  o.Set("top1Agreement", num(env, r.top1_agreement));
  o.Set("ppl", num(env, r.ppl));
  o.Set("pplRef", num(env, r.ppl_ref));
  o.Set("tokens", num(env, r.tokens));
  o.Set("chunks", num(env, r.chunks));
  o.Set("ctx", num(env, r.ctx));
  o.Set("textTokens", num(env, r.text_tokens));
  o.Set("weights", Napi::String::New(env, r.weights));
  o.Set("kv", Napi::String::New(env, r.kv));
  o.Set("cancelled", Napi::Boolean::New(env, r.cancelled));
  o.Set("ms", num(env, r.ms));
  return o;
}

Napi::Object to_js(Napi::Env env, const MemoryPlan& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("weights", Napi::String::New(env, p.weights));
  o.Set("kv", Napi::String::New(env, p.kv));
  o.Set("context", num(env, p.context));
  o.Set("weightsBytes", num(env, static_cast<double>(p.weights_bytes)));
  o.Set("kvBytesPerToken", num(env, static_cast<double>(p.kv_bytes_per_token)));
  o.Set("kvBytes", num(env, static_cast<double>(p.kv_bytes)));
  o.Set("activationBytes", num(env, static_cast<double>(p.activation_bytes)));
  o.Set("reserveBytes", num(env, static_cast<double>(p.reserve_bytes)));
  o.Set("totalBytes", num(env, static_cast<double>(p.total_bytes)));
  o.Set("vramBytes", num(env, static_cast<double>(p.vram_bytes)));
  o.Set("fits", Napi::Boolean::New(env, p.fits));
  o.Set("maxContext", num(env, p.max_context));
  return o;
}

Napi::Object to_js(Napi::Env env, const FormatInfo& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", Napi::String::New(env, f.name));
  o.Set("sameAs", Napi::String::New(env, f.same_as));
  o.Set("bits", num(env, f.bits));
  o.Set("about", Napi::String::New(env, f.about));
  return o;
}

Napi::Object to_js(Napi::Env env, const StateInfo& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tokens", Napi::Number::New(env, s.tokens));
  o.Set("bytes", num(env, static_cast<double>(s.bytes)));  // exact below 2^53 (8 PiB)
  return o;
}

}  // namespace km::addon
