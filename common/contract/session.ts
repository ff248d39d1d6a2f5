// The key-press session as the UI sees it: the AI key, the session's state,
// and the reply stream (start, tokens, done or error). One press has one id
// from the moment the key goes down to the last token; every reply event
// carries it, so a UI that joins late or a stale token from a cancelled press
// is never mistaken for the current reply.
//
// A reasoning model's reply comes in two parts (common/thinking.ts): its
// thinking, shown apart, and its answer, the reply proper. The events carry
// them apart, without the <think> tags; the conversation keeps the reply as
// the model wrote it (Turn.text), tags and all, for its template to read.
import { z } from 'zod';

/** The session's states; the keyboard's STATUS LED shows the same names. */
export const SESSION_STATES = ['idle', 'listening', 'thinking', 'replying', 'error'] as const;
export const SessionState = z.enum(SESSION_STATES);
export type SessionState = z.infer<typeof SessionState>;

/** Where a press came from: the keyboard's AI key, its GPIO line, the on-screen key, the global shortcut, or a generate request. */
export const PRESS_SOURCES = ['keyboard', 'gpio', 'screen', 'shortcut', 'request'] as const;
export const PressSource = z.enum(PRESS_SOURCES);
export type PressSource = z.infer<typeof PressSource>;

export const PressId = z.string().min(1).max(64);

export const SessionStatus = z.strictObject({
  state: SessionState,
  /** The press this state belongs to; null when idle with nothing behind it. */
  press_id: PressId.nullable(),
  /** Text typed on the keyboard while the key is held (listening). */
  typed: z.string(),
  /** error: what went wrong, in words a user can act on. */
  message: z.string().nullable(),
});
export type SessionStatus = z.infer<typeof SessionStatus>;

export const KeyState = z.strictObject({
  down: z.boolean(),
  source: PressSource.nullable(),
  /** When the host saw the edge: Unix epoch ms. */
  t_ms: z.number(),
});
export type KeyState = z.infer<typeof KeyState>;

/** Stage names of the breakdown, in the order a forward pass runs them. */
export const STAGES = ['embed', 'qkv', 'attention', 'ffn', 'logits', 'sampling', 'other'] as const;
export const StageTimes = z.record(z.string(), z.number().nonnegative());
export type StageTimes = z.infer<typeof StageTimes>;

export const STOP_REASONS = ['eos', 'length', 'cancelled', 'context'] as const;
export const StopReason = z.enum(STOP_REASONS);
export type StopReason = z.infer<typeof StopReason>;

/** What one generation cost; the engine measures, the host adds its own part. */
export const ReplyTimings = z.strictObject({
  /** Engine: request start to the first generated token. */
  ttft_ms: z.number().nonnegative(),
  /** Engine: prompt prefill time. */
  prefill_ms: z.number().nonnegative(),
  decode_tok_s: z.number().nonnegative(),
  /** Tokens in the whole prompt (persona + template + text)... */
  prompt_tokens: z.number().int().nonnegative(),
  /** ...of which this many came from the prefix cache (not prefilled again). */
  cached_tokens: z.number().int().nonnegative(),
  /** Generated tokens. */
  tokens: z.number().int().nonnegative(),
  /** Host: trigger (key up) to the engine call: template, tokenization, queueing. */
  host_ms: z.number().nonnegative(),
  /** Keyboard edge to host receipt, when the keyboard's clock is synchronised. */
  link_ms: z.number().nonnegative().nullable(),
  /** Trigger to the first token on the host: what the user waits for. */
  e2e_ms: z.number().nonnegative(),
  /**
   * When the first token reached the host, on the host's clock (common/clock.ts);
   * the UI times its display of the reply from here. Null when no token came;
   * absent in records written before it was measured.
   */
  first_at_ms: z.number().nullable().optional(),
  /** Per decoded token, when the engine runs in profiling mode; null otherwise. */
  stages_ms: StageTimes.nullable(),
});
export type ReplyTimings = z.infer<typeof ReplyTimings>;

export const ReplyStart = z.strictObject({
  press_id: PressId,
  source: PressSource,
  /** The user's text (typed, or the default prompt), without persona or template. */
  prompt: z.string(),
  t_ms: z.number(),
});
export type ReplyStart = z.infer<typeof ReplyStart>;

/**
 * One token, or several that came within one display frame of each other
 * (the host hands those over together: electron/host/session/token-batcher.ts).
 */
export const ReplyToken = z.strictObject({
  press_id: PressId,
  /** 0-based among generated tokens: the first of this event's tokens. */
  index: z.number().int().nonnegative(),
  /** How many tokens this event carries (index .. index + count - 1); 1 when absent. */
  count: z.number().int().min(1).optional(),
  /** Their answer text, complete UTF-8, in order (may be empty while a character is split, or while the model thinks). */
  text: z.string(),
  /** Their thinking text, when they are a reasoning model's thinking; absent when none. */
  thinking: z.string().optional(),
  /** Milliseconds since the engine call started, when the last of them was ready. */
  t_ms: z.number().nonnegative(),
});
export type ReplyToken = z.infer<typeof ReplyToken>;

export const ReplyDone = z.strictObject({
  press_id: PressId,
  /** The answer, all of it. */
  completion: z.string(),
  /** The thinking before it ('' when the model did not think). */
  thinking: z.string(),
  stop: StopReason,
  /** Null when the reply was cancelled before the engine produced a first token (nothing was measured). */
  timings: ReplyTimings.nullable(),
});
export type ReplyDone = z.infer<typeof ReplyDone>;

export const ReplyError = z.strictObject({
  press_id: PressId,
  message: z.string(),
});
export type ReplyError = z.infer<typeof ReplyError>;

/** The reply in progress or the last one, for a UI that (re)connects mid-stream. */
export const ReplySnapshot = z.strictObject({
  press_id: PressId,
  source: PressSource,
  prompt: z.string(),
  /** The answer so far. */
  text: z.string(),
  /** The thinking so far. */
  thinking: z.string(),
  done: z.boolean(),
  stop: StopReason.nullable(),
  timings: ReplyTimings.nullable(),
  error: z.string().nullable(),
});
export type ReplySnapshot = z.infer<typeof ReplySnapshot>;
