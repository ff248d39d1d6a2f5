// Reads the thermal traces (tests/fixtures/thermal/*.csv, made by make.py
// there) and runs the policy over them, one decision per row.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DEFAULT_THERMAL, type ThermalSettings } from '../../../../common/contract/thermal';
import { type PolicyDecision, initialPolicyState, stepPolicy } from '../../../../electron/host/thermal/policy';
import { root } from '../../../support/repo';

export interface TraceRow {
  t_ms: number;
  temp_c: number | null;
  power_w: number | null;
  procs: number;
}

export function tracePath(name: string): string {
  return path.join(root, 'tests', 'fixtures', 'thermal', name);
}

export function readTrace(name: string): TraceRow[] {
  const rows: TraceRow[] = [];
  for (const line of fs.readFileSync(tracePath(name), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('t_ms')) continue;
    const f = line.split(',');
    const num = (i: number): number | null => (f[i] === undefined || f[i] === '' ? null : Number(f[i]));
    rows.push({ t_ms: num(0) ?? 0, temp_c: num(1), power_w: num(2), procs: (f[5] ?? '').split(';').filter((p) => p !== '').length });
  }
  if (rows.length === 0) throw new Error(`${name}: no rows`);
  return rows;
}

export interface Step extends PolicyDecision {
  row: TraceRow;
}

export function runPolicy(name: string, thermal: Partial<ThermalSettings> = {}): Step[] {
  const settings: ThermalSettings = { ...DEFAULT_THERMAL, ...thermal };
  let state = initialPolicyState();
  return readTrace(name).map((row) => {
    const d = stepPolicy(state, { t_ms: row.t_ms, temp_c: row.temp_c, other_processes: row.procs }, settings);
    state = d.state;
    return { ...d, row };
  });
}

/** The steps where `key` of the decision changed from the step before. */
export function changes<T>(steps: readonly Step[], key: (s: Step) => T): Step[] {
  return steps.filter((s, i) => i > 0 && key(s) !== key(steps[i - 1] as Step));
}
