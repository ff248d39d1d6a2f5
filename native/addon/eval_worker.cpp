// eval(): Engine::eval on a worker thread. It runs the model twice over every
// chunk of the text (the quantized engine and its full-precision reference),
// so it takes seconds to minutes; cancel() stops it between chunks and the
// result then covers the chunks done (cancelled: true).
#include "promise_worker.h"
#include "to_js.h"

namespace km::addon {

namespace {

class EvalWorker : public PromiseWorker {
 public:
  EvalWorker(Napi::Env env, EngineHandle* handle, EvalRequest req)
      : PromiseWorker(env, "eval", handle), req_(std::move(req)) {
    req_.cancel = handle->cancel_flag();
  }

 private:
  void Run() override { result_ = handle()->engine()->eval(req_); }
  Napi::Value Finish() override { return to_js(Env(), result_); }

  EvalRequest req_;
  EvalResult result_;
};

}  // namespace

Napi::Promise start_eval(Napi::Env env, EngineHandle* handle, EvalRequest req) {
  return (new EvalWorker(env, handle, std::move(req)))->Start();
}

}  // namespace km::addon
