// GPU telemetry through NVML, loaded at run time: no NVML header or library is
// needed to build, and a machine without the NVIDIA driver gets a reason in
// words instead of an error ("not available: libnvidia-ml.so.1 cannot be
// loaded ...").  Inference never depends on it.
//
// Readings the GPU or driver does not offer are empty (std::nullopt), never a
// made-up zero: a laptop GPU without a fan sensor has no fans, an old driver
// no energy counter. Only five entry points are required (init, shutdown,
// error strings, device count and handles); every other one is optional and
// its absence only empties the readings that need it (see missing()).
//
// Not thread-safe: one caller at a time (the addon holds a lock around it).
// The setters change the card (power limit, fan speed): the caller (the
// thermal policy) is responsible for restoring the defaults. They throw
// km::Error with the reason ("no permission (run as root ...)").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace km {

struct NvmlOpenResult {
  bool available = false;
  std::string reason;      // why not available; "" when it is
  std::string library;     // the file loaded (resolved path), "" when none was
  std::string driver;      // the driver version, "" when unknown
  int gpus = 0;
  std::vector<std::string> missing;  // optional entry points this NVML lacks
};

struct GpuProcess {
  uint32_t pid = 0;
  std::optional<double> used_mb;  // MiB; empty where the driver cannot say
  std::string kind;               // "compute" | "graphics"
};

struct GpuCaps {
  bool read_power = false;       // a power reading came back
  bool set_power_limit = false;  // the GPU has a settable range (rights are known only by trying)
  bool set_fans = false;         // fans exist and this NVML can set and restore them
};

struct GpuSample {
  int index = 0;
  std::string name, uuid;
  std::optional<double> power_w;       // instantaneous where offered, else the averaged reading
  std::optional<double> power_avg_w;   // nvmlDeviceGetPowerUsage (a 1 s average on Ampere and newer)
  std::optional<double> energy_mj;     // total since the driver loaded
  std::optional<double> power_limit_w, power_limit_default_w, power_limit_min_w, power_limit_max_w;
  std::optional<double> power_limit_enforced_w;  // the limit in force (the lowest of all limiters)
  std::optional<double> temp_c, temp_slowdown_c, temp_shutdown_c, temp_max_gpu_c;
  std::vector<double> fans_pct;        // per fan; empty when the GPU has no fan sensor
  std::optional<double> sm_clock_mhz, mem_clock_mhz;
  std::optional<double> mem_used_mb, mem_total_mb;  // MiB
  std::optional<double> util_gpu_pct, util_mem_pct;
  std::vector<std::string> throttle;   // "power-cap", "sw-thermal", "hw-slowdown", ...
  std::vector<GpuProcess> processes;   // every process on the GPU, this one included
  GpuCaps caps;
};

namespace nvml_detail { struct Library; }

class Nvml {
 public:
  // Loads NVML and initialises it. `library` "" = $KEYMATE_NVML_LIB, else
  // libnvidia-ml.so.1. Never throws: returns null with result->reason set
  // when NVML cannot be used.
  static std::unique_ptr<Nvml> open(const std::string& library, NvmlOpenResult* result);
  ~Nvml();  // nvmlShutdown, then the library is closed
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  int gpus() const;
  // One reading of every sensor of GPU `index`. Throws km::Error for a bad index.
  GpuSample sample(int index);
  // Watts, within the GPU's [min, max] range.
  void set_power_limit(int index, double watts);
  // Puts fan `fan` under manual control at `pct` percent: the driver no
  // longer watches the temperature for it until restore_fan.
  void set_fan_speed(int index, int fan, int pct);
  // Gives fan `fan` back to the driver's automatic policy.
  void restore_fan(int index, int fan);

 private:
  explicit Nvml(std::unique_ptr<nvml_detail::Library> lib);
  std::unique_ptr<nvml_detail::Library> lib_;
};

}  // namespace km
