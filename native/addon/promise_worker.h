// A Promise-returning AsyncWorker: Run() on a libuv thread, Finish() back on
// the JS thread to build the resolved value. Optionally holds an EngineHandle
// claimed for the worker's whole run (released before the Promise settles,
// so a `.then` may start the next operation at once).
#pragma once

#include <napi.h>

#include "engine_handle.h"
#include "workers.h"

namespace km::addon {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

 protected:
  PromiseWorker(Napi::Env env, const char* op, EngineHandle* handle)
      : Napi::AsyncWorker(env, op), deferred_(Napi::Promise::Deferred::New(env)), handle_(handle) {
    if (handle_) handle_->Claim(op);
  }

  virtual void Run() = 0;                              // worker thread
  virtual Napi::Value Finish() { return Env().Undefined(); }  // JS thread, after Run succeeded
  EngineHandle* handle() { return handle_; }

 private:
  void Execute() final {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(error_message(e));
    }
  }
  void OnOK() final {
    Napi::Value value;
    std::string failure;
    try {
      value = Finish();
    } catch (const Napi::Error& e) {
      failure = e.Message();
    }
    if (handle_) handle_->Release();
    if (failure.empty()) deferred_.Resolve(value);
    else deferred_.Reject(Napi::Error::New(Env(), failure).Value());
  }
  void OnError(const Napi::Error& e) final {
    if (handle_) handle_->Release();
    deferred_.Reject(e.Value());
  }

  Napi::Promise::Deferred deferred_;
  EngineHandle* handle_;
};

}  // namespace km::addon
