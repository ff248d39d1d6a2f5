// The host's clock as this window sees it: the offset (host minus page, in
// ms) that turns a moment on the page's clock (common/clock.ts) into one on
// the host's, so the window can time what it shows against the host's stamps
// (the display stage of a press, press-split.ts). Measured with the `clock`
// request: of several round trips the one with the least delay wins, and half
// its width bounds the error. Sampled when the window connects and again
// after each reply, keeping the best of the recent ones (a sample ages out, so
// a clock that drifts is followed).
import type { StateCreator } from 'zustand/vanilla';

import { preciseNowMs } from '../../common/clock';
import type { HostApi } from '../../common/contract';
import type { UiState } from './store';

export interface HostClock {
  /** Host clock minus page clock, ms. */
  offsetMs: number;
  /** Half the round trip it came from: the offset is right to within this. */
  errorMs: number;
  /** Page clock when it was measured. */
  atMs: number;
}

/** A sample older than this gives way to a newer one even when the newer one's round trip was slower. */
export const CLOCK_SAMPLE_LIFE_MS = 5 * 60_000;

export interface ClockSlice {
  hostClock: HostClock | null;
  /** Measures `rounds` round trips and keeps the best sample; a failure leaves the last one. */
  syncHostClock: (rounds: number) => Promise<void>;
}

/** The better of two samples: the narrower one, unless it has aged out. */
export function betterClock(a: HostClock | null, b: HostClock): HostClock {
  if (a === null || b.atMs - a.atMs > CLOCK_SAMPLE_LIFE_MS) return b;
  return b.errorMs <= a.errorMs ? b : a;
}

export const createClockSlice =
  (host: HostApi): StateCreator<UiState, [], [], ClockSlice> =>
  (set, get) => ({
    hostClock: null,
    syncHostClock: async (rounds) => {
      let best: HostClock | null = null;
      try {
        for (let i = 0; i < rounds; i++) {
          const t0 = preciseNowMs();
          const { t_ms } = await host.request('clock', {});
          const t1 = preciseNowMs();
          best = betterClock(best, { offsetMs: t_ms - (t0 + t1) / 2, errorMs: (t1 - t0) / 2, atMs: t1 });
        }
      } catch {
        // An older host, or a lost connection: the split says the display time is unknown.
      }
      if (best !== null) set({ hostClock: betterClock(get().hostClock, best) });
    },
  });
