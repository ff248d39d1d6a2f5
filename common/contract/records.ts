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
