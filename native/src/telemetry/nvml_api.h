// The slice of NVML's C interface that Keymate uses, declared by us so that
// nothing NVIDIA ships is needed at build time: libnvidia-ml.so.1 is opened
// with dlopen at run time (nvml.cpp) and each entry point found with dlsym.
//
// Facts only, from NVML's public API reference (docs.nvidia.com/deploy/
// nvml-api, the nvml.h that ships with the driver): return codes, enum values,
// bit masks, struct layouts and units. Every layout here is an ABI the driver
// library writes into, so each carries a size assert.
#pragma once

#include <cstddef>
#include <cstdint>

namespace km::nvml_api {

// nvmlReturn_t (an int-sized C enum). Only the codes we act on are named.
using Return = int;
constexpr Return kSuccess = 0;
constexpr Return kErrorUninitialized = 1;
constexpr Return kErrorInvalidArgument = 2;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorNoPermission = 4;
constexpr Return kErrorNotFound = 6;
constexpr Return kErrorInsufficientSize = 7;
constexpr Return kErrorDriverNotLoaded = 9;
constexpr Return kErrorFunctionNotFound = 13;
constexpr Return kErrorGpuIsLost = 15;
constexpr Return kErrorUnknown = 999;

// nvmlDevice_t: an opaque handle (struct nvmlDevice_st*).
using Device = struct nvmlDevice_st*;

// nvmlTemperatureSensors_t
constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
// nvmlTemperatureThresholds_t
constexpr int kThresholdShutdown = 0;  // NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: the GPU shuts down
constexpr int kThresholdSlowdown = 1;  // NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: hardware slowdown starts
constexpr int kThresholdGpuMax = 3;    // NVML_TEMPERATURE_THRESHOLD_GPU_MAX: may be throttled below base clock
// nvmlClockType_t
constexpr int kClockSm = 1;   // NVML_CLOCK_SM
constexpr int kClockMem = 2;  // NVML_CLOCK_MEM

// Buffer sizes the API guarantees to be large enough (the _V2 name size
// superseded 64 bytes; the UUID needs 80, 96 with the _V2 constant).
constexpr unsigned kDeviceNameBufferSize = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kDeviceUuidBufferSize = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kDriverVersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

// usedGpuMemory when the driver cannot say (always under Windows WDDM).
constexpr unsigned long long kValueNotAvailable = ~0ull;  // NVML_VALUE_NOT_AVAILABLE

// nvmlMemory_t (v1), bytes.
struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
static_assert(sizeof(Memory) == 24, "nvmlMemory_t is three 64-bit counters");

// nvmlUtilization_t, percent over the driver's last sample period.
struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};
static_assert(sizeof(Utilization) == 8, "nvmlUtilization_t is two uints");

// nvmlProcessInfo_t as the _v3 (and _v2) process queries write it.
struct ProcessInfo {
  unsigned int pid;
  unsigned long long usedGpuMemory;  // bytes, or kValueNotAvailable
  unsigned int gpuInstanceId;        // MIG only; 0xFFFFFFFF otherwise
  unsigned int computeInstanceId;
};
static_assert(sizeof(ProcessInfo) == 24 && offsetof(ProcessInfo, usedGpuMemory) == 8,
              "nvmlProcessInfo_t: pid, 4 bytes padding, 64-bit memory, two uints");

// nvmlProcessInfo_v1_t, written by the unversioned (oldest) process queries.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
static_assert(sizeof(ProcessInfoV1) == 16, "nvmlProcessInfo_v1_t: pid, padding, 64-bit memory");

// nvmlValueType_t: which member of nvmlValue_t a field value fills.
constexpr int kValueTypeDouble = 0;
constexpr int kValueTypeUnsignedInt = 1;
constexpr int kValueTypeUnsignedLong = 2;
constexpr int kValueTypeUnsignedLongLong = 3;
constexpr int kValueTypeSignedLongLong = 4;
constexpr int kValueTypeSignedInt = 5;
constexpr int kValueTypeUnsignedShort = 6;

union Value {
  double dVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  long long sllVal;
  int siVal;
  unsigned short usVal;
};
static_assert(sizeof(Value) == 8, "nvmlValue_t is an 8-byte union");

// nvmlFieldValue_t, for nvmlDeviceGetFieldValues.
struct FieldValue {
  unsigned int fieldId;    // an NVML_FI_* id, set by the caller
  unsigned int scopeId;    // 0 = the GPU itself for power fields (NVML_POWER_SCOPE_GPU)
  long long timestamp;     // microseconds since 1970
  long long latencyUsec;
  int valueType;           // nvmlValueType_t
  Return nvmlReturn;       // per field: value is meaningful only on kSuccess
  Value value;
};
static_assert(sizeof(FieldValue) == 40 && offsetof(FieldValue, value) == 32,
              "nvmlFieldValue_t: two uints, two int64, two enums, the value union");

// Field ids (NVML_FI_DEV_*). Power fields are in milliwatts.
constexpr unsigned kFieldPowerAverage = 185;  // 1-second average (Ampere and newer, not GA100)
constexpr unsigned kFieldPowerInstant = 186;  // current power

// Clocks event (formerly "throttle") reason bits, nvmlClocksEventReason*.
constexpr unsigned long long kReasonGpuIdle = 0x1ull;
constexpr unsigned long long kReasonApplicationsClocksSetting = 0x2ull;
constexpr unsigned long long kReasonSwPowerCap = 0x4ull;
constexpr unsigned long long kReasonHwSlowdown = 0x8ull;
constexpr unsigned long long kReasonSyncBoost = 0x10ull;
constexpr unsigned long long kReasonSwThermalSlowdown = 0x20ull;
constexpr unsigned long long kReasonHwThermalSlowdown = 0x40ull;
constexpr unsigned long long kReasonHwPowerBrakeSlowdown = 0x80ull;
constexpr unsigned long long kReasonDisplayClockSetting = 0x100ull;

// Entry points (all C calling convention, all return nvmlReturn_t except
// nvmlErrorString). Units: power mW, energy mJ, temperature degrees C,
// fan percent of the maximum speed, clocks MHz.
extern "C" {
using InitFn = Return (*)();                                  // nvmlInit_v2
using ShutdownFn = Return (*)();                              // nvmlShutdown
using ErrorStringFn = const char* (*)(Return);                // nvmlErrorString
using SystemGetDriverVersionFn = Return (*)(char*, unsigned int);
using DeviceGetCountFn = Return (*)(unsigned int*);           // nvmlDeviceGetCount_v2
using DeviceGetHandleByIndexFn = Return (*)(unsigned int, Device*);  // _v2
using DeviceGetStringFn = Return (*)(Device, char*, unsigned int);   // GetName, GetUUID
using DeviceGetUintFn = Return (*)(Device, unsigned int*);    // GetPowerUsage, limits, NumFans, FanSpeed (v1)
using DeviceGetUllFn = Return (*)(Device, unsigned long long*);  // energy, clocks event reasons
using DeviceGetLimitConstraintsFn = Return (*)(Device, unsigned int*, unsigned int*);
using DeviceGetFieldValuesFn = Return (*)(Device, int, FieldValue*);
using DeviceGetEnumUintFn = Return (*)(Device, int, unsigned int*);  // Temperature, TemperatureThreshold, ClockInfo
using DeviceGetFanSpeedV2Fn = Return (*)(Device, unsigned int, unsigned int*);
using DeviceGetMemoryInfoFn = Return (*)(Device, Memory*);
using DeviceGetUtilizationRatesFn = Return (*)(Device, Utilization*);
using DeviceGetProcessesFn = Return (*)(Device, unsigned int*, ProcessInfo*);  // Compute/GraphicsRunningProcesses_v3, _v2
using DeviceGetProcessesV1Fn = Return (*)(Device, unsigned int*, ProcessInfoV1*);  // the unversioned names
using DeviceSetUintFn = Return (*)(Device, unsigned int);     // SetPowerManagementLimit (mW), SetDefaultFanSpeed_v2 (fan)
using DeviceSetFanSpeedV2Fn = Return (*)(Device, unsigned int, unsigned int);
}

}  // namespace km::nvml_api
