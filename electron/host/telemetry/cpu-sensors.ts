// CPU package temperature and power, for the telemetry of machines that run
// the CPU backend (or to show beside the GPU's). Linux only, straight from
// sysfs, no privileges assumed:
// - temperature: the best CPU zone of /sys/class/thermal, chosen by its type
//   (x86_pkg_temp first, then k10temp/coretemp-like names, then anything
//   naming the cpu or soc, acpitz last), or a k10temp/zenpower/coretemp
//   hwmon device (AMD desktops have no CPU thermal zone). Millidegrees C.
// - power: the package domains of RAPL, /sys/class/powercap/intel-rapl:N
//   (AMD Zen uses the same driver), as the change of energy_uj over the time
//   between two readings, with the counter's wrap at max_energy_range_uj.
//   Since Linux 5.10 energy_uj is readable by root only: then null, and why.
//   The same deltas, summed, make a package energy counter that never wraps
//   (energy_mj), which the telemetry service brackets a reply with: RAPL's
//   counter is exact where power sampled at 1-10 Hz would be an estimate.
//   Like NVML's counter it counts the whole package, other programs included.
// Every reading that cannot be had is null with a reason in words. `root`
// (default /sys) and the file reader are parameters, so tests lay out a
// folder like /sys and script permission errors.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type ReadText = (file: string) => string;

export interface CpuSensorOptions {
  /** The sysfs root (default /sys). */
  root?: string;
  /** Reads a whole file (default fs.readFileSync as UTF-8); throws like it. */
  readText?: ReadText;
  /** A monotonic clock in milliseconds (default performance.now). */
  now?: () => number;
}

export interface CpuTemperature {
  temp_c: number | null;
  /** The sensor read, e.g. "thermal_zone3 (x86_pkg_temp)"; null when none was found. */
  source: string | null;
  /** Why temp_c is null; "" when it is not. */
  reason: string;
}

export interface CpuPower {
  /** Average package power since the previous reading (all packages together). */
  power_w: number | null;
  /**
   * Package energy since these sensors first read RAPL, millijoules, the counter's wraps undone
   * (0 at the first reading). Null when unreadable, and from a wrap that could not be undone on:
   * a count that silently missed a wrap would understate every reply after it.
   */
  energy_mj: number | null;
  /** The RAPL package domains summed, e.g. ["intel-rapl:0 (package-0)"]. */
  domains: string[];
  /** Why power_w or energy_mj is null; "" when neither is. */
  reason: string;
}

interface Sensor {
  file: string;
  source: string;
  rank: number;
}

interface Domain {
  dir: string;
  label: string;
}

interface EnergyReading {
  t_ms: number;
  uj: Map<string, number>;
}

/** Lower ranks win; a thermal zone of another type (wifi, nvme, chipset) is never a CPU's. */
function zoneRank(type: string): number | undefined {
  if (type === 'x86_pkg_temp') return 0;
  if (/^(k10temp|zenpower|coretemp|cpu[-_]thermal)/i.test(type)) return 1;
  if (/cpu|soc|pkg|tctl/i.test(type)) return 2;
  if (type === 'acpitz') return 3;  // a motherboard zone, often near the CPU: the last resort
  return undefined;
}

const HWMON_CPU = new Set(['k10temp', 'zenpower', 'coretemp']);

/** A file-system error in words, with what to do about permissions. */
function why(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return `${file} is not readable: permission denied`;
  if (code === 'ENOENT') return `${file} does not exist`;
  return `${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`;
}

export class CpuSensors {
  private readonly root: string;
  private readonly readText: ReadText;
  private readonly now: () => number;
  private sensor: Sensor | null | undefined;  // undefined: not searched yet
  private domains: Domain[] | undefined;
  private last: EnergyReading | undefined;
  /** Microjoules since the first reading; null once a wrap could not be undone. */
  private totalUj: number | null = 0;

  constructor(options: CpuSensorOptions = {}) {
    this.root = options.root ?? '/sys';
    this.readText = options.readText ?? ((file) => fs.readFileSync(file, 'utf8'));
    this.now = options.now ?? (() => performance.now());
  }

  temperature(): CpuTemperature {
    // Searched once: `??=` would search again at every sample where none was found (a directory
    // listing on the way of each key press's first token).
    if (this.sensor === undefined) this.sensor = this.findSensor();
    const s = this.sensor;
    if (s === null) {
      return { temp_c: null, source: null, reason: 'no CPU temperature sensor in /sys/class/thermal or /sys/class/hwmon' };
    }
    let text: string;
    try {
      text = this.readText(s.file);
    } catch (e) {
      return { temp_c: null, source: s.source, reason: why(e, s.file) };
    }
    const milli = Number(text.trim());
    // A sensor that failed reads garbage (or -273 C); none of that is a temperature.
    if (!Number.isFinite(milli) || milli < -50_000 || milli > 150_000) {
      return { temp_c: null, source: s.source, reason: `${s.file}: '${text.trim()}' is not a temperature` };
    }
    return { temp_c: milli / 1000, source: s.source, reason: '' };
  }

  /** The package power since the previous call (the first call only starts the interval), and the energy counted so far. */
  power(): CpuPower {
    this.domains ??= this.findDomains();
    const domains = this.domains;
    const labels = domains.map((d) => d.label);
    const none = (reason: string): CpuPower => ({ power_w: null, energy_mj: null, domains: labels, reason });
    if (domains.length === 0) return none('no RAPL package domain in /sys/class/powercap');
    const reading: EnergyReading = { t_ms: this.now(), uj: new Map() };
    for (const d of domains) {
      const file = path.join(d.dir, 'energy_uj');
      let text: string;
      try {
        text = this.readText(file);
      } catch (e) {
        const base = why(e, file);
        const hint = base.endsWith('permission denied')
          ? ' (root only since Linux 5.10: run as root, or grant read access to energy_uj with a udev rule)'
          : '';
        return none(base + hint);
      }
      const uj = Number(text.trim());
      // A bad reading is dropped; the previous good one stays the interval's start, so nothing is lost.
      if (text.trim() === '' || !Number.isFinite(uj) || uj < 0) return none(`${file}: '${text.trim()}' is not an energy count`);
      reading.uj.set(d.dir, uj);
    }
    const prev = this.last;
    this.last = reading;
    if (prev === undefined) {
      this.totalUj = 0;
      return { ...none('the first RAPL reading: power needs a second one'), energy_mj: 0 };
    }
    const dt = reading.t_ms - prev.t_ms;
    let uj = 0;
    for (const d of domains) {
      let delta = (reading.uj.get(d.dir) as number) - (prev.uj.get(d.dir) as number);
      if (delta < 0) {
        // The counter wrapped: it counts up to max_energy_range_uj, then restarts at 0.
        const range = this.maxRange(d);
        if (range === undefined) {
          this.totalUj = null;
          return none(`${d.label}: the counter wrapped and max_energy_range_uj is unreadable`);
        }
        delta += range;
      }
      uj += delta;
    }
    if (this.totalUj !== null) this.totalUj += uj;
    const energy_mj = this.totalUj === null ? null : this.totalUj / 1000;
    if (!(dt > 0)) return { ...none('no time passed since the previous RAPL reading'), energy_mj };
    return { power_w: uj / (dt * 1000), energy_mj, domains: labels, reason: this.totalUj === null ? 'a RAPL counter wrap was lost earlier: energy is not counted' : '' };
  }

  private maxRange(d: Domain): number | undefined {
    try {
      const v = Number(this.readText(path.join(d.dir, 'max_energy_range_uj')).trim());
      return Number.isFinite(v) && v > 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private list(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  }

  private readName(file: string): string | undefined {
    try {
      return this.readText(file).trim();
    } catch {
      return undefined;
    }
  }

  private findSensor(): Sensor | null {
    const found: Sensor[] = [];
    const thermal = path.join(this.root, 'class', 'thermal');
    for (const zone of this.list(thermal)) {
      if (!/^thermal_zone\d+$/.test(zone)) continue;
      const type = this.readName(path.join(thermal, zone, 'type'));
      const rank = type === undefined ? undefined : zoneRank(type);
      if (rank !== undefined) found.push({ file: path.join(thermal, zone, 'temp'), source: `${zone} (${type})`, rank });
    }
    const hwmon = path.join(this.root, 'class', 'hwmon');
    for (const dev of this.list(hwmon)) {
      const name = this.readName(path.join(hwmon, dev, 'name'));
      // temp1 is the package (coretemp) or Tctl (k10temp, zenpower).
      if (name !== undefined && HWMON_CPU.has(name)) found.push({ file: path.join(hwmon, dev, 'temp1_input'), source: `${dev} (${name})`, rank: 1 });
    }
    // Best rank first; among equals the lowest number, so the choice is stable.
    const num = (s: Sensor): number => Number(/(\d+) \(/.exec(s.source)?.[1] ?? 0);
    found.sort((a, b) => a.rank - b.rank || num(a) - num(b));
    return found[0] ?? null;
  }

  private findDomains(): Domain[] {
    const powercap = path.join(this.root, 'class', 'powercap');
    const out: Domain[] = [];
    // intel-rapl:N is a package; intel-rapl:N:M its cores, uncore or DRAM, already inside it.
    for (const entry of this.list(powercap).sort()) {
      if (!/^intel-rapl:\d+$/.test(entry)) continue;
      const name = this.readName(path.join(powercap, entry, 'name'));
      // "psys" is the whole platform, which counts the packages again.
      if (name === undefined || !name.startsWith('package')) continue;
      out.push({ dir: path.join(powercap, entry), label: `${entry} (${name})` });
    }
    return out;
  }
}
