// Percentiles of a latency sample, as the benchmark scripts print them
// (bench-keylink, bench-press): nearest-rank, rounded to the microsecond.

export interface Summary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** The middle of the samples (the p50 of percentile()). */
export const median = (samples: number[]): number => percentile([...samples].sort((a, b) => a - b), 50);

/** Milliseconds to the microsecond. */
export const round = (x: number): number => Math.round(x * 1000) / 1000;

export function summary(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    p50: round(percentile(s, 50)),
    p90: round(percentile(s, 90)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}
