// generate(): Engine::generate on a worker thread, each token streamed to a
// JS callback. AsyncProgressQueueWorker (not AsyncProgressWorker, which keeps
// only the latest send) queues every TokenEvent, so the callback sees each
// token exactly once, in order, and the Promise settles after the last one.
//
// A callback that throws stops the generation (through the cancel flag) and
// the Promise rejects with what it threw; tokens still queued are dropped.
#include "to_js.h"
#include "workers.h"

namespace km::addon {

namespace {

class GenerateWorker : public Napi::AsyncProgressQueueWorker<TokenEvent> {
 public:
  GenerateWorker(Napi::Env env, EngineHandle* handle, GenerateRequest req, Napi::Function on_token)
      : Napi::AsyncProgressQueueWorker<TokenEvent>(env, "generate"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(handle),
        req_(std::move(req)),
        on_token_(Napi::Persistent(on_token)) {
    handle_->Claim("generate");
    req_.cancel = handle_->cancel_flag();
  }

  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

 private:
  void Execute(const ExecutionProgress& progress) override {
    try {
      result_ = handle_->engine()->generate(req_, [&](const TokenEvent& ev) { progress.Send(&ev, 1); });
    } catch (const std::exception& e) {
      SetError(error_message(e));
    }
  }

  void OnProgress(const TokenEvent* events, size_t count) override {
    if (events == nullptr || !thrown_.IsEmpty()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; i++) {
      try {
        on_token_.Call({to_js(env, events[i])});
      } catch (const Napi::Error& e) {
        thrown_ = Napi::Persistent(e.Value());
        handle_->RequestCancel();
        return;
      }
    }
  }

  void OnOK() override {
    handle_->Release();
    if (!thrown_.IsEmpty()) deferred_.Reject(thrown_.Value());
    else deferred_.Resolve(to_js(Env(), result_));
  }

  void OnError(const Napi::Error& e) override {
    handle_->Release();
    deferred_.Reject(thrown_.IsEmpty() ? e.Value() : thrown_.Value());
  }

  Napi::Promise::Deferred deferred_;
  EngineHandle* handle_;
  GenerateRequest req_;
  Napi::FunctionReference on_token_;
  Napi::ObjectReference thrown_;  // what the callback threw, if it did
  GenerateResult result_;
};

}  // namespace

Napi::Promise start_generate(Napi::Env env, EngineHandle* handle, GenerateRequest req,
                             Napi::Function on_token) {
  return (new GenerateWorker(env, handle, std::move(req), on_token))->Start();
}

}  // namespace km::addon
