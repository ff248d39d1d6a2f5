// What a reply cost in energy: joules over the reply's time span, and per
// generated token. The driver's total-energy counter is exact where the GPU
// has one, so it wins when readings of it bracket the span (the host samples
// at the reply's start and end for that); otherwise power is integrated over
// the samples (trapezoids, interpolated at the span's edges). A gap in the
// readings (null power) is not guessed at inside: the covered part's mean
// power stands for the whole span, and `coverage` says how much was covered.
// Both count the whole GPU: a game running beside the reply is in the number.
export interface PowerPoint {
  /** Milliseconds (any origin, the same for all points and the span). */
  t_ms: number;
  power_w: number | null;
  /** The driver's total-energy counter, millijoules; null where the GPU has none. */
  energy_mj: number | null;
}

export interface Energy {
  joules: number;
  source: 'counter' | 'power';
  /** Share of the span with power readings on both sides (1 for the counter). */
  coverage: number;
}

/** The counter may be read this far outside the span and still bracket it. */
export const COUNTER_SLACK_MS = 50;

export function energyBetween(points: readonly PowerPoint[], startMs: number, endMs: number): Energy | null {
  if (!(endMs >= startMs)) return null;
  return fromCounter(points, startMs, endMs) ?? fromPower(points, startMs, endMs);
}

export function joulesPerToken(energy: Energy | null, tokens: number): number | null {
  return energy === null || tokens <= 0 ? null : energy.joules / tokens;
}

function fromCounter(points: readonly PowerPoint[], startMs: number, endMs: number): Energy | null {
  let first: PowerPoint | null = null;
  let last: PowerPoint | null = null;
  for (const p of points) {
    if (p.energy_mj === null) continue;
    if (p.t_ms <= startMs && p.t_ms >= startMs - COUNTER_SLACK_MS) first = p;
    if (last === null && p.t_ms >= endMs && p.t_ms <= endMs + COUNTER_SLACK_MS) last = p;
  }
  if (first === null || last === null || first.energy_mj === null || last.energy_mj === null) return null;
  const mj = last.energy_mj - first.energy_mj;
  // A counter that went back (driver reload) or did not tick within a short reply says nothing.
  if (!(mj > 0)) return null;
  return { joules: mj / 1000, source: 'counter', coverage: 1 };
}

function fromPower(points: readonly PowerPoint[], startMs: number, endMs: number): Energy | null {
  const span = endMs - startMs;
  const usable = points.filter((p) => p.power_w !== null && Number.isFinite(p.power_w));
  const sorted = [...points].sort((a, b) => a.t_ms - b.t_ms);
  let joules = 0;
  let covered = 0;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as PowerPoint;
    const b = sorted[i + 1] as PowerPoint;
    if (a.power_w === null || b.power_w === null || b.t_ms <= a.t_ms) continue;
    const lo = Math.max(a.t_ms, startMs);
    const hi = Math.min(b.t_ms, endMs);
    if (hi <= lo) continue;
    const at = (t: number): number => (a.power_w as number) + (((b.power_w as number) - (a.power_w as number)) * (t - a.t_ms)) / (b.t_ms - a.t_ms);
    joules += ((at(lo) + at(hi)) / 2) * ((hi - lo) / 1000);
    covered += hi - lo;
  }
  if (span === 0) return { joules: 0, source: 'power', coverage: 1 };
  if (covered > 0) return { joules: (joules * span) / covered, source: 'power', coverage: covered / span };
  // One reading inside the span (a reply shorter than the sampling interval with no bracketing pair).
  const inside = usable.filter((p) => p.t_ms >= startMs && p.t_ms <= endMs);
  if (inside.length === 0) return null;
  const mean = inside.reduce((sum, p) => sum + (p.power_w as number), 0) / inside.length;
  return { joules: (mean * span) / 1000, source: 'power', coverage: 0 };
}
