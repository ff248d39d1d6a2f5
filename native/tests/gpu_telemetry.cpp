// km::Nvml against the machine's real NVML (label gpu: skipped, exit 77, where
// there is no NVIDIA driver). READ ONLY: nothing here sets a power limit, a
// clock or a fan of a real card. Checks that readings are plausible and
// self-consistent (limits inside their range, the energy counter agreeing
// with the power readings over a second) and prints them for the record.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

#include "keymate/nvml.h"
#include "test.h"

namespace {

std::unique_ptr<km::Nvml> open_real() {
  km::NvmlOpenResult r;
  // The driver's library, or $KEYMATE_NVML_LIB (a dry run against the test NVML).
  std::unique_ptr<km::Nvml> n = km::Nvml::open("", &r);
  if (!n) kt::skip("NVML is not available: " + r.reason);
  std::fprintf(stderr, "  nvml: %s, driver %s, %d GPU(s)\n", r.library.c_str(), r.driver.c_str(), r.gpus);
  for (const auto& m : r.missing) std::fprintf(stderr, "  nvml: this library lacks %s\n", m.c_str());
  return n;
}

double or_nan(const std::optional<double>& v) { return v ? *v : std::nan(""); }

}  // namespace

TEST(gpu_telemetry, real_readings_are_plausible) {
  auto n = open_real();
  for (int i = 0; i < n->gpus(); i++) {
    const km::GpuSample s = n->sample(i);
    std::fprintf(stderr,
                 "  gpu %d %s: %.1f W (avg %.1f), limit %.0f W [%.0f, %.0f] default %.0f enforced %.0f, %.0f C "
                 "(slowdown %.0f, shutdown %.0f, max %.0f), %zu fans, sm %.0f MHz, mem %.0f MHz, %.0f/%.0f MiB, "
                 "util %.0f%%, energy %.0f mJ, %zu processes, throttle:",
                 i, s.name.c_str(), or_nan(s.power_w), or_nan(s.power_avg_w), or_nan(s.power_limit_w),
                 or_nan(s.power_limit_min_w), or_nan(s.power_limit_max_w), or_nan(s.power_limit_default_w),
                 or_nan(s.power_limit_enforced_w), or_nan(s.temp_c), or_nan(s.temp_slowdown_c),
                 or_nan(s.temp_shutdown_c), or_nan(s.temp_max_gpu_c), s.fans_pct.size(), or_nan(s.sm_clock_mhz),
                 or_nan(s.mem_clock_mhz), or_nan(s.mem_used_mb), or_nan(s.mem_total_mb), or_nan(s.util_gpu_pct),
                 or_nan(s.energy_mj), s.processes.size());
    for (const auto& t : s.throttle) std::fprintf(stderr, " %s", t.c_str());
    std::fprintf(stderr, "\n");

    CHECK(!s.name.empty());
    CHECK(s.uuid.rfind("GPU-", 0) == 0 || s.uuid.rfind("MIG-", 0) == 0);
    REQUIRE(s.temp_c.has_value());
    CHECK(*s.temp_c > 5 && *s.temp_c < 110);
    REQUIRE(s.mem_total_mb.has_value() && s.mem_used_mb.has_value());
    CHECK(*s.mem_total_mb > 1024);
    CHECK(*s.mem_used_mb <= *s.mem_total_mb);
    if (s.power_w) CHECK(*s.power_w > 0 && *s.power_w < 2000);
    CHECK_EQ(s.caps.read_power, s.power_w.has_value());
    if (s.power_limit_w && s.power_limit_min_w && s.power_limit_max_w) {
      CHECK(*s.power_limit_min_w <= *s.power_limit_w && *s.power_limit_w <= *s.power_limit_max_w);
      if (s.power_limit_default_w)
        CHECK(*s.power_limit_min_w <= *s.power_limit_default_w && *s.power_limit_default_w <= *s.power_limit_max_w);
    }
    if (s.temp_slowdown_c && s.temp_shutdown_c) CHECK(*s.temp_slowdown_c <= *s.temp_shutdown_c);
    for (double f : s.fans_pct) CHECK(f >= 0 && f <= 100);
    if (s.util_gpu_pct) CHECK(*s.util_gpu_pct >= 0 && *s.util_gpu_pct <= 100);
  }
}

TEST(gpu_telemetry, the_energy_counter_agrees_with_the_power_readings) {
  auto n = open_real();
  const km::GpuSample first = n->sample(0);
  if (!first.energy_mj || !first.power_w) kt::skip("GPU 0 offers no energy counter or no power reading");
  // Power is read every 50 ms for a second and averaged; the counter's change
  // over the same second must give about the same watts.
  double sum_w = 0;
  int count = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const double e0 = *first.energy_mj;
  for (int k = 0; k < 20; k++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const km::GpuSample s = n->sample(0);
    if (s.power_w) {
      sum_w += *s.power_w;
      count++;
    }
  }
  const km::GpuSample last = n->sample(0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(last.energy_mj.has_value() && count > 0);
  const double counter_w = (*last.energy_mj - e0) / 1000.0 / secs;
  const double mean_w = sum_w / count;
  std::fprintf(stderr, "  gpu 0: %.3f J in %.3f s = %.1f W by the counter; power readings average %.1f W\n",
               (*last.energy_mj - e0) / 1000.0, secs, counter_w, mean_w);
  // Generous: the counter and the readings are sampled at different instants.
  CHECK(std::fabs(counter_w - mean_w) <= 0.25 * mean_w + 15);
}
