// Numbers as the views show them: milliseconds with as many decimals as
// their size deserves, sizes in binary units, counts with SI suffixes. A
// missing value is an em dash, never a zero that could be read as measured.

import { bytes as formatBytes } from '../../common/units';

export const NONE = '—';

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return v.toFixed(0);
}

export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  return v < 100 ? v.toFixed(1) : v.toFixed(0);
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  return formatBytes(v);
}

export function count(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  const steps: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [n, s] of steps) if (Math.abs(v) >= n) return `${(v / n).toFixed(v / n < 10 ? 2 : 1)}${s}`;
  return String(v);
}

export function reading(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  return v.toFixed(digits);
}

// One formatter for every call: toLocaleTimeString builds a new one each
// time, tens of microseconds, which a list redrawn often pays per row.
const TIME_OF_DAY = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function clock(tMs: number): string {
  return TIME_OF_DAY.format(new Date(tMs));
}
