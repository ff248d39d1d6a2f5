// Speed over a sliding window, and a gate that lets progress events through
// at most every `intervalMs` (a fast download would otherwise send thousands
// of events a second to the UI).

export class SpeedMeter {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 3000,
  ) {}

  add(bytes: number): void {
    this.samples.push({ t: this.now(), bytes });
    const oldest = this.now() - this.windowMs;
    while (this.samples.length > 1 && (this.samples[0]?.t ?? 0) < oldest) this.samples.shift();
  }

  reset(): void {
    this.samples.length = 0;
  }

  /** Bytes per second over the window; 0 with fewer than two samples. */
  bps(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.t <= first.t) return 0;
    let bytes = 0;
    for (let i = 1; i < this.samples.length; i++) bytes += this.samples[i]?.bytes ?? 0;
    return Math.round((bytes * 1000) / (last.t - first.t));
  }
}

export class Throttle {
  private last = -Infinity;

  constructor(
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {}

  /** True when enough time has passed since the last true. */
  ready(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}
