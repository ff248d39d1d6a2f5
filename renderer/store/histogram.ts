// Latency histogram bins: equal-width bins whose width is a "nice" number
// (1, 2 or 5 x 10^k ms) so the axis labels read like a person would write
// them, starting at a multiple of that width. Pure, so the Performance view
// and the tests compute the same thing.

export interface Histogram {
  /** Left edge of the first bin, ms. */
  start: number;
  /** Width of every bin, ms. */
  width: number;
  /** counts[i] covers [start + i*width, start + (i+1)*width). */
  counts: number[];
}

/** The smallest 1/2/5 x 10^k that is >= x (x > 0). */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new Error(`niceStep: expected a positive finite number, got ${x}`);
  const base = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) {
    if (m * base >= x * (1 - 1e-12)) return m * base;
  }
  return 10 * base;
}

/** Bins finite, non-negative values into at most maxBins bins; null when there is nothing to bin. */
export function histogram(values: readonly number[], maxBins = 12): Histogram | null {
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  if (finite.length === 0) return null;
  if (!Number.isInteger(maxBins) || maxBins < 1) throw new Error(`histogram: maxBins must be a positive integer, got ${maxBins}`);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  // One value, or all equal: one bin of a width that suits its size.
  let width = niceStep(Math.max(hi - lo, Math.abs(hi) / 10, 0.001) / maxBins);
  let start = Math.floor(lo / width) * width;
  // Rounding the start down can push the last value past maxBins; widen until it fits.
  while (Math.floor((hi - start) / width) + 1 > maxBins) {
    width = niceStep(width * 1.0001);
    start = Math.floor(lo / width) * width;
  }
  const bins = Math.floor((hi - start) / width) + 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) {
    const i = Math.min(bins - 1, Math.floor((v - start) / width));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return { start, width, counts };
}

/** Median and 90th percentile (nearest rank), or null when empty. */
export function percentiles(values: readonly number[]): { median: number; p90: number } | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
  return { median: rank(0.5), p90: rank(0.9) };
}
