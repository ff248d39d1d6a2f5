// The telemetry history the charts draw: one ring buffer of samples (time and
// every reading), fed straight from the host's events and read by the charts
// on their own schedule. It sits outside React and the store on purpose: a
// sample is a push into typed arrays and a notification, never a re-render.
import type { TelemetrySample } from '../../common/contract/telemetry';
import { RingBuffer } from './ring-buffer';

/** The columns of a row; time is seconds (uPlot's unit), the rest are the sample's readings. */
export const TELEMETRY_COLUMNS = ['t', 'power_w', 'power_limit_w', 'temp_c', 'fan_pct', 'sm_clock_mhz', 'mem_clock_mhz', 'mem_used_mb'] as const;
export type TelemetryColumn = (typeof TELEMETRY_COLUMNS)[number];

/** Ten minutes at one sample a second. */
export const TELEMETRY_CAPACITY = 600;

export class TelemetrySeries {
  readonly buffer = new RingBuffer(TELEMETRY_CAPACITY, TELEMETRY_COLUMNS.length);
  private readonly listeners = new Set<() => void>();
  private lastT = -Infinity;

  /** Adds a sample; unavailable samples carry no readings and are skipped. Returns whether it was kept. */
  push(sample: TelemetrySample): boolean {
    if (!sample.available) return false;
    // Out-of-order or repeated samples would draw the line backwards.
    if (sample.t_ms <= this.lastT) return false;
    this.lastT = sample.t_ms;
    this.buffer.push([
      sample.t_ms / 1000,
      sample.power_w,
      sample.power_limit_w,
      sample.temp_c,
      sample.fan_pct,
      sample.sm_clock_mhz,
      sample.mem_clock_mhz,
      sample.mem_used_mb,
    ]);
    for (const listener of this.listeners) listener();
    return true;
  }

  /** Called after every kept sample; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The time column and the named columns, oldest first, as uPlot wants them. */
  data(columns: readonly TelemetryColumn[]): (number | null)[][] {
    const all = this.buffer.columns();
    return [all[0] ?? [], ...columns.map((c) => all[TELEMETRY_COLUMNS.indexOf(c)] ?? [])];
  }
}
