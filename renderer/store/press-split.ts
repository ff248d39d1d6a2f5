// A press's time, split where it changes hands, for the Performance view:
//   keyboard  key edge on the keyboard -> host receipt (the link; null for the on-screen key)
//   host      receipt -> engine call (template, queue)
//   engine    engine call -> first token on the host's JS thread (the engine's own TTFT,
//             shown beside it, plus the hand-over from the engine thread)
//   display   first token on the host -> first text on this window's screen (transport,
//             render), measured against the host's clock (clock-slice.ts); null when this
//             window did not show the reply or has no clock sample yet
// The parts are consecutive intervals of one timeline, so they add up to the total.
import type { HostClock } from './clock-slice';
import type { Reply } from './reply-slice';

export interface PressSplit {
  keyboard: number | null;
  host: number;
  engine: number;
  ttft: number;
  display: number | null;
  /** Key edge (or, without one, host receipt) to the first text on screen; null without display. */
  total: number | null;
  /** The display part is right to within this (half the clock sample's round trip). */
  errorMs: number | null;
}

export function pressSplit(r: Reply | null, clock: HostClock | null): PressSplit | null {
  const t = r?.timings ?? null;
  if (r === null || t === null) return null;
  const first = t.first_at_ms ?? null;
  const display = r.shownMs !== null && clock !== null && first !== null ? r.shownMs + clock.offsetMs - first : null;
  const engine = t.e2e_ms - t.host_ms;
  return {
    keyboard: t.link_ms,
    host: t.host_ms,
    engine,
    ttft: t.ttft_ms,
    display,
    total: display === null ? null : (t.link_ms ?? 0) + t.host_ms + engine + display,
    errorMs: display === null || clock === null ? null : clock.errorMs,
  };
}
