// The loaded NVML: the dlopen handle, one pointer per entry point (null when
// the library lacks an optional one) and the device handles, shared by
// nvml.cpp (loading, setters) and nvml_sample.cpp (readings).
#pragma once

#include <string>
#include <vector>

#include "telemetry/nvml_api.h"

namespace km::nvml_detail {

struct Library {
  void* handle = nullptr;  // from dlopen
  bool initialised = false;

  // Required: without these NVML is not usable at all.
  nvml_api::InitFn init = nullptr;
  nvml_api::ShutdownFn shutdown = nullptr;
  nvml_api::ErrorStringFn error_string = nullptr;
  nvml_api::DeviceGetCountFn get_count = nullptr;
  nvml_api::DeviceGetHandleByIndexFn get_handle = nullptr;

  // Optional: each missing one empties the readings or setters that need it.
  nvml_api::SystemGetDriverVersionFn driver_version = nullptr;
  nvml_api::DeviceGetStringFn get_name = nullptr;
  nvml_api::DeviceGetStringFn get_uuid = nullptr;
  nvml_api::DeviceGetUintFn get_power_usage = nullptr;
  nvml_api::DeviceGetFieldValuesFn get_field_values = nullptr;
  nvml_api::DeviceGetUllFn get_total_energy = nullptr;
  nvml_api::DeviceGetUintFn get_power_limit = nullptr;
  nvml_api::DeviceGetUintFn get_power_limit_default = nullptr;
  nvml_api::DeviceGetLimitConstraintsFn get_power_limit_constraints = nullptr;
  nvml_api::DeviceGetUintFn get_enforced_power_limit = nullptr;
  nvml_api::DeviceGetEnumUintFn get_temperature = nullptr;
  nvml_api::DeviceGetEnumUintFn get_temperature_threshold = nullptr;
  nvml_api::DeviceGetUintFn get_num_fans = nullptr;
  nvml_api::DeviceGetFanSpeedV2Fn get_fan_speed_v2 = nullptr;
  nvml_api::DeviceGetUintFn get_fan_speed = nullptr;  // fan 0 only: the fallback
  nvml_api::DeviceGetEnumUintFn get_clock_info = nullptr;
  nvml_api::DeviceGetMemoryInfoFn get_memory_info = nullptr;
  nvml_api::DeviceGetUtilizationRatesFn get_utilization = nullptr;
  nvml_api::DeviceGetUllFn get_clocks_event_reasons = nullptr;  // or the older ...ThrottleReasons
  nvml_api::DeviceGetProcessesFn get_compute_processes = nullptr;   // _v3, else _v2
  nvml_api::DeviceGetProcessesV1Fn get_compute_processes_v1 = nullptr;
  nvml_api::DeviceGetProcessesFn get_graphics_processes = nullptr;
  nvml_api::DeviceGetProcessesV1Fn get_graphics_processes_v1 = nullptr;
  nvml_api::DeviceSetUintFn set_power_limit = nullptr;
  nvml_api::DeviceSetFanSpeedV2Fn set_fan_speed_v2 = nullptr;
  nvml_api::DeviceSetUintFn set_default_fan_speed_v2 = nullptr;

  std::vector<nvml_api::Device> devices;  // by NVML index
  std::vector<std::string> missing;       // optional entry points not found

  // "Insufficient Permissions" etc. for a return code, from the library itself.
  std::string error(nvml_api::Return r) const;
  // The device of `index`, or km::Error naming the valid range.
  nvml_api::Device device(int index, const char* what) const;
};

}  // namespace km::nvml_detail
