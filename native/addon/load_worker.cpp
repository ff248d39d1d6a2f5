// load() and loadSynthetic(): build an engine on a worker thread, then swap
// it into the handle on the JS thread, so a failed load leaves the previous
// model loaded and usable.
#include <memory>

#include "promise_worker.h"

namespace km::addon {

namespace {

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, EngineHandle* handle, std::string path, SyntheticSpec synthetic,
             LoadOptions opts)
      : PromiseWorker(env, "load", handle),
        path_(std::move(path)),
        synthetic_(std::move(synthetic)),
        opts_(std::move(opts)) {}

 private:
  void Run() override {
    engine_ = path_.empty() ? Engine::synthetic(synthetic_.shape, synthetic_.type, synthetic_.seed, opts_)
                            : Engine::load(path_, opts_);
  }
  Napi::Value Finish() override {
    handle()->Adopt(std::move(engine_));
    return Env().Undefined();
  }

  std::string path_;  // empty: synthetic
  SyntheticSpec synthetic_;
  LoadOptions opts_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace

Napi::Promise start_load(Napi::Env env, EngineHandle* handle, std::string path, LoadOptions opts) {
  return (new LoadWorker(env, handle, std::move(path), {}, std::move(opts)))->Start();
}

Napi::Promise start_load_synthetic(Napi::Env env, EngineHandle* handle, SyntheticSpec spec,
                                   LoadOptions opts) {
  return (new LoadWorker(env, handle, "", std::move(spec), std::move(opts)))->Start();
}

}  // namespace km::addon
