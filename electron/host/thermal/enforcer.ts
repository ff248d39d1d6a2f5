// Carries out the policy's actions. The power cap and the fan stop go through
// the driver (the addon's NVML setters) when the user allows it, the GPU
// offers it and the call succeeds; otherwise the power cap is held by the
// engine pacing its tokens (power-pacing.ts) and the fans stay with the
// driver. Heat and gamer-mode actions (pacing, pause, CPU fallback) always go
// to the engine. The status line says which ("enforced by the driver",
// "enforced by pacing: no permission to set the power limit").
//
// Before any change to the GPU the restore journal is on disk; restore() puts
// back the limit as it was and gives the fans back to the driver, then
// removes the journal. A setter that fails once is not tried again in this
// run (a denied call at 10 Hz would only fill logs): pacing takes over.
// Calls are serialised: an apply() never overlaps another or a restore().
import type { GpuSample, Nvml } from '../telemetry/nvml';
import type { PolicyActions } from './policy';
import type { JournalEntry, RestoreJournal } from './journal';
import { nextPowerPacing } from './power-pacing';

/** What the enforcer asks of the engine (the host wires it to the engine service). */
export interface EngineControl {
  setPacing(ms: number): void;
  /** Why new replies must wait, or null. */
  setPause(reason: string | null): void;
  /** Why replies run on the CPU, or null. */
  setCpuFallback(reason: string | null): void;
}

export interface ApplyOptions {
  /** The user lets Keymate change the GPU's settings. */
  useDriver: boolean;
  /** A reply is running: power measured now is ours. */
  generating: boolean;
}

export interface Enforcement {
  /** "enforced by the driver", "enforced by pacing: ...", ... */
  text: string;
  /** The pacing the engine runs at, all causes together. */
  pacing_ms: number;
}

const OFF = "changing the GPU's settings is off in Settings";

export class Enforcer {
  private tail: Promise<unknown> = Promise.resolve();
  /** The limit before our first change; null = not changed. */
  private original: number | null = null;
  private limitSet: number | null = null;
  private uuid = '';
  private readonly fansSet = new Map<number, number>();
  private powerDenied: string | null = null;
  private fanDenied: string | null = null;
  private powerPacing = 0;
  private engineState: { pacing: number; pause: string | null; cpu: string | null } = { pacing: 0, pause: null, cpu: null };

  constructor(
    private readonly nvml: Nvml,
    private readonly journal: RestoreJournal,
    private readonly engine: EngineControl,
    readonly index = 0,
  ) {}

  apply(actions: PolicyActions, sample: GpuSample, options: ApplyOptions): Promise<Enforcement> {
    return this.serial(() => this.applyNow(actions, sample, options));
  }

  /** Puts back everything changed on the GPU and clears the engine's pacing; throws (keeping the journal) when a restore call fails. */
  restore(): Promise<void> {
    return this.serial(async () => {
      const failures: string[] = [];
      if (this.limitSet !== null && this.original !== null) {
        try {
          this.nvml.nvmlSetPowerLimit(this.index, this.original);
          this.limitSet = null;
          this.original = null;
        } catch (e) {
          failures.push(`power limit: ${message(e)}`);
        }
      }
      for (const fan of [...this.fansSet.keys()]) {
        try {
          this.nvml.nvmlRestoreFan(this.index, fan);
          this.fansSet.delete(fan);
        } catch (e) {
          failures.push(`fan ${fan}: ${message(e)}`);
        }
      }
      await this.journal.write(this.entry());
      this.setEngine(0, null, null);
      if (failures.length > 0) throw new Error(`thermal: the GPU's settings were not all restored (${failures.join('; ')}); the next start tries again`);
    });
  }

  private async applyNow(actions: PolicyActions, sample: GpuSample, o: ApplyOptions): Promise<Enforcement> {
    this.uuid = sample.uuid;
    const parts: string[] = [];

    // ---- the power cap ----
    // A cap under the lowest limit the GPU accepts is held at that floor: below
    // it even an idle GPU may draw more, and no pacing could reach it.
    const wanted = actions.power_limit_w;
    const floor = sample.power_limit_min_w;
    const cap = wanted !== null && floor !== null ? Math.max(wanted, floor) : wanted;
    const base = this.original ?? sample.power_limit_w;
    let target: number | null = null;
    let paced: string | null = null;
    if (cap !== null && !(base !== null && cap >= base)) {
      if (!o.useDriver) paced = OFF;
      else if (!sample.caps.set_power_limit) paced = 'no permission to set the power limit';
      else if (this.powerDenied !== null) paced = this.powerDenied;
      else target = clamp(cap, floor, sample.power_limit_max_w);
    }
    if (target !== null && target !== this.limitSet) {
      if (this.original === null) this.original = sample.power_limit_w;
      await this.journal.write(this.entry());
      try {
        this.nvml.nvmlSetPowerLimit(this.index, target);
        this.limitSet = target;
      } catch (e) {
        this.powerDenied = /permission/i.test(message(e)) ? 'no permission to set the power limit' : `setting the power limit failed (${message(e)})`;
        paced = this.powerDenied;
        target = null;
        // Nothing was changed after all: the journal must not ask for a restore.
        if (this.limitSet === null) this.original = null;
        await this.journal.write(this.entry());
      }
    }
    if (target === null && this.limitSet !== null && this.original !== null) {
      // The cap was lifted (settings) or the driver is no longer ours to use: the limit goes back.
      this.nvml.nvmlSetPowerLimit(this.index, this.original);
      this.limitSet = null;
      this.original = null;
      await this.journal.write(this.entry());
    }
    this.powerPacing = paced !== null ? nextPowerPacing(this.powerPacing, sample.power_w, cap, o.generating) : 0;
    const floorNote = wanted !== null && cap !== null && cap > wanted ? ` (the ${wanted} W cap is under this GPU's lowest limit: held at ${cap} W)` : '';
    if (cap === null) parts.push("power: the driver's own limit");
    else if (paced !== null) parts.push(`enforced by pacing: ${paced}${floorNote}`);
    else if (target !== null) parts.push(`enforced by the driver${floorNote}`);
    else parts.push(`power: the GPU's limit is already at or under the ${cap} W cap`);

    // ---- the fans ----
    const want = actions.fan_pct;
    const fans = sample.fans_pct.length;
    let fanWhy: string | null = null;
    if (want !== null) {
      if (fans === 0) fanWhy = 'this GPU reports no fan';
      else if (!o.useDriver) fanWhy = OFF;
      else if (!sample.caps.set_fans) fanWhy = 'no fan control through the driver here';
      else if (this.fanDenied !== null) fanWhy = this.fanDenied;
    }
    if (want !== null && fanWhy === null) {
      for (let fan = 0; fan < fans; fan++) {
        if (this.fansSet.get(fan) === want) continue;
        const before = this.fansSet.get(fan);
        this.fansSet.set(fan, want);
        await this.journal.write(this.entry());
        try {
          this.nvml.nvmlSetFanSpeed(this.index, fan, want);
        } catch (e) {
          if (before === undefined) this.fansSet.delete(fan);
          else this.fansSet.set(fan, before);
          this.fanDenied = /permission/i.test(message(e)) ? 'no permission to set the fans' : `setting the fans failed (${message(e)})`;
          fanWhy = this.fanDenied;
          await this.journal.write(this.entry());
          break;
        }
      }
    }
    if ((want === null || fanWhy !== null) && this.fansSet.size > 0) {
      for (const fan of [...this.fansSet.keys()]) {
        this.nvml.nvmlRestoreFan(this.index, fan);
        this.fansSet.delete(fan);
      }
      await this.journal.write(this.entry());
    }
    if (want !== null) parts.push(fanWhy === null ? `fans stopped by the driver` : `fans left running: ${fanWhy}`);

    const pacing = Math.max(actions.pacing_ms, Math.round(this.powerPacing));
    this.setEngine(pacing, actions.pause, actions.cpu_fallback);
    return { text: parts.join('; '), pacing_ms: pacing };
  }

  private entry(): JournalEntry | null {
    if (this.limitSet === null && this.original === null && this.fansSet.size === 0) return null;
    return { uuid: this.uuid, index: this.index, power_limit_w: this.original, fans: [...this.fansSet.keys()].sort((a, b) => a - b) };
  }

  private setEngine(pacing: number, pause: string | null, cpu: string | null): void {
    const e = this.engineState;
    if (pacing !== e.pacing) this.engine.setPacing(pacing);
    if (pause !== e.pause) this.engine.setPause(pause);
    if (cpu !== e.cpu) this.engine.setCpuFallback(cpu);
    this.engineState = { pacing, pause, cpu };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function clamp(v: number, min: number | null, max: number | null): number {
  let x = v;
  if (min !== null && x < min) x = min;
  if (max !== null && x > max) x = max;
  return x;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * At start: puts back what a run that did not exit cleanly left changed (its
 * journal). Returns what was done or why not, for a notice; null when there
 * was nothing to restore. A failed restore keeps the journal for the next start.
 */
export async function restoreLeftovers(nvml: Nvml, journal: RestoreJournal, gpus: number): Promise<{ level: 'info' | 'warning'; message: string } | null> {
  const { entry } = await journal.read();
  if (entry === null) return null;
  let index: number | null = null;
  for (const i of [entry.index, ...Array.from({ length: gpus }, (_, k) => k)]) {
    if (i >= gpus) continue;
    try {
      if (nvml.nvmlSample(i).uuid === entry.uuid) {
        index = i;
        break;
      }
    } catch {
      // A GPU that cannot be read is not the one we are looking for.
    }
  }
  if (index === null) {
    await journal.write(null);
    return { level: 'warning', message: `thermal: the GPU a previous run changed (${entry.uuid}) is not here any more; nothing was restored` };
  }
  const done: string[] = [];
  try {
    if (entry.power_limit_w !== null) {
      nvml.nvmlSetPowerLimit(index, entry.power_limit_w);
      done.push(`the power limit back to ${entry.power_limit_w} W`);
    }
    for (const fan of entry.fans) nvml.nvmlRestoreFan(index, fan);
    if (entry.fans.length > 0) done.push(`${entry.fans.length} fan${entry.fans.length === 1 ? '' : 's'} back to the driver's control`);
  } catch (e) {
    return { level: 'warning', message: `thermal: a previous run left the GPU's settings changed and they could not be restored (${message(e)}); the next start tries again` };
  }
  await journal.write(null);
  return { level: 'info', message: `thermal: a previous run did not exit cleanly; restored ${done.join(' and ')}` };
}
