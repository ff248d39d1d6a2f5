// Telemetry as React sees it: whether it is available (and why not), and the
// latest sample for the headline numbers. The chart history does NOT live
// here: samples go to ring buffers (charts/telemetry-series.ts) that the
// charts read directly, so a sample every few hundred milliseconds re-renders
// two numbers, not the views.
import type { StateCreator } from 'zustand/vanilla';

import type { TelemetrySample } from '../../common/contract/telemetry';
import type { UiState } from './store';

export interface TelemetrySlice {
  /** null until the first sample arrives. */
  telemetry: TelemetrySample | null;
  setTelemetry: (sample: TelemetrySample) => void;
}

export const createTelemetrySlice: StateCreator<UiState, [], [], TelemetrySlice> = (set, get) => ({
  telemetry: null,
  setTelemetry: (sample) => {
    const prev = get().telemetry;
    // Samples may be delivered late and out of order over a busy link; keep the newest.
    if (prev !== null && sample.t_ms < prev.t_ms) return;
    set({ telemetry: sample });
  },
});
