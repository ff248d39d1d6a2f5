// saveState() and loadState(): Engine::save_state / load_state on a worker
// thread. Both claim the handle like generate: the KV cache they copy is the
// one a generation writes, and a state of a long conversation is hundreds of
// MB of file I/O, too slow for the JS thread.
#include "promise_worker.h"
#include "to_js.h"

namespace km::addon {

namespace {

class StateWorker : public PromiseWorker {
 public:
  StateWorker(Napi::Env env, EngineHandle* handle, const char* op, bool save, std::string path)
      : PromiseWorker(env, op, handle), save_(save), path_(std::move(path)) {}

 private:
  void Run() override {
    Engine& e = *handle()->engine();
    info_ = save_ ? e.save_state(path_) : e.load_state(path_);
  }
  Napi::Value Finish() override { return to_js(Env(), info_); }

  bool save_;
  std::string path_;
  StateInfo info_;
};

}  // namespace

Napi::Promise start_save_state(Napi::Env env, EngineHandle* handle, std::string path) {
  return (new StateWorker(env, handle, "saveState", true, std::move(path)))->Start();
}

Napi::Promise start_load_state(Napi::Env env, EngineHandle* handle, std::string path) {
  return (new StateWorker(env, handle, "loadState", false, std::move(path)))->Start();
}

}  // namespace km::addon
