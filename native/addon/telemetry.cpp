// GPU telemetry for JavaScript: km::Nvml behind six module functions
// (nvmlOpen, nvmlSample, nvmlSetPowerLimit, nvmlSetFanSpeed, nvmlRestoreFan,
// nvmlClose), typed in electron/host/engine/native.ts.
//
// All are synchronous: a sample is a few dozen driver calls (about a
// millisecond; the process lists cost the most), cheap enough for the 10 Hz
// the sampler asks, and a setter must answer before the policy moves on.
// One NVML per process, shared by every JS environment that loads the addon,
// behind a mutex. Objects use NVML's snake_case field names, as the shared
// telemetry contract (common/contract/telemetry.ts) writes them; a reading the GPU does not offer is
// null, never 0.
#include "telemetry.h"

#include <cmath>
#include <memory>
#include <mutex>
#include <optional>

#include "keymate/nvml.h"
#include "workers.h"

namespace km::addon {

namespace {

struct State {
  std::mutex lock;
  std::unique_ptr<Nvml> nvml;
};

State& state() {
  static State s;
  return s;
}

// Enough for any machine: NVML numbers GPUs and fans from 0.
constexpr int kMaxIndex = 1023;

Napi::Value nullable(Napi::Env env, const std::optional<double>& v) {
  return v ? Napi::Number::New(env, *v) : env.Null();
}

Napi::Value nullable(Napi::Env env, const std::string& s) {
  return s.empty() ? env.Null() : Napi::String::New(env, s);
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

Napi::Object to_js(Napi::Env env, const NvmlOpenResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", Napi::Boolean::New(env, r.available));
  o.Set("reason", Napi::String::New(env, r.reason));
  o.Set("library", nullable(env, r.library));
  o.Set("driver", nullable(env, r.driver));
  o.Set("gpus", Napi::Number::New(env, r.gpus));
  o.Set("missing", strings(env, r.missing));
  return o;
}

Napi::Object to_js(Napi::Env env, const GpuSample& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, s.index));
  o.Set("name", Napi::String::New(env, s.name));
  o.Set("uuid", Napi::String::New(env, s.uuid));
  o.Set("power_w", nullable(env, s.power_w));
  o.Set("power_avg_w", nullable(env, s.power_avg_w));
  o.Set("energy_mj", nullable(env, s.energy_mj));
  o.Set("power_limit_w", nullable(env, s.power_limit_w));
  o.Set("power_limit_default_w", nullable(env, s.power_limit_default_w));
  o.Set("power_limit_min_w", nullable(env, s.power_limit_min_w));
  o.Set("power_limit_max_w", nullable(env, s.power_limit_max_w));
  o.Set("power_limit_enforced_w", nullable(env, s.power_limit_enforced_w));
  o.Set("temp_c", nullable(env, s.temp_c));
  o.Set("temp_slowdown_c", nullable(env, s.temp_slowdown_c));
  o.Set("temp_shutdown_c", nullable(env, s.temp_shutdown_c));
  o.Set("temp_max_gpu_c", nullable(env, s.temp_max_gpu_c));
  Napi::Array fans = Napi::Array::New(env, s.fans_pct.size());
  for (size_t i = 0; i < s.fans_pct.size(); i++) fans.Set(static_cast<uint32_t>(i), Napi::Number::New(env, s.fans_pct[i]));
  o.Set("fans_pct", fans);
  o.Set("sm_clock_mhz", nullable(env, s.sm_clock_mhz));
  o.Set("mem_clock_mhz", nullable(env, s.mem_clock_mhz));
  o.Set("mem_used_mb", nullable(env, s.mem_used_mb));
  o.Set("mem_total_mb", nullable(env, s.mem_total_mb));
  o.Set("util_gpu_pct", nullable(env, s.util_gpu_pct));
  o.Set("util_mem_pct", nullable(env, s.util_mem_pct));
  o.Set("throttle", strings(env, s.throttle));
  Napi::Array procs = Napi::Array::New(env, s.processes.size());
  for (size_t i = 0; i < s.processes.size(); i++) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("pid", Napi::Number::New(env, s.processes[i].pid));
    p.Set("used_mb", nullable(env, s.processes[i].used_mb));
    p.Set("kind", Napi::String::New(env, s.processes[i].kind));
    procs.Set(static_cast<uint32_t>(i), p);
  }
  o.Set("processes", procs);
  Napi::Object caps = Napi::Object::New(env);
  caps.Set("read_power", Napi::Boolean::New(env, s.caps.read_power));
  caps.Set("set_power_limit", Napi::Boolean::New(env, s.caps.set_power_limit));
  caps.Set("set_fans", Napi::Boolean::New(env, s.caps.set_fans));
  o.Set("caps", caps);
  return o;
}

// info[i] as an integer in [lo, hi]; `what` names it ("nvmlSample: index").
int int_arg(const Napi::CallbackInfo& info, size_t i, const char* what, int lo, int hi) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != std::floor(d))
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
                                                std::to_string(hi) + "], got " + v.ToString().Utf8Value());
  return static_cast<int>(d);
}

// Runs `fn` on the open NVML; km::Error becomes a JS Error with its message.
template <typename Fn>
auto with_nvml(Napi::Env env, const char* call, Fn fn) {
  State& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  if (!s.nvml) throw Napi::Error::New(env, std::string(call) + ": NVML is not open (call nvmlOpen() first)");
  try {
    return fn(*s.nvml);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, error_message(e));
  }
}

Napi::Value NvmlOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string library;
  if (!info[0].IsUndefined()) {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "nvmlOpen: libraryPath must be a string or undefined");
    library = info[0].As<Napi::String>().Utf8Value();
  }
  State& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  s.nvml.reset();  // a second open starts afresh (another library, a new trace)
  NvmlOpenResult r;
  s.nvml = Nvml::open(library, &r);
  return to_js(env, r);
}

Napi::Value NvmlSample(const Napi::CallbackInfo& info) {
  const int index = int_arg(info, 0, "nvmlSample: index", 0, kMaxIndex);
  GpuSample s = with_nvml(info.Env(), "nvmlSample", [&](Nvml& n) { return n.sample(index); });
  return to_js(info.Env(), s);
}

Napi::Value NvmlSetPowerLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int index = int_arg(info, 0, "nvmlSetPowerLimit: index", 0, kMaxIndex);
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "nvmlSetPowerLimit: watts must be a number");
  const double watts = info[1].As<Napi::Number>().DoubleValue();
  with_nvml(env, "nvmlSetPowerLimit", [&](Nvml& n) {
    n.set_power_limit(index, watts);
    return 0;
  });
  return env.Undefined();
}

Napi::Value NvmlSetFanSpeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int index = int_arg(info, 0, "nvmlSetFanSpeed: index", 0, kMaxIndex);
  const int fan = int_arg(info, 1, "nvmlSetFanSpeed: fan", 0, kMaxIndex);
  const int pct = int_arg(info, 2, "nvmlSetFanSpeed: pct", 0, 100);
  with_nvml(env, "nvmlSetFanSpeed", [&](Nvml& n) {
    n.set_fan_speed(index, fan, pct);
    return 0;
  });
  return env.Undefined();
}

Napi::Value NvmlRestoreFan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int index = int_arg(info, 0, "nvmlRestoreFan: index", 0, kMaxIndex);
  const int fan = int_arg(info, 1, "nvmlRestoreFan: fan", 0, kMaxIndex);
  with_nvml(env, "nvmlRestoreFan", [&](Nvml& n) {
    n.restore_fan(index, fan);
    return 0;
  });
  return env.Undefined();
}

Napi::Value NvmlClose(const Napi::CallbackInfo& info) {
  State& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  s.nvml.reset();  // closing what is not open is fine: exit paths call it unconditionally
  return info.Env().Undefined();
}

}  // namespace

void register_telemetry(Napi::Env env, Napi::Object exports) {
  exports.Set("nvmlOpen", Napi::Function::New<NvmlOpen>(env, "nvmlOpen"));
  exports.Set("nvmlSample", Napi::Function::New<NvmlSample>(env, "nvmlSample"));
  exports.Set("nvmlSetPowerLimit", Napi::Function::New<NvmlSetPowerLimit>(env, "nvmlSetPowerLimit"));
  exports.Set("nvmlSetFanSpeed", Napi::Function::New<NvmlSetFanSpeed>(env, "nvmlSetFanSpeed"));
  exports.Set("nvmlRestoreFan", Napi::Function::New<NvmlRestoreFan>(env, "nvmlRestoreFan"));
  exports.Set("nvmlClose", Napi::Function::New<NvmlClose>(env, "nvmlClose"));
}

}  // namespace km::addon
