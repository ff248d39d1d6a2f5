// synth(): writes a seeded random model of a named shape as a GGUF file, on a
// worker thread (a 7B shape is gigabytes of writing). The engine writes to a
// temporary file and renames it, so an interrupted synth leaves no corrupt
// file. Resolves to the number of bytes written.
#include "promise_worker.h"
#include "synth.h"

namespace km::addon {

namespace {

class SynthWorker : public PromiseWorker {
 public:
  SynthWorker(Napi::Env env, SyntheticSpec spec, std::string out)
      : PromiseWorker(env, "synth", nullptr), spec_(std::move(spec)), out_(std::move(out)) {}

 private:
  void Run() override {
    SynthOptions o;
    o.shape = spec_.shape;
    o.type = spec_.type;
    o.seed = spec_.seed;
    o.vocab = spec_.vocab;
    o.chat_template = spec_.chat_template;
    bytes_ = write_synthetic_gguf(o, out_);
  }
  Napi::Value Finish() override { return Napi::Number::New(Env(), static_cast<double>(bytes_)); }

  SyntheticSpec spec_;
  std::string out_;
  uint64_t bytes_ = 0;
};

}  // namespace

Napi::Promise start_synth(Napi::Env env, SyntheticSpec spec, std::string out) {
  return (new SynthWorker(env, std::move(spec), std::move(out)))->Start();
}

}  // namespace km::addon
