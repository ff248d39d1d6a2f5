// Loading NVML with dlopen and the setters. Which entry points are required
// and which optional is decided here, once: a driver too old for one call
// (or a test library that leaves it out on purpose) costs the readings that
// need it, never the whole telemetry. Every failure to load becomes a reason
// in words; only the setters throw, because a caller asked for a change.
#include "keymate/nvml.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <initializer_list>

#include "keymate/error.h"
#include "telemetry/nvml_library.h"

namespace km {

namespace nvml_detail {

std::string Library::error(nvml_api::Return r) const {
  const char* s = error_string ? error_string(r) : nullptr;
  return s && *s ? std::string(s) : format("NVML error %d", r);
}

nvml_api::Device Library::device(int index, const char* what) const {
  if (index < 0 || index >= static_cast<int>(devices.size()))
    fail("nvml: %s: GPU %d does not exist (this machine has %zu: 0 to %zu)", what, index, devices.size(),
         devices.empty() ? size_t{0} : devices.size() - 1);
  return devices[static_cast<size_t>(index)];
}

}  // namespace nvml_detail

namespace {

using nvml_detail::Library;
namespace api = nvml_api;

// The driver's soname: the unversioned libnvidia-ml.so comes only with
// development packages, the .1 with every driver.
constexpr const char* kDefaultLibrary = "libnvidia-ml.so.1";

void* symbol(void* handle, const char* name) { return dlsym(handle, name); }

// The first of `names` the library has, into *fn; false when it has none.
template <typename Fn>
bool find(Library& L, Fn* fn, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* p = symbol(L.handle, n)) {
      *fn = reinterpret_cast<Fn>(p);
      return true;
    }
  }
  return false;
}

// An optional entry point: when absent, its first (preferred) name is listed.
template <typename Fn>
void optional(Library& L, Fn* fn, std::initializer_list<const char*> names) {
  if (!find(L, fn, names)) L.missing.push_back(*names.begin());
}

void unload(Library& L) {
  if (L.initialised && L.shutdown) L.shutdown();
  L.initialised = false;
  if (L.handle) dlclose(L.handle);
  L.handle = nullptr;
}

// The file dlopen actually mapped (a bare soname resolves through the loader's
// search path), for `keymate info` and bug reports.
std::string resolved_path(void* any_symbol, const std::string& fallback) {
  Dl_info info{};
  if (any_symbol && dladdr(any_symbol, &info) && info.dli_fname && *info.dli_fname) return info.dli_fname;
  return fallback;
}

// Loads and initialises; on failure returns the reason (L is then unloaded).
std::string load(Library& L, const std::string& asked, NvmlOpenResult* out) {
  std::string name = asked;
  bool by_default = false;
  if (name.empty()) {
    const char* env = std::getenv("KEYMATE_NVML_LIB");
    if (env && *env) name = env;
  }
  if (name.empty()) {
    name = kDefaultLibrary;
    by_default = true;
  }
  dlerror();
  L.handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!L.handle) {
    const char* why = dlerror();
    return by_default ? format("no NVIDIA driver found: %s cannot be loaded (%s)", name.c_str(), why ? why : "unknown")
                      : format("%s cannot be loaded: %s", name.c_str(), why ? why : "unknown");
  }

  const struct { bool found; const char* name; } required[] = {
      {find(L, &L.init, {"nvmlInit_v2"}), "nvmlInit_v2"},
      {find(L, &L.shutdown, {"nvmlShutdown"}), "nvmlShutdown"},
      {find(L, &L.error_string, {"nvmlErrorString"}), "nvmlErrorString"},
      {find(L, &L.get_count, {"nvmlDeviceGetCount_v2"}), "nvmlDeviceGetCount_v2"},
      {find(L, &L.get_handle, {"nvmlDeviceGetHandleByIndex_v2"}), "nvmlDeviceGetHandleByIndex_v2"},
  };
  out->library = resolved_path(reinterpret_cast<void*>(L.init), name);
  for (const auto& r : required)
    if (!r.found)
      return format("%s: not a usable NVML library (it lacks %s; update the NVIDIA driver)", out->library.c_str(),
                    r.name);

  optional(L, &L.driver_version, {"nvmlSystemGetDriverVersion"});
  optional(L, &L.get_name, {"nvmlDeviceGetName"});
  optional(L, &L.get_uuid, {"nvmlDeviceGetUUID"});
  optional(L, &L.get_power_usage, {"nvmlDeviceGetPowerUsage"});
  optional(L, &L.get_field_values, {"nvmlDeviceGetFieldValues"});
  optional(L, &L.get_total_energy, {"nvmlDeviceGetTotalEnergyConsumption"});
  optional(L, &L.get_power_limit, {"nvmlDeviceGetPowerManagementLimit"});
  optional(L, &L.get_power_limit_default, {"nvmlDeviceGetPowerManagementDefaultLimit"});
  optional(L, &L.get_power_limit_constraints, {"nvmlDeviceGetPowerManagementLimitConstraints"});
  optional(L, &L.get_enforced_power_limit, {"nvmlDeviceGetEnforcedPowerLimit"});
  optional(L, &L.get_temperature, {"nvmlDeviceGetTemperature"});
  optional(L, &L.get_temperature_threshold, {"nvmlDeviceGetTemperatureThreshold"});
  optional(L, &L.get_num_fans, {"nvmlDeviceGetNumFans"});
  // Per-fan readings need _v2; the old call reads one fan and stands in for it.
  optional(L, &L.get_fan_speed_v2, {"nvmlDeviceGetFanSpeed_v2"});
  find(L, &L.get_fan_speed, {"nvmlDeviceGetFanSpeed"});
  optional(L, &L.get_clock_info, {"nvmlDeviceGetClockInfo"});
  optional(L, &L.get_memory_info, {"nvmlDeviceGetMemoryInfo"});
  optional(L, &L.get_utilization, {"nvmlDeviceGetUtilizationRates"});
  // Renamed in CUDA 12.2's NVML; same bits under both names.
  optional(L, &L.get_clocks_event_reasons,
           {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
  // _v3 and _v2 write nvmlProcessInfo_t; the unversioned call the shorter v1 struct.
  if (!find(L, &L.get_compute_processes,
            {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"}))
    if (!find(L, &L.get_compute_processes_v1, {"nvmlDeviceGetComputeRunningProcesses"}))
      L.missing.push_back("nvmlDeviceGetComputeRunningProcesses_v3");
  if (!find(L, &L.get_graphics_processes,
            {"nvmlDeviceGetGraphicsRunningProcesses_v3", "nvmlDeviceGetGraphicsRunningProcesses_v2"}))
    if (!find(L, &L.get_graphics_processes_v1, {"nvmlDeviceGetGraphicsRunningProcesses"}))
      L.missing.push_back("nvmlDeviceGetGraphicsRunningProcesses_v3");
  optional(L, &L.set_power_limit, {"nvmlDeviceSetPowerManagementLimit"});
  optional(L, &L.set_fan_speed_v2, {"nvmlDeviceSetFanSpeed_v2"});
  optional(L, &L.set_default_fan_speed_v2, {"nvmlDeviceSetDefaultFanSpeed_v2"});

  api::Return r = L.init();
  if (r != api::kSuccess) {
    const std::string why = L.error(r);
    if (r == api::kErrorDriverNotLoaded)
      return format("nvmlInit_v2 failed: %s (the NVIDIA kernel module is not loaded)", why.c_str());
    return format("nvmlInit_v2 failed: %s", why.c_str());
  }
  L.initialised = true;
  if (L.driver_version) {
    char buf[api::kDriverVersionBufferSize] = {};
    if (L.driver_version(buf, sizeof buf) == api::kSuccess) out->driver = buf;
  }
  unsigned int count = 0;
  r = L.get_count(&count);
  if (r != api::kSuccess) return format("nvmlDeviceGetCount_v2 failed: %s", L.error(r).c_str());
  if (count == 0) return "NVML found no NVIDIA GPU on this machine";
  for (unsigned int i = 0; i < count; i++) {
    api::Device d = nullptr;
    r = L.get_handle(i, &d);
    if (r != api::kSuccess)
      return format("GPU %u: nvmlDeviceGetHandleByIndex_v2 failed: %s", i, L.error(r).c_str());
    L.devices.push_back(d);
  }
  return "";
}

// What a failed set call says: the GPU, the change asked for, why, and what to do.
[[noreturn]] void set_failed(const Library& L, int index, const std::string& what, api::Return r) {
  switch (r) {
    case api::kErrorNoPermission:
      fail("nvml: GPU %d: %s: no permission (run as root, or have an administrator set it with nvidia-smi)",
           index, what.c_str());
    case api::kErrorNotSupported:
      fail("nvml: GPU %d: %s: this GPU or driver does not support it", index, what.c_str());
    default:
      fail("nvml: GPU %d: %s: %s", index, what.c_str(), L.error(r).c_str());
  }
}

// Fan indices are checked against nvmlDeviceGetNumFans where it exists.
void check_fan(const Library& L, api::Device d, int index, int fan, const std::string& what) {
  if (fan < 0) fail("nvml: GPU %d: %s: fan %d does not exist", index, what.c_str(), fan);
  unsigned int fans = 0;
  if (L.get_num_fans && L.get_num_fans(d, &fans) == api::kSuccess && static_cast<unsigned>(fan) >= fans)
    fail("nvml: GPU %d: %s: fan %d does not exist (this GPU has %u)", index, what.c_str(), fan, fans);
}

}  // namespace

std::unique_ptr<Nvml> Nvml::open(const std::string& library, NvmlOpenResult* result) {
  NvmlOpenResult r;
  auto lib = std::make_unique<Library>();
  std::string why;
  try {
    why = load(*lib, library, &r);
  } catch (const std::exception& e) {
    why = std::string("NVML could not be opened: ") + e.what();
  }
  r.missing = lib->missing;
  if (!why.empty()) {
    unload(*lib);
    r.available = false;
    r.reason = why;
    r.gpus = 0;
    if (result) *result = r;
    return nullptr;
  }
  r.available = true;
  r.gpus = static_cast<int>(lib->devices.size());
  if (result) *result = r;
  return std::unique_ptr<Nvml>(new Nvml(std::move(lib)));
}

Nvml::Nvml(std::unique_ptr<Library> lib) : lib_(std::move(lib)) {}

Nvml::~Nvml() { unload(*lib_); }

int Nvml::gpus() const { return static_cast<int>(lib_->devices.size()); }

void Nvml::set_power_limit(int index, double watts) {
  api::Device d = lib_->device(index, "set the power limit");
  const std::string what = format("setting the power limit to %g W", watts);
  if (!std::isfinite(watts) || watts <= 0 || watts > 1e6)
    fail("nvml: GPU %d: %s: the limit must be a positive number of watts", index, what.c_str());
  if (!lib_->set_power_limit)
    fail("nvml: GPU %d: %s: this NVML lacks nvmlDeviceSetPowerManagementLimit (update the NVIDIA driver)", index,
         what.c_str());
  const auto mw = static_cast<unsigned int>(std::lround(watts * 1000.0));
  unsigned int lo = 0, hi = 0;
  // Checked here so the message can give the range; the driver checks again.
  if (lib_->get_power_limit_constraints && lib_->get_power_limit_constraints(d, &lo, &hi) == api::kSuccess &&
      hi > 0 && (mw < lo || mw > hi))
    fail("nvml: GPU %d: %s: outside this GPU's range [%g, %g] W", index, what.c_str(), lo / 1000.0, hi / 1000.0);
  const api::Return r = lib_->set_power_limit(d, mw);
  if (r != api::kSuccess) set_failed(*lib_, index, what, r);
}

void Nvml::set_fan_speed(int index, int fan, int pct) {
  api::Device d = lib_->device(index, "set a fan speed");
  const std::string what = format("setting fan %d to %d%%", fan, pct);
  if (pct < 0 || pct > 100) fail("nvml: GPU %d: %s: the speed must be 0 to 100 percent", index, what.c_str());
  if (!lib_->set_fan_speed_v2 || !lib_->set_default_fan_speed_v2)
    fail("nvml: GPU %d: %s: this NVML cannot set and restore fans (nvmlDeviceSetFanSpeed_v2 and "
         "nvmlDeviceSetDefaultFanSpeed_v2 need driver 520 or newer)", index, what.c_str());
  check_fan(*lib_, d, index, fan, what);
  const api::Return r = lib_->set_fan_speed_v2(d, static_cast<unsigned>(fan), static_cast<unsigned>(pct));
  if (r != api::kSuccess) set_failed(*lib_, index, what, r);
}

void Nvml::restore_fan(int index, int fan) {
  api::Device d = lib_->device(index, "restore a fan");
  const std::string what = format("giving fan %d back to the driver", fan);
  if (!lib_->set_default_fan_speed_v2)
    fail("nvml: GPU %d: %s: this NVML lacks nvmlDeviceSetDefaultFanSpeed_v2 (update the NVIDIA driver)", index,
         what.c_str());
  check_fan(*lib_, d, index, fan, what);
  const api::Return r = lib_->set_default_fan_speed_v2(d, static_cast<unsigned>(fan));
  if (r != api::kSuccess) set_failed(*lib_, index, what, r);
}

}  // namespace km
