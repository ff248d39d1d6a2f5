// GPU telemetry and the thermal policy, as one loop: the sampler reads NVML
// (10 Hz while a reply is generated, 1 Hz idle), each reading goes through
// the policy (thermal/policy.ts) and its actions through the enforcer, and
// the sample, with the policy's status, is kept in a ring buffer and sent to
// the UI. The reply's start and end (host events) switch the rate and take a
// sample at each edge, so the energy of the reply is bracketed.
//
// Without NVML (no NVIDIA driver, or an addon without the reader) every
// sample says "not available" and why, on the same schedule, and nothing is
// enforced: inference goes on. At start, a restore journal left by a run that
// did not exit cleanly is played back first; at stop, everything changed on
// the GPU is put back.
//
// The CPU package's temperature and power (telemetry/cpu-sensors.ts) are read
// at every sample, so RAPL's power always covers one sampling interval, and
// sent in the sample's `cpu` when the CPU is the one working: no NVML, or the
// loaded model on the CPU backend (known from the engine's status events). A
// reply's energy comes from the device it ran on: the GPU's readings for a
// GPU backend, RAPL's package energy for the CPU backend.
import type { CpuReadings, EngineStatus, ReplyToken, TelemetrySample, ThermalSettings } from '../../../common/contract';
import type { PolicyStatus } from '../../../common/contract/thermal';
import { showsText } from '../../../common/thinking';
import type { HostEvents } from '../host-events';
import { type CpuSensorOptions, CpuSensors } from '../telemetry/cpu-sensors';
import { type Energy, type PowerPoint, energyBetween, joulesPerToken } from '../telemetry/energy';
import { type GpuSample, type Nvml, addonNvml } from '../telemetry/nvml';
import { type Clock, Sampler, systemClock } from '../telemetry/sampler';
import { type EngineControl, Enforcer, restoreLeftovers } from '../thermal/enforcer';
import { RestoreJournal } from '../thermal/journal';
import { type PolicyState, initialPolicyState, stepPolicy } from '../thermal/policy';
import type { Notices } from './notices';

export interface TelemetryOptions {
  /** The data folder: the restore journal lives there. */
  home: string;
  thermal: () => ThermalSettings;
  engine: EngineControl;
  notices: Notices;
  /** The NVML calls; default: the addon's. null: none (telemetry not available). */
  nvml?: Nvml | null;
  /** The NVML library to open (tests: the test NVML); default: the addon's choice (KEYMATE_NVML_LIB, else libnvidia-ml.so.1). */
  library?: string;
  /** Where the CPU sensors are read (tests: a folder laid out like /sys); their clock defaults to `clock`'s. null: no CPU readings. */
  cpu?: CpuSensorOptions | null;
  clock?: Clock;
  idleMs?: number;
  activeMs?: number;
  gpuIndex?: number;
  log?: (line: string) => void;
}

interface Kept {
  sample: TelemetrySample;
  /** The GPU's power and energy counter. */
  point: PowerPoint;
  /** The CPU package's (RAPL). */
  cpuPoint: PowerPoint;
}

/** Which part's energy a reply is charged with. */
export type EnergyDevice = 'gpu' | 'cpu';

export interface ReplyEnergy {
  energy_j: number | null;
  j_per_token: number | null;
  source: Energy['source'] | null;
  /** The part measured: the one the reply ran on. */
  device: EnergyDevice;
}

/** Energies kept for replies whose records are not written yet. */
const ENERGY_KEEP = 16;

export class TelemetryService {
  private readonly sampler: Sampler<Kept>;
  private readonly clock: Clock;
  private readonly index: number;
  private readonly log: (line: string) => void;
  private nvml: Nvml | null = null;
  private gpus = 0;
  private reason = 'NVML not opened yet';
  private enforcer: Enforcer | null = null;
  private policy: PolicyState = initialPolicyState();
  private enforcement = 'starting';
  private pacingMs = 0;
  private applying: Promise<unknown> = Promise.resolve();
  private applyError: string | null = null;
  private reply: { pressId: string; startMs: number; device: EnergyDevice } | null = null;
  /** The sample read at a reply's start, until the press's first visible text has gone out (replyStarted). */
  private held: TelemetrySample | null = null;
  private holdNext = false;
  private readonly cpu: CpuSensors | null;
  /** The loaded engine's backend ("cpu", "cuda"), from its status events; null when none is loaded. */
  private backend: string | null = null;
  private readonly energies = new Map<string, ReplyEnergy>();
  private unsubscribe: (() => void) | null = null;
  private started = false;

  constructor(
    private readonly events: HostEvents,
    private readonly options: TelemetryOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.index = options.gpuIndex ?? 0;
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
    this.sampler = new Sampler<Kept>((t) => this.read(t), this.clock, { activeMs: options.activeMs, idleMs: options.idleMs });
    this.cpu = options.cpu === null ? null : new CpuSensors({ now: () => this.clock.now(), ...options.cpu });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.open();
    if (this.nvml !== null) {
      const journal = new RestoreJournal(this.options.home);
      try {
        const restored = await restoreLeftovers(this.nvml, journal, this.gpus);
        if (restored !== null) this.options.notices.add(restored.level, 'info', restored.message);
      } catch (e) {
        this.options.notices.add('warning', 'info', `thermal: the restore journal could not be played back: ${message(e)}`);
      }
      this.enforcer = new Enforcer(this.nvml, journal, this.options.engine, this.index);
    }
    this.unsubscribe = this.events.subscribe((name, payload) => {
      if (name === 'engine') this.backend = (payload as EngineStatus).backend?.name ?? null;
      else if (name === 'reply.start') this.replyStarted((payload as { press_id: string }).press_id);
      // After the token's own listeners (the transports): the sample waits for the first text that shows, not the reverse.
      else if (name === 'reply.token' && this.held !== null && showsToken(payload as ReplyToken)) setImmediate(() => this.releaseHeld());
      else if (name === 'reply.done') this.replyEnded((payload as { press_id: string; timings: { tokens: number } | null }).press_id, payload as { timings: { tokens: number } | null });
      else if (name === 'reply.error') this.replyEnded((payload as { press_id: string }).press_id, null);
    });
    this.sampler.start();
  }

  /** Stops sampling and puts back what was changed on the GPU. */
  async stop(): Promise<void> {
    this.sampler.stop();
    this.releaseHeld();
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.applying;
    try {
      await this.enforcer?.restore();
    } finally {
      this.nvml?.nvmlClose();
    }
  }

  /** Resolves once the actions of the samples so far are carried out (tests). */
  async settled(): Promise<void> {
    await this.applying;
  }

  latest(): TelemetrySample {
    return this.sampler.ring.last()?.sample ?? { available: false, t_ms: this.clock.now(), reason: this.reason };
  }

  /** Oldest first. */
  recent(limit?: number): TelemetrySample[] {
    return this.sampler.ring.toArray(limit).map((k) => k.sample);
  }

  /** The energy of a finished reply (once: the record takes it); null when it was not measured. */
  takeEnergy(pressId: string): ReplyEnergy | null {
    const e = this.energies.get(pressId) ?? null;
    this.energies.delete(pressId);
    return e;
  }

  // ---- the loop ----

  private open(): void {
    const found = this.options.nvml === undefined ? addonNvml() : this.options.nvml === null ? { nvml: null, reason: 'telemetry is off' } : { nvml: this.options.nvml };
    if (found.nvml === null) {
      this.reason = found.reason;
      return;
    }
    let opened;
    try {
      opened = found.nvml.nvmlOpen(this.options.library);
    } catch (e) {
      this.reason = message(e);
      return;
    }
    if (!opened.available || opened.gpus <= this.index) {
      this.reason = opened.available ? `NVML sees ${opened.gpus} GPU(s); none at index ${this.index}` : opened.reason;
      return;
    }
    this.nvml = found.nvml;
    this.gpus = opened.gpus;
  }

  /** The CPU is the part working: no GPU to read, or the model on the CPU backend. */
  private cpuWorks(): boolean {
    return this.nvml === null || this.backend === 'cpu';
  }

  private replyStarted(pressId: string): void {
    // Before any model status (tests, a host that loads none): the GPU where NVML sees one.
    const device = this.backend === null ? (this.nvml === null ? 'cpu' : 'gpu') : this.backend === 'cpu' ? 'cpu' : 'gpu';
    this.reply = { pressId, startMs: this.clock.now(), device };
    // The sample that opens the reply's energy count is read now (its counter must bracket the
    // start) but announced once the press's first visible text has gone out: its broadcast (a
    // contract check, JSON, a socket write per window) and each window's render of it would
    // otherwise stand between the engine's first word and the screen; a reply that opens with a
    // space (many tokenizers' first token) showed it between the space and the word
    // (scripts/bench-press.ts). A later sample, or the reply's end, sends it first if no such
    // token comes.
    this.holdNext = true;
    this.sampler.setActive(true);
    this.holdNext = false;
  }

  private replyEnded(pressId: string, done: { timings: { tokens: number } | null } | null): void {
    const reply = this.reply;
    if (reply === null || reply.pressId !== pressId) return;
    this.releaseHeld();
    this.sampler.sampleNow();
    const endMs = this.clock.now();
    this.reply = null;
    this.sampler.setActive(false);
    if (done === null) return;
    // A reply on a GPU without NVML is not measured: the CPU package's energy would not be its cost.
    const measured = reply.device === 'cpu' ? this.cpu !== null : this.nvml !== null;
    const points = this.sampler.ring
      .toArray()
      .filter((k) => k.point.t_ms >= reply.startMs - 2 * this.sampler.interval)
      .map((k) => (reply.device === 'cpu' ? k.cpuPoint : k.point));
    const energy = measured ? energyBetween(points, reply.startMs, endMs) : null;
    this.energies.set(pressId, {
      energy_j: energy?.joules ?? null,
      j_per_token: joulesPerToken(energy, done.timings?.tokens ?? 0),
      source: energy?.source ?? null,
      device: reply.device,
    });
    while (this.energies.size > ENERGY_KEEP) this.energies.delete(this.energies.keys().next().value as string);
  }

  private read(t: number): Kept | null {
    const sample = this.readSample(t);
    if (this.holdNext) {
      this.held = sample.sample;
    } else {
      this.releaseHeld();
      this.events.emit('telemetry', sample.sample);
    }
    return sample;
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = null;
    if (held !== null) this.events.emit('telemetry', held);
  }

  private readSample(t: number): Kept {
    const none: PowerPoint = { t_ms: t, power_w: null, energy_mj: null };
    const cpu = this.readCpu(t);
    const cpuField = cpu !== null && this.cpuWorks() ? { cpu: cpu.readings } : {};
    const cpuPoint = cpu?.point ?? none;
    if (this.nvml === null) {
      return { sample: { available: false, t_ms: t, reason: this.reason, policy: this.idleStatus(this.reason), ...cpuField }, point: none, cpuPoint };
    }
    let g: GpuSample;
    try {
      g = this.nvml.nvmlSample(this.index);
    } catch (e) {
      return { sample: { available: false, t_ms: t, reason: message(e), policy: this.idleStatus(message(e)), ...cpuField }, point: none, cpuPoint };
    }
    const others = g.processes.filter((p) => p.pid !== process.pid).length;
    const thermal = this.options.thermal();
    const decision = stepPolicy(this.policy, { t_ms: t, temp_c: g.temp_c, other_processes: others }, thermal);
    this.policy = decision.state;
    const generating = this.reply !== null;
    const enforcer = this.enforcer;
    if (enforcer !== null) {
      this.applying = this.applying
        .then(() => enforcer.apply(decision.actions, g, { useDriver: thermal.use_driver, generating }))
        .then(
          (e) => {
            this.enforcement = e.text;
            this.pacingMs = e.pacing_ms;
            this.applyError = null;
          },
          (e: unknown) => {
            // Said once per distinct failure, not at every sample.
            if (this.applyError !== message(e)) this.log(`keymate: thermal: ${message(e)}`);
            this.applyError = message(e);
            this.enforcement = `not enforced: ${message(e)}`;
          },
        );
    }
    const policy: PolicyStatus = {
      level: decision.level,
      fans: decision.fans,
      gamer: decision.gamer,
      pacing_ms: Math.max(decision.actions.pacing_ms, this.pacingMs),
      power_cap_w: decision.actions.power_limit_w,
      paused: decision.actions.pause !== null,
      cpu_fallback: decision.actions.cpu_fallback !== null,
      reason: decision.reason,
      enforcement: this.enforcement,
    };
    const sample: TelemetrySample = {
      available: true,
      t_ms: t,
      gpu: g.name,
      power_w: g.power_w,
      power_limit_w: g.power_limit_w,
      temp_c: g.temp_c,
      fan_pct: g.fans_pct[0] ?? null,
      sm_clock_mhz: g.sm_clock_mhz,
      mem_clock_mhz: g.mem_clock_mhz,
      mem_used_mb: g.mem_used_mb,
      fans_pct: [...g.fans_pct],
      power_limit_default_w: g.power_limit_default_w,
      power_limit_min_w: g.power_limit_min_w,
      power_limit_max_w: g.power_limit_max_w,
      temp_slowdown_c: g.temp_slowdown_c,
      util_gpu_pct: g.util_gpu_pct,
      mem_total_mb: g.mem_total_mb,
      throttle: [...g.throttle],
      other_processes: others,
      policy,
      ...cpuField,
    };
    return { sample, point: { t_ms: t, power_w: g.power_w, energy_mj: g.energy_mj }, cpuPoint };
  }

  private readCpu(t: number): { readings: CpuReadings; point: PowerPoint } | null {
    if (this.cpu === null) return null;
    const temp = this.cpu.temperature();
    const power = this.cpu.power();
    const reason = [temp.reason, power.reason].filter((r) => r !== '').join('; ');
    return {
      readings: { temp_c: temp.temp_c, temp_source: temp.source, power_w: power.power_w, power_domains: power.domains, reason },
      point: { t_ms: t, power_w: power.power_w, energy_mj: power.energy_mj },
    };
  }

  private idleStatus(why: string): PolicyStatus {
    return {
      level: 'normal',
      fans: 'auto',
      gamer: false,
      pacing_ms: 0,
      power_cap_w: null,
      paused: false,
      cpu_fallback: false,
      reason: `no GPU readings (${why}): the thermal policy is idle`,
      enforcement: 'nothing to enforce',
    };
  }
}

function showsToken(t: ReplyToken): boolean {
  return showsText(t.text, t.thinking);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
