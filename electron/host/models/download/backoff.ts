// When to try again after a failed attempt: exponential backoff with "equal
// jitter" (half the delay fixed, half random), so many clients that failed
// together do not return together, and no retry comes sooner than half its
// step. Sleep is injected: tests run every retry path with no real waiting.
import { backoffMs } from '../../../../common/units';

export interface RetryPolicy {
  /** Attempts in a row without progress before the download fails. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 1000, capMs: 30_000 };

/** The wait before retry number `retry` (1 = the first retry). */
export function jitteredBackoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const step = backoffMs(retry, policy.baseMs, policy.capMs);
  return Math.round(step / 2 + random() * (step / 2));
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
