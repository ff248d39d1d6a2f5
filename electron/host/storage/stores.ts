// The host's files in the data folder and how each is opened:
// settings.json (SettingsStore), history.json and performance.json
// (RecordLog, capped), last-model.json (the last model that loaded). Kept apart from host.ts so a process that only
// writes them (the crash-safety test's writer) loads nothing else.
import * as path from 'node:path';
import { z } from 'zod';

import { HistoryEntry, PerformanceRecord } from '../../../common/contract/records';
import { RecordLog } from './record-log';
import type { VersionedFormat } from './versioned-file';

export const HISTORY_CAP = 500;
export const PERFORMANCE_CAP = 2000;
export const HISTORY_VERSION = 1;
export const PERFORMANCE_VERSION = 1;

export function openHistory(home: string) {
  return RecordLog.open(path.join(home, 'history.json'), { kind: 'history', version: HISTORY_VERSION, record: HistoryEntry, cap: HISTORY_CAP });
}

export function openPerformance(home: string) {
  return RecordLog.open(path.join(home, 'performance.json'), {
    kind: 'performance',
    version: PERFORMANCE_VERSION,
    record: PerformanceRecord,
    cap: PERFORMANCE_CAP,
  });
}

/** The last model that loaded (last-model.json): what a start falls back to when the saved choice cannot be loaded. */
export const lastModelFormat: VersionedFormat<{ path: string | null }> = {
  kind: 'last-model',
  version: 1,
  schema: z.strictObject({ path: z.string().min(1).nullable() }),
  migrations: [],
  defaults: () => ({ path: null }),
};

export function lastModelFile(home: string): string {
  return path.join(home, 'last-model.json');
}
