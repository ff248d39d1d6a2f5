// Sizes, durations and retry delays, as every layer words or computes them:
// once here, so the CLI, the host and the UI cannot drift apart.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * "512 B", "1.10 MiB", "12.5 GiB": binary units. `decimals` fixes the
 * decimals (the CLI's aligned tables use 1); by default a size under 10 of
 * its unit gets 2, so every size shows three significant digits.
 */
export function bytes(n: number, decimals?: number): string {
  let x = n;
  let u = 0;
  while (x >= 1024 && u < BYTE_UNITS.length - 1) {
    x /= 1024;
    u++;
  }
  if (u === 0) return `${x.toFixed(0)} B`;
  return `${x.toFixed(decimals ?? (x < 10 ? 2 : 1))} ${BYTE_UNITS[u] ?? 'B'}`;
}

/** "45 s", "3 min 05 s", "1 h 05 min": whole seconds, rounded up; "?" when it cannot be said. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.ceil(seconds);
  const two = (v: number): string => String(v).padStart(2, '0');
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
}

/** Exponential backoff: the delay before attempt `attempt` (1-based), doubling from `initialMs`, at most `maxMs`. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
