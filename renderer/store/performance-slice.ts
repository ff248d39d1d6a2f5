// Performance per press: the records the host keeps (newest first), a bench
// of the loaded model for the bound the hardware allows, and whether one is
// running. A finished reply adds its record at once, so the view does not wait
// for a round trip to the host's history.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { BenchSummary } from '../../common/contract/engine';
import type { PerformanceRecord } from '../../common/contract/records';
import { errorText } from './errors';
import type { UiState } from './store';

/** How many presses the view keeps; older ones stay in the host's history. */
export const MAX_RECORDS = 500;

export interface PerformanceSlice {
  records: PerformanceRecord[];
  bench: BenchSummary | null;
  benchState: { running: boolean; error: string | null };
  /** Replaces the list (from the host), newest first. */
  setRecords: (records: PerformanceRecord[]) => void;
  /** Adds or replaces the record of one press. */
  addRecord: (record: PerformanceRecord) => void;
  setBench: (bench: BenchSummary | null) => void;
  /** Measures the loaded model: decode speed and the bound the hardware allows. */
  runBench: () => Promise<void>;
}

export const createPerformanceSlice =
  (host: HostApi): StateCreator<UiState, [], [], PerformanceSlice> =>
  (set, get) => ({
  records: [],
  bench: null,
  benchState: { running: false, error: null },
  setRecords: (records) => set({ records: [...records].sort((a, b) => b.t_ms - a.t_ms).slice(0, MAX_RECORDS) }),
  addRecord: (record) => {
    const rest = get().records.filter((r) => r.press_id !== record.press_id);
    set({ records: [record, ...rest].sort((a, b) => b.t_ms - a.t_ms).slice(0, MAX_RECORDS) });
  },
  setBench: (bench) => set({ bench }),
  runBench: async () => {
    if (get().benchState.running) return;
    set({ benchState: { running: true, error: null } });
    try {
      const bench = await host.request('performance.bench', {});
      set({ bench, benchState: { running: false, error: null } });
    } catch (e) {
      set({ benchState: { running: false, error: errorText(e) } });
    }
  },
});

/** The last reply's timings, for the headline numbers (ttft-ms, decode-tok-s). */
export function lastRecord(s: Pick<PerformanceSlice, 'records'>): PerformanceRecord | null {
  return s.records[0] ?? null;
}
