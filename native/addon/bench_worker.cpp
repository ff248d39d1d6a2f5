// bench(): Engine::bench on a worker thread (it runs for seconds: warm-up,
// then `repeat` prefill + decode runs).
#include "promise_worker.h"
#include "to_js.h"

namespace km::addon {

namespace {

class BenchWorker : public PromiseWorker {
 public:
  BenchWorker(Napi::Env env, EngineHandle* handle, BenchRequest req)
      : PromiseWorker(env, "bench", handle), req_(std::move(req)) {}

 private:
  void Run() override { result_ = handle()->engine()->bench(req_); }
  Napi::Value Finish() override { return to_js(Env(), result_); }

  BenchRequest req_;
  BenchResult result_;
};

}  // namespace

Napi::Promise start_bench(Napi::Env env, EngineHandle* handle, BenchRequest req) {
  return (new BenchWorker(env, handle, std::move(req)))->Start();
}

}  // namespace km::addon
