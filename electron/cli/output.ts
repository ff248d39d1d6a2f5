// Writing results: one JSON object per line on stdout for --json, aligned
// "key  value" lines for people. Numbers are printed as measured (no
// rounding) in JSON, rounded for people.
import { bytes as formatBytes } from '../../common/units';
import type { CliIo } from './command';

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value) + '\n');
}

/** Rows of a two-column report, keys padded to one width. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** `digits` decimals (2 unless asked), for people; NaN and the infinities as words. */
export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** Sizes in the CLI's tables: binary units, one decimal, so columns line up. */
export function bytes(n: number): string {
  return formatBytes(n, 1);
}
