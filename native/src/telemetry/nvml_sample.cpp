// One reading of a GPU's sensors. Each reading is its own NVML call and may
// fail on its own (not supported on this GPU, no permission, a sensor that
// dropped out): that reading stays empty and the rest go on, so a sample is
// never an error once NVML is open. The temperature is read first: the test
// NVML advances its trace on that call, so every other reading of one sample
// comes from the same trace row.
#include <algorithm>
#include <cmath>

#include "keymate/nvml.h"
#include "telemetry/nvml_library.h"

namespace km {

namespace {

using nvml_detail::Library;
namespace api = nvml_api;

constexpr double kMiB = 1024.0 * 1024.0;
// Process lists are re-asked with the size NVML says it needs; a list that
// keeps growing between two calls gets this many tries.
constexpr int kProcessTries = 4;
constexpr unsigned kProcessInitialCapacity = 32;

std::optional<double> uint_reading(api::DeviceGetUintFn fn, api::Device d, double scale) {
  unsigned int v = 0;
  if (fn && fn(d, &v) == api::kSuccess) return v * scale;
  return std::nullopt;
}

std::optional<double> enum_reading(api::DeviceGetEnumUintFn fn, api::Device d, int which) {
  unsigned int v = 0;
  if (fn && fn(d, which, &v) == api::kSuccess) return static_cast<double>(v);
  return std::nullopt;
}

std::optional<double> field_as_double(const api::FieldValue& f) {
  if (f.nvmlReturn != api::kSuccess) return std::nullopt;
  switch (f.valueType) {
    case api::kValueTypeDouble: return f.value.dVal;
    case api::kValueTypeUnsignedInt: return static_cast<double>(f.value.uiVal);
    case api::kValueTypeUnsignedLong: return static_cast<double>(f.value.ulVal);
    case api::kValueTypeUnsignedLongLong: return static_cast<double>(f.value.ullVal);
    case api::kValueTypeSignedLongLong: return static_cast<double>(f.value.sllVal);
    case api::kValueTypeSignedInt: return static_cast<double>(f.value.siVal);
    case api::kValueTypeUnsignedShort: return static_cast<double>(f.value.usVal);
    default: return std::nullopt;
  }
}

// Instantaneous power in watts where the GPU offers the field (most GPUs
// report only an average through nvmlDeviceGetPowerUsage).
std::optional<double> instant_power_w(const Library& L, api::Device d) {
  if (!L.get_field_values) return std::nullopt;
  api::FieldValue f{};
  f.fieldId = api::kFieldPowerInstant;
  f.scopeId = 0;  // the GPU, not the whole module
  if (L.get_field_values(d, 1, &f) != api::kSuccess) return std::nullopt;
  std::optional<double> mw = field_as_double(f);
  if (!mw || !(*mw >= 0)) return std::nullopt;
  return *mw / 1000.0;
}

std::vector<double> fan_speeds(const Library& L, api::Device d) {
  std::vector<double> out;
  unsigned int fans = 0;
  const bool counted = L.get_num_fans && L.get_num_fans(d, &fans) == api::kSuccess;
  if (L.get_fan_speed_v2 && counted) {
    for (unsigned int f = 0; f < fans; f++) {
      unsigned int pct = 0;
      if (L.get_fan_speed_v2(d, f, &pct) == api::kSuccess) out.push_back(pct);
    }
    return out;
  }
  // Without _v2 only fan 0 can be read; a GPU that counts no fans has none.
  if (L.get_fan_speed && (!counted || fans > 0)) {
    unsigned int pct = 0;
    if (L.get_fan_speed(d, &pct) == api::kSuccess) out.push_back(pct);
  }
  return out;
}

std::vector<std::string> throttle_reasons(unsigned long long bits) {
  static const struct { unsigned long long bit; const char* name; } kNames[] = {
      {api::kReasonGpuIdle, "idle"},
      {api::kReasonApplicationsClocksSetting, "app-clocks"},
      {api::kReasonSwPowerCap, "power-cap"},
      {api::kReasonHwSlowdown, "hw-slowdown"},
      {api::kReasonSyncBoost, "sync-boost"},
      {api::kReasonSwThermalSlowdown, "sw-thermal"},
      {api::kReasonHwThermalSlowdown, "hw-thermal"},
      {api::kReasonHwPowerBrakeSlowdown, "power-brake"},
      {api::kReasonDisplayClockSetting, "display-clocks"},
  };
  std::vector<std::string> out;
  for (const auto& n : kNames)
    if (bits & n.bit) out.push_back(n.name);
  return out;
}

std::optional<double> used_mb(unsigned long long bytes) {
  if (bytes == api::kValueNotAvailable) return std::nullopt;
  return static_cast<double>(bytes) / kMiB;
}

// Calls a process query with a buffer that grows to the size NVML asks for.
// Returns false when the query failed (the list then stays as it was).
template <typename Info, typename Fn>
bool query_processes(Fn fn, api::Device d, std::vector<Info>* out) {
  std::vector<Info> buf(kProcessInitialCapacity);
  for (int attempt = 0; attempt < kProcessTries; attempt++) {
    unsigned int n = static_cast<unsigned int>(buf.size());
    const api::Return r = fn(d, &n, buf.data());
    if (r == api::kSuccess) {
      buf.resize(std::min<size_t>(n, buf.size()));
      *out = std::move(buf);
      return true;
    }
    if (r != api::kErrorInsufficientSize) return false;
    buf.assign(static_cast<size_t>(n) + 8, Info{});  // room for processes starting meanwhile
  }
  return false;
}

void add_processes(const Library& L, api::Device d, bool graphics, std::vector<GpuProcess>* out) {
  const char* kind = graphics ? "graphics" : "compute";
  auto add = [&](uint32_t pid, unsigned long long bytes) {
    // A process using the GPU both ways is listed once, under compute.
    for (const GpuProcess& p : *out)
      if (p.pid == pid) return;
    out->push_back({pid, used_mb(bytes), kind});
  };
  api::DeviceGetProcessesFn v3 = graphics ? L.get_graphics_processes : L.get_compute_processes;
  api::DeviceGetProcessesV1Fn v1 = graphics ? L.get_graphics_processes_v1 : L.get_compute_processes_v1;
  if (v3) {
    std::vector<api::ProcessInfo> list;
    if (query_processes(v3, d, &list))
      for (const auto& p : list) add(p.pid, p.usedGpuMemory);
  } else if (v1) {
    std::vector<api::ProcessInfoV1> list;
    if (query_processes(v1, d, &list))
      for (const auto& p : list) add(p.pid, p.usedGpuMemory);
  }
}

}  // namespace

GpuSample Nvml::sample(int index) {
  const Library& L = *lib_;
  api::Device d = L.device(index, "sample");
  GpuSample s;
  s.index = index;

  s.temp_c = enum_reading(L.get_temperature, d, api::kTemperatureGpu);
  s.temp_slowdown_c = enum_reading(L.get_temperature_threshold, d, api::kThresholdSlowdown);
  s.temp_shutdown_c = enum_reading(L.get_temperature_threshold, d, api::kThresholdShutdown);
  s.temp_max_gpu_c = enum_reading(L.get_temperature_threshold, d, api::kThresholdGpuMax);

  char text[api::kDeviceNameBufferSize] = {};
  if (L.get_name && L.get_name(d, text, sizeof text) == api::kSuccess) s.name = text;
  char uuid[api::kDeviceUuidBufferSize] = {};
  if (L.get_uuid && L.get_uuid(d, uuid, sizeof uuid) == api::kSuccess) s.uuid = uuid;

  s.power_avg_w = uint_reading(L.get_power_usage, d, 1e-3);
  std::optional<double> instant = instant_power_w(L, d);
  s.power_w = instant ? instant : s.power_avg_w;
  unsigned long long energy = 0;
  if (L.get_total_energy && L.get_total_energy(d, &energy) == api::kSuccess) s.energy_mj = static_cast<double>(energy);

  s.power_limit_w = uint_reading(L.get_power_limit, d, 1e-3);
  s.power_limit_default_w = uint_reading(L.get_power_limit_default, d, 1e-3);
  s.power_limit_enforced_w = uint_reading(L.get_enforced_power_limit, d, 1e-3);
  unsigned int lo = 0, hi = 0;
  if (L.get_power_limit_constraints && L.get_power_limit_constraints(d, &lo, &hi) == api::kSuccess && hi > 0) {
    s.power_limit_min_w = lo / 1000.0;
    s.power_limit_max_w = hi / 1000.0;
  }

  s.fans_pct = fan_speeds(L, d);
  s.sm_clock_mhz = enum_reading(L.get_clock_info, d, api::kClockSm);
  s.mem_clock_mhz = enum_reading(L.get_clock_info, d, api::kClockMem);

  api::Memory mem{};
  if (L.get_memory_info && L.get_memory_info(d, &mem) == api::kSuccess) {
    s.mem_used_mb = static_cast<double>(mem.used) / kMiB;
    s.mem_total_mb = static_cast<double>(mem.total) / kMiB;
  }
  api::Utilization util{};
  if (L.get_utilization && L.get_utilization(d, &util) == api::kSuccess) {
    s.util_gpu_pct = util.gpu;
    s.util_mem_pct = util.memory;
  }
  unsigned long long reasons = 0;
  if (L.get_clocks_event_reasons && L.get_clocks_event_reasons(d, &reasons) == api::kSuccess)
    s.throttle = throttle_reasons(reasons);

  add_processes(L, d, false, &s.processes);
  add_processes(L, d, true, &s.processes);

  s.caps.read_power = s.power_w.has_value();
  s.caps.set_power_limit = L.set_power_limit != nullptr && s.power_limit_min_w && s.power_limit_max_w &&
                           *s.power_limit_max_w > *s.power_limit_min_w;
  unsigned int fans = 0;
  s.caps.set_fans = L.set_fan_speed_v2 && L.set_default_fan_speed_v2 && L.get_num_fans &&
                    L.get_num_fans(d, &fans) == api::kSuccess && fans > 0;
  return s;
}

}  // namespace km
