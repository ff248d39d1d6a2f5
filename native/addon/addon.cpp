// The addon's entry point: registration only. The engine hangs off one class,
// EngineHandle (engine_handle.h); GPU telemetry is a set of module functions
// (telemetry.h). Typings for JavaScript live in electron/host/engine/native.ts.
#include <napi.h>

#include "engine_handle.h"
#include "telemetry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EngineHandle", km::addon::EngineHandle::Define(env));
  km::addon::register_telemetry(env, exports);
  // Lets the loader refuse a stale build whose surface differs from the typings.
  exports.Set("abiVersion", Napi::Number::New(env, 6));
  return exports;
}

}  // namespace

NODE_API_MODULE(keymate, Init)
