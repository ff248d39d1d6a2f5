// The addon's entry point: registration only. Everything it exposes hangs off
// one class, EngineHandle (engine_handle.h); typings for JavaScript live in
// electron/host/engine/native.ts.
#include <napi.h>

#include "engine_handle.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EngineHandle", km::addon::EngineHandle::Define(env));
  // Lets the loader refuse a stale build whose surface differs from the typings.
  exports.Set("abiVersion", Napi::Number::New(env, 3));
  return exports;
}

}  // namespace

NODE_API_MODULE(keymate, Init)
