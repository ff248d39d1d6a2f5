// generate(): Engine::generate on a worker thread, each token streamed to a
// JS callback: the callback sees each token exactly once, in order, and the
// Promise settles after the last one.
//
// The engine thread never waits for JavaScript: it appends the token to a
// buffer under a mutex and wakes the JS thread only when no wake-up is
// already pending. The JS thread takes everything buffered at once and calls
// the callback for each token. So tokens that come while JS is busy are handed
// over together, in one thread-safe-function call, instead of one call (an
// allocation, a queue lock and an event-loop wake-up) each: at tens of
// thousands of tokens a second that per-token cost slowed the engine itself.
//
// After a wake-up the engine thread yields its core once. Linux tends to wake
// a thread on the waker's core, where the JS thread then queued behind the
// engine's next token until the scheduler preempted it: a token reached JS
// 1-3 ms after it was ready (a 125M model on 2 cores, one and two engine
// threads), against 0.16 ms with the yield. When nothing else is waiting for
// the core, the yield returns at once and the engine goes on.
//
// A callback that throws stops the generation (through the cancel flag) and
// the Promise rejects with what it threw; tokens still queued are dropped.
#include <mutex>
#include <thread>
#include <vector>

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
      result_ = handle_->engine()->generate(req_, [&](const TokenEvent& ev) {
        bool wake;
        {
          std::lock_guard<std::mutex> lock(mu_);
          buffered_.push_back(ev);
          wake = !woken_;
          woken_ = true;
        }
        if (wake) {
          progress.Signal();
          std::this_thread::yield();  // let the JS thread run now if it was woken here (see above)
        }
      });
    } catch (const std::exception& e) {
      SetError(error_message(e));
    }
  }

  // A wake-up: every token buffered since the last one.
  void OnProgress(const TokenEvent*, size_t) override { Drain(); }

  void Drain() {
    std::vector<TokenEvent> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      events.swap(buffered_);
      woken_ = false;
    }
    if (!thrown_.IsEmpty()) return;
    Napi::Env env = Env();
    for (const TokenEvent& ev : events) {
      try {
        on_token_.Call({to_js(env, ev)});
      } catch (const Napi::Error& e) {
        thrown_ = Napi::Persistent(e.Value());
        handle_->RequestCancel();
        return;
      }
    }
  }

  void OnOK() override {
    Drain();  // none should be left (the last wake-up runs before this), but never drop one
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
  std::mutex mu_;
  std::vector<TokenEvent> buffered_;  // tokens the JS thread has not taken yet
  bool woken_ = false;                // a wake-up is on its way to the JS thread
  GenerateResult result_;
};

}  // namespace

Napi::Promise start_generate(Napi::Env env, EngineHandle* handle, GenerateRequest req,
                             Napi::Function on_token) {
  return (new GenerateWorker(env, handle, std::move(req), on_token))->Start();
}

}  // namespace km::addon
