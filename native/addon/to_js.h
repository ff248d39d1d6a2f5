// Engine results as JavaScript objects. Field names are camelCase, as
// JavaScript expects; the CLI renames them to DESIGN.md's snake_case JSON.
// The TypeScript typings in electron/host/engine/native.ts mirror exactly
// what is built here.
#pragma once

#include <napi.h>

#include "keymate/engine.h"

namespace km::addon {

Napi::Object to_js(Napi::Env env, const TokenEvent& ev);
Napi::Object to_js(Napi::Env env, const GenerateResult& r);
Napi::Object to_js(Napi::Env env, const BenchResult& r);
Napi::Object to_js(Napi::Env env, const ModelInfo& info);
Napi::Object to_js(Napi::Env env, const BackendReport& report);
Napi::Object to_js(Napi::Env env, const StageTimes& s);
Napi::Object to_js(Napi::Env env, const EvalResult& r);
Napi::Object to_js(Napi::Env env, const MemoryPlan& p);
Napi::Object to_js(Napi::Env env, const FormatInfo& f);
Napi::Object to_js(Napi::Env env, const StateInfo& s);

}  // namespace km::addon
