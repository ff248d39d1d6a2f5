// What the host remembers: one performance record per press, one history
// entry per reply, both newest first when listed.
import { z } from 'zod';

import { PressId, PressSource, ReplyTimings, StopReason } from './session';

export const PerformanceRecord = z.strictObject({
  press_id: PressId,
  /** When the press was triggered: Unix epoch ms. */
  t_ms: z.number(),
  source: PressSource,
  model: z.string(),
  backend: z.string(),
  stop: StopReason,
  timings: ReplyTimings,
  /**
   * What the reply cost the part it ran on: joules over the reply's
   * time span (the GPU driver's or RAPL's energy counter where there is one,
   * else power integrated over the samples) and per generated token. Null
   * without power readings; absent in records written before energy was measured.
   */
  energy_j: z.number().nonnegative().nullable().optional(),
  j_per_token: z.number().nonnegative().nullable().optional(),
  /** The part measured, the one the reply ran on: the GPU (NVML) or the CPU package (RAPL). */
  energy_device: z.enum(['gpu', 'cpu']).optional(),
});
export type PerformanceRecord = z.infer<typeof PerformanceRecord>;

export const HistoryEntry = z.strictObject({
  press_id: PressId,
  t_ms: z.number(),
  source: PressSource,
  /** The user's text, without persona or template. */
  prompt: z.string(),
  completion: z.string(),
  stop: StopReason,
  model: z.string(),
  ttft_ms: z.number().nonnegative(),
  tokens: z.number().int().nonnegative(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;
