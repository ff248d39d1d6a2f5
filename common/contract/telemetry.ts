// GPU telemetry samples. A machine without NVML (no NVIDIA driver, or the
// telemetry issue not landed yet) sends samples that say so, with the reason,
// instead of zeros a chart would draw as real. A reading the GPU does not
// give (a laptop GPU without a fan sensor) is null.
import { z } from 'zod';

const reading = z.number().nullable();

export const TelemetryAvailable = z.strictObject({
  available: z.literal(true),
  /** Unix epoch ms. */
  t_ms: z.number(),
  gpu: z.string(),
  power_w: reading,
  power_limit_w: reading,
  temp_c: reading,
  fan_pct: reading,
  sm_clock_mhz: reading,
  mem_clock_mhz: reading,
  mem_used_mb: reading,
});

export const TelemetryUnavailable = z.strictObject({
  available: z.literal(false),
  t_ms: z.number(),
  /** Why, in words ("NVML not found: no NVIDIA driver"). */
  reason: z.string(),
});

export const TelemetrySample = z.discriminatedUnion('available', [TelemetryAvailable, TelemetryUnavailable]);
export type TelemetrySample = z.infer<typeof TelemetrySample>;
