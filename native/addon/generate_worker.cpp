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
// The callback may return a number of milliseconds: from then on the engine
// may hold tokens that long before waking the JS thread. The host asks for it
// once the reply shows text (until then each token goes at once: the first
// word is the latency the user waits for), because after that a screen shows
// a frame at a time anyway, and a wake-up per token cost a model whose token
// takes 33 us (stories260K) 27-42 % of its decode speed through the addon
// (scripts/bench-handover.ts; with the hold, 2-5 %). Held tokens go when the one that waited longest would wait past the
// hold by the next token (expected one token's time from now), and when the
// generation ends; so a token slower than the hold never waits.
//
// A callback that throws stops the generation (through the cancel flag) and
// the Promise rejects with what it threw; tokens still queued are dropped.
#include <atomic>
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
      double previous_ms = 0;  // the previous token's time (the request's start for the first)
      result_ = handle_->engine()->generate(req_, [&](const TokenEvent& ev) {
        const double next_ms = ev.t_ms + (ev.t_ms - previous_ms);  // when the next token is expected
        previous_ms = ev.t_ms;
        bool wake;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (buffered_.empty()) oldest_ms_ = ev.t_ms;
          buffered_.push_back(ev);
          wake = !woken_ && next_ms - oldest_ms_ >= hold_ms_.load(std::memory_order_relaxed);
          woken_ = woken_ || wake;
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
        const Napi::Value hold = on_token_.Call({to_js(env, ev)});
        if (hold.IsNumber()) hold_ms_.store(hold.As<Napi::Number>().DoubleValue(), std::memory_order_relaxed);
      } catch (const Napi::Error& e) {
        thrown_ = Napi::Persistent(e.Value());
        handle_->RequestCancel();
        return;
      }
    }
  }

  void OnOK() override {
    Drain();  // the tokens held since the last wake-up
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
  double oldest_ms_ = 0;              // the first buffered token's time
  std::atomic<double> hold_ms_{0};    // how long tokens may wait for a wake-up (the callback's answer)
  GenerateResult result_;
};

}  // namespace

Napi::Promise start_generate(Napi::Env env, EngineHandle* handle, GenerateRequest req,
                             Napi::Function on_token) {
  return (new GenerateWorker(env, handle, std::move(req), on_token))->Start();
}

}  // namespace km::addon
