// The long operations, each run by its own worker on a libuv thread and
// answered with a Promise. A km::Error thrown by the engine rejects the
// Promise with an Error carrying the engine's message, unchanged.
// Workers that use an EngineHandle claim it for their whole run; the caller
// has checked that it is free.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "engine_handle.h"
#include "keymate/engine.h"

namespace km::addon {

// What a synthetic model is made of (Engine::synthetic / keymate synth).
struct SyntheticSpec {
  std::string shape;  // "tiny-125m", "llama3.2-1b", ...
  std::string type;   // "f32" | "f16" | "bf16" | "q8_0" | "q4_0"
  uint64_t seed = 0;
  std::string vocab;  // synth only: the vocabulary GGUF or its folder; "" = searched for
  std::string chat_template;  // synth only: Jinja source for tokenizer.chat_template; "" = the vocabulary's
};

Napi::Promise start_load(Napi::Env env, EngineHandle* handle, std::string path, LoadOptions opts);
Napi::Promise start_load_synthetic(Napi::Env env, EngineHandle* handle, SyntheticSpec spec,
                                   LoadOptions opts);
// Tokens reach on_token on the JS thread, one call per token, in order, none
// merged (tokens that came while JS was busy are handed over in one wake-up);
// the Promise settles after the last one.
Napi::Promise start_generate(Napi::Env env, EngineHandle* handle, GenerateRequest req,
                             Napi::Function on_token);
Napi::Promise start_bench(Napi::Env env, EngineHandle* handle, BenchRequest req);
// Compares the loaded engine with its full-precision reference over a text;
// cancel() stops it between chunks.
Napi::Promise start_eval(Napi::Env env, EngineHandle* handle, EvalRequest req);
// The engine's KV cache to a .kmkv file and back (Engine::save_state /
// load_state); both resolve to {tokens, bytes}.
Napi::Promise start_save_state(Napi::Env env, EngineHandle* handle, std::string path);
Napi::Promise start_load_state(Napi::Env env, EngineHandle* handle, std::string path);
// Writes a synthetic model as a GGUF file at `out` (no handle involved);
// resolves to the number of bytes written.
Napi::Promise start_synth(Napi::Env env, SyntheticSpec spec, std::string out);

// The message a worker reports for an exception (never empty).
std::string error_message(const std::exception& e);

}  // namespace km::addon
