// GPU telemetry for the charts. NVML comes with the telemetry issue; until
// then every sample says "not available" and why, on the same schedule real
// samples will use, so the UI's charts, empty states and ring buffer are
// exercised now. The reason tells apart a machine with no NVIDIA driver from
// one where only this build lacks the reader.
import * as fs from 'node:fs';

import type { TelemetrySample } from '../../../common/contract';
import type { HostEvents } from '../host-events';

export const TELEMETRY_INTERVAL_MS = 1000;
/** Samples kept for a UI that connects later (five minutes at 1 Hz). */
const KEEP = 300;

export function unavailableReason(): string {
  const driver = process.platform === 'linux' && fs.existsSync('/proc/driver/nvidia/version');
  return driver
    ? 'NVIDIA driver found, but this build has no NVML reader yet (GPU telemetry arrives with its own issue)'
    : 'no NVIDIA driver on this machine (NVML not available)';
}

export class TelemetryService {
  private readonly samples: TelemetrySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly reason = unavailableReason();

  constructor(
    private readonly events: HostEvents,
    private readonly intervalMs = TELEMETRY_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): TelemetrySample {
    return this.samples.at(-1) ?? { available: false, t_ms: Date.now(), reason: this.reason };
  }

  /** Oldest first. */
  recent(limit = KEEP): TelemetrySample[] {
    return this.samples.slice(-limit);
  }

  private sample(): void {
    const s: TelemetrySample = { available: false, t_ms: Date.now(), reason: this.reason };
    this.samples.push(s);
    if (this.samples.length > KEEP) this.samples.shift();
    this.events.emit('telemetry', s);
  }
}
