// Reads the sensors on a schedule: every ACTIVE_INTERVAL_MS (10 Hz) while a
// reply is generated, every IDLE_INTERVAL_MS (1 Hz) otherwise, into a ring
// buffer. A chain of timeouts rather than an interval, so that a change of
// rate takes effect at once: going active samples now and then at 10 Hz;
// going idle waits a full idle interval from the last sample. The clock is a
// parameter, so tests drive the schedule with a fake one instead of waiting.
import { Ring } from './ring';

export const ACTIVE_INTERVAL_MS = 100;
export const IDLE_INTERVAL_MS = 1000;
/** Five minutes at 10 Hz, or an hour at 1 Hz. */
export const SAMPLES_KEPT = 3600;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall time, with timers that do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SamplerOptions {
  activeMs?: number;
  idleMs?: number;
  capacity?: number;
}

export class Sampler<T> {
  readonly ring: Ring<T>;
  private readonly activeMs: number;
  private readonly idleMs: number;
  private timer: unknown = null;
  private running = false;
  private active = false;
  private lastAt = -Infinity;

  /** `read` takes one sample at the clock's time; null = nothing to keep (it said why elsewhere). */
  constructor(
    private readonly read: (tMs: number) => T | null,
    private readonly clock: Clock = systemClock,
    options: SamplerOptions = {},
  ) {
    this.activeMs = options.activeMs ?? ACTIVE_INTERVAL_MS;
    this.idleMs = options.idleMs ?? IDLE_INTERVAL_MS;
    this.ring = new Ring<T>(options.capacity ?? SAMPLES_KEPT);
  }

  get interval(): number {
    return this.active ? this.activeMs : this.idleMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.cancel();
  }

  /** Generating (10 Hz) or idle (1 Hz). */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (!this.running) return;
    this.cancel();
    if (active) this.tick();
    else this.schedule(Math.max(0, this.lastAt + this.idleMs - this.clock.now()));
  }

  /** One sample now, off schedule (the start and end of a reply); the schedule goes on from it. */
  sampleNow(): T | null {
    const t = this.clock.now();
    this.lastAt = t;
    const s = this.read(t);
    if (s !== null) this.ring.push(s);
    if (this.running) {
      this.cancel();
      this.schedule(this.interval);
    }
    return s;
  }

  private tick(): void {
    this.timer = null;
    if (!this.running) return;
    this.sampleNow();
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => this.tick(), ms);
  }

  private cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
