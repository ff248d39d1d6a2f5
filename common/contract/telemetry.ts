// GPU telemetry samples. A machine without NVML (no NVIDIA driver, or the
// telemetry issue not landed yet) sends samples that say so, with the reason,
// instead of zeros a chart would draw as real. A reading the GPU does not
// give (a laptop GPU without a fan sensor) is null.
//
// The fields after mem_used_mb came with the thermal policy (fans, limits, throttle
// reasons, utilisation, the thermal policy's status). They are optional so a
// reader of the first shape (a UI fixture, a recorded sample) stays valid; the
// host always sends them.
//
// `cpu` holds the CPU package's own readings (sysfs thermal zones and RAPL),
// sent when there is no NVML or the model runs on the CPU backend: then the
// CPU is the part doing the work and heating up. It sits beside the GPU's
// fields, never in them, so a chart of GPU power cannot draw a CPU's watts;
// `available` keeps meaning "GPU readings available".
import { z } from 'zod';

import { PolicyStatus } from './thermal';

const reading = z.number().nullable();

export const CpuReadings = z.strictObject({
  /** Package temperature, °C. */
  temp_c: reading,
  /** The sensor read ("thermal_zone2 (x86_pkg_temp)"); null when none was found. */
  temp_source: z.string().nullable(),
  /** Package power (RAPL, every package summed), averaged since the previous sample. */
  power_w: reading,
  /** The RAPL domains summed ("intel-rapl:0 (package-0)"); [] without RAPL. */
  power_domains: z.array(z.string()),
  /** Why temp_c or power_w is null, in words ("...energy_uj is not readable: permission denied (...)"); "" when neither is. */
  reason: z.string(),
});
export type CpuReadings = z.infer<typeof CpuReadings>;

export const TelemetryAvailable = z.strictObject({
  available: z.literal(true),
  /** Unix epoch ms. */
  t_ms: z.number(),
  gpu: z.string(),
  power_w: reading,
  power_limit_w: reading,
  temp_c: reading,
  /** The first fan, or null without a fan sensor (fans_pct has them all). */
  fan_pct: reading,
  sm_clock_mhz: reading,
  mem_clock_mhz: reading,
  mem_used_mb: reading,
  /** Every fan's speed; [] when the GPU reports no fan. */
  fans_pct: z.array(z.number()).optional(),
  /** The driver's default limit and the range it accepts. */
  power_limit_default_w: reading.optional(),
  power_limit_min_w: reading.optional(),
  power_limit_max_w: reading.optional(),
  /** Where the GPU starts slowing itself down. */
  temp_slowdown_c: reading.optional(),
  util_gpu_pct: reading.optional(),
  mem_total_mb: reading.optional(),
  /** Why the clocks are held back right now ("power-cap", "sw-thermal", ...); [] = not held back. */
  throttle: z.array(z.string()).optional(),
  /** Compute processes on the GPU other than Keymate (a game). */
  other_processes: z.number().int().nonnegative().optional(),
  policy: PolicyStatus.optional(),
  /** The CPU package, when the model runs on the CPU backend. */
  cpu: CpuReadings.optional(),
});

export const TelemetryUnavailable = z.strictObject({
  available: z.literal(false),
  t_ms: z.number(),
  /** Why, in words ("NVML not found: no NVIDIA driver"). */
  reason: z.string(),
  /** Without readings the policy can only say why it is idle. */
  policy: PolicyStatus.optional(),
  /** The CPU package's readings, which do not need NVML. */
  cpu: CpuReadings.optional(),
});

export const TelemetrySample = z.discriminatedUnion('available', [TelemetryAvailable, TelemetryUnavailable]);
export type TelemetrySample = z.infer<typeof TelemetrySample>;
