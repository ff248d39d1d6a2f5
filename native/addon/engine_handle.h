// EngineHandle: one engine (one loaded model) as a JavaScript object.
//
// Long operations (load, generate, bench, eval, saveState, loadState) run on libuv worker threads and
// return Promises; the handle runs one of them at a time. A worker claims the
// handle when it starts and releases it when it completes; the claim also
// Ref()s the JS object, so the engine cannot be garbage-collected under a
// running worker, and Unref()s it afterwards. Everything here runs on the JS
// thread except km::Engine calls made by workers while the handle is claimed
// (the engine pointer never changes while a claim is held).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "keymate/engine.h"

namespace km::addon {

class EngineHandle : public Napi::ObjectWrap<EngineHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EngineHandle(const Napi::CallbackInfo& info);

  // Worker protocol, JS thread only. Claim after checking busy() is null.
  void Claim(const char* op);
  void Release();
  const char* busy() const { return busy_; }

  km::Engine* engine() { return engine_.get(); }
  // Replaces the loaded engine (the old one, if any, is freed here); the
  // pacing set on the handle carries over to it.
  void Adopt(std::unique_ptr<km::Engine> engine) {
    engine_ = std::move(engine);
    if (engine_) engine_->set_pacing(pacing_ms_);
  }
  // Set by cancel(); read by the engine between tokens.
  const std::atomic<bool>* cancel_flag() const { return &cancel_; }
  void RequestCancel() { cancel_.store(true); }

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value LoadSynthetic(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value SetPacing(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value BackendInfo(const Napi::CallbackInfo& info);
  Napi::Value Bench(const Napi::CallbackInfo& info);
  Napi::Value Eval(const Napi::CallbackInfo& info);
  Napi::Value SaveState(const Napi::CallbackInfo& info);
  Napi::Value LoadState(const Napi::CallbackInfo& info);
  Napi::Value Plan(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetBusy(const Napi::CallbackInfo& info);
  Napi::Value GetLoaded(const Napi::CallbackInfo& info);
  static Napi::Value ProbeBackends(const Napi::CallbackInfo& info);
  static Napi::Value Synth(const Napi::CallbackInfo& info);
  static Napi::Value PlanMemory(const Napi::CallbackInfo& info);
  static Napi::Value PlanShape(const Napi::CallbackInfo& info);
  static Napi::Value Formats(const Napi::CallbackInfo& info);

  // A rejected Promise when the handle cannot start `op` now (busy, or no
  // model when one is needed); an empty value when it can.
  Napi::Value Refuse(Napi::Env env, const char* op, bool needs_model);

  std::unique_ptr<km::Engine> engine_;
  const char* busy_ = nullptr;  // name of the running operation
  std::atomic<bool> cancel_{false};
  double pacing_ms_ = 0;  // setPacing(); the engine reads its own copy while generating
};

}  // namespace km::addon
