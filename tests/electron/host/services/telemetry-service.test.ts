// The telemetry service on the REAL addon and the test NVML, with a fake
// clock: samples carry the readings and the policy's status, the rate
// follows the reply, the energy of a reply comes from the bracketing
// samples, stop() restores the card; and without NVML it says why. The CPU
// package's readings come from a temp folder laid out like /sys whose RAPL
// counter follows the fake clock: they ride in the samples when the CPU does
// the work, and a reply on the CPU backend is charged RAPL's energy.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_THERMAL, type EngineStatus, type TelemetrySample, type ThermalSettings } from '../../../../common/contract';
import { HostEvents } from '../../../../electron/host/host-events';
import { Notices } from '../../../../electron/host/services/notices';
import { TelemetryService } from '../../../../electron/host/services/telemetry-service';
import type { CpuSensorOptions } from '../../../../electron/host/telemetry/cpu-sensors';
import { addonNvml } from '../../../../electron/host/telemetry/nvml';
import type { Clock } from '../../../../electron/host/telemetry/sampler';
import { root, tempDir } from '../../../support/repo';
import { tracePath } from '../thermal/traces';

const LIB = process.env['KEYMATE_TEST_NVML_LIB'] ?? path.join(root, 'build', 'native', 'tests', 'libkm_test_nvml.so');
const found = addonNvml();
const missing = !fs.existsSync(LIB) ? `${LIB} is not built (npm run test:native builds it)` : found.nvml === null ? found.reason : null;
if (missing !== null && process.env['CI'] === 'true') throw new Error(`telemetry service tests cannot run: ${missing}`);

class ManualClock implements Clock {
  t = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.id, { at: this.t + ms, fn });
    return this.id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

const TIMINGS = { ttft_ms: 5, prefill_ms: 4, decode_tok_s: 100, prompt_tokens: 10, cached_tokens: 0, tokens: 20, host_ms: 0.2, link_ms: null, e2e_ms: 6, stages_ms: null };

/** Watts the fake CPU package draws: its RAPL counter grows by this times the clock's time. */
const CPU_W = 25;

/**
 * A /sys with an x86_pkg_temp zone at 55.5 °C and one RAPL package whose energy_uj follows the
 * clock at CPU_W (written on read, as the kernel would count it); `deny` makes energy_uj root-only.
 */
function fakeSys(clock: ManualClock, deny = false): CpuSensorOptions {
  const root = tempDir('keymate-sys-');
  const files: Record<string, string> = {
    'class/thermal/thermal_zone0/type': 'acpitz',
    'class/thermal/thermal_zone0/temp': '30000',
    'class/thermal/thermal_zone1/type': 'x86_pkg_temp',
    'class/thermal/thermal_zone1/temp': '55500',
    'class/powercap/intel-rapl:0/name': 'package-0',
    'class/powercap/intel-rapl:0/max_energy_range_uj': '262143328850',
    'class/powercap/intel-rapl:0/energy_uj': '0',
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), `${text}\n`);
  }
  const energy = path.join(root, 'class/powercap/intel-rapl:0/energy_uj');
  const t0 = clock.now();
  return {
    root,
    readText: (file) => {
      if (file === energy) {
        if (deny) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
        // 7e9 uJ to start: a counter that has been running since boot.
        fs.writeFileSync(file, `${7e9 + (clock.now() - t0) * CPU_W * 1000}\n`);
      }
      return fs.readFileSync(file, 'utf8');
    },
  };
}

/** The engine's status as the engine service sends it, with a model loaded on `backend`. */
function loaded(backend: string): EngineStatus {
  return {
    state: 'ready',
    model: {
      path: '/models/m.gguf',
      name: 'm',
      architecture: 'llama',
      parameters: 1,
      weight_bytes: 1,
      tensor_types: {},
      context_length: 128,
      vocab: 32,
      layers: 1,
      dim: 8,
      heads: 1,
      kv_heads: 1,
      tokenizer: 'llama',
      chat_template: false,
      thinking_switch: false,
    },
    backend: { name: backend, device: backend === 'cpu' ? 'x86 CPU' : 'a GPU', context: 128, weights: 'native', kv: 'f16' },
    message: null,
  };
}

/** A one-second reply of 20 tokens (TIMINGS). */
function reply(events: HostEvents, clock: ManualClock, pressId: string): void {
  events.emit('reply.start', { press_id: pressId, source: 'request', prompt: 'x', t_ms: Date.now() });
  clock.advance(1000);
  events.emit('reply.done', { press_id: pressId, completion: 'y', thinking: '', stop: 'length', timings: TIMINGS });
}

function rig(thermal: ThermalSettings, nvml = found.nvml, cpu?: (clock: ManualClock) => CpuSensorOptions) {
  const events = new HostEvents((e) => {
    throw e;
  });
  const samples: TelemetrySample[] = [];
  events.subscribe((name, p) => {
    if (name === 'telemetry') samples.push(p as TelemetrySample);
  });
  const clock = new ManualClock();
  const pacing: number[] = [];
  // Without a fake /sys the tests would read this machine's: no CPU readings unless asked for.
  const cpuOptions = cpu === undefined ? null : cpu(clock);
  const service = new TelemetryService(events, {
    home: tempDir('keymate-telemetry-'),
    thermal: () => thermal,
    engine: { setPacing: (ms) => pacing.push(ms), setPause: () => undefined, setCpuFallback: () => undefined },
    notices: new Notices(events),
    nvml,
    library: LIB,
    cpu: cpuOptions,
    clock,
    log: () => undefined,
  });
  return { events, samples, clock, service, pacing };
}

test('samples follow the trace with the policy status; 10 Hz during a reply; its energy; stop() restores the card', { skip: missing ?? false }, async () => {
  process.env['KM_TEST_NVML_TRACE'] = tracePath('hot-plateau.csv');
  const log = path.join(tempDir('keymate-nvml-log-'), 'log');
  process.env['KM_TEST_NVML_LOG'] = log;
  try {
    const { events, samples, clock, service } = rig({ ...DEFAULT_THERMAL, use_driver: true, power_cap_w: 60, preset: 'custom' });
    await service.start();
    clock.advance(3000);
    assert.equal(samples.length, 4, '1 Hz idle: one at start and one a second');
    const s = samples.at(-1);
    assert.ok(s?.available === true);
    assert.equal(s.fans_pct?.length, 1, 'the one fan the addon reads from the test library');
    assert.equal(s.power_limit_min_w, 40);
    assert.ok(s.policy !== undefined);
    await service.settled();

    events.emit('reply.start', { press_id: 'p1', source: 'request', prompt: 'x', t_ms: Date.now() });
    clock.advance(1000);
    events.emit('reply.done', { press_id: 'p1', completion: 'y', thinking: '', stop: 'length', timings: TIMINGS });
    assert.equal(samples.length, 4 + 1 + 10 + 1, 'one at the start, 10 Hz during the second it runs, one at the end');
    const energy = service.takeEnergy('p1');
    assert.ok(energy !== null && energy.energy_j !== null && energy.energy_j > 0, JSON.stringify(energy));
    assert.equal(energy.source, 'counter', 'the test NVML has an energy counter');
    assert.ok(Math.abs((energy.j_per_token ?? 0) - energy.energy_j / 20) < 1e-9);
    assert.equal(service.takeEnergy('p1'), null, 'taken once');

    await service.settled();
    assert.match(service.latest().policy?.enforcement ?? '', /^enforced by the driver/);
    await service.stop();
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'power_limit 0 60000');
    assert.equal(lines.at(-1), 'power_limit 0 80000', 'the default is back after stop()');
  } finally {
    delete process.env['KM_TEST_NVML_TRACE'];
    delete process.env['KM_TEST_NVML_LOG'];
  }
});

test('without NVML every sample says why, and the policy says it is idle', async () => {
  const { samples, clock, service } = rig(DEFAULT_THERMAL, null);
  await service.start();
  clock.advance(1000);
  const s = samples.at(-1);
  assert.equal(s?.available, false);
  assert.ok(s !== undefined && !s.available);
  assert.equal(s.reason, 'telemetry is off');
  assert.match(s.policy?.reason ?? '', /the thermal policy is idle/);
  await service.stop();
});

test('without NVML the samples carry the CPU package, and a reply is charged RAPL energy', async () => {
  const { events, samples, clock, service } = rig(DEFAULT_THERMAL, null, (c) => fakeSys(c));
  await service.start();
  clock.advance(2000);
  const s = samples.at(-1);
  assert.ok(s !== undefined && !s.available, 'the GPU readings are still not available');
  assert.equal(s.reason, 'telemetry is off');
  assert.deepEqual(s.cpu, { temp_c: 55.5, temp_source: 'thermal_zone1 (x86_pkg_temp)', power_w: CPU_W, power_domains: ['intel-rapl:0 (package-0)'], reason: '' });
  assert.equal(samples[0]?.cpu?.power_w, null, 'the first RAPL reading only starts the interval');
  assert.match(samples[0]?.cpu?.reason ?? '', /needs a second one/);

  reply(events, clock, 'p1');
  const energy = service.takeEnergy('p1');
  assert.ok(energy !== null && energy.energy_j !== null, JSON.stringify(energy));
  assert.equal(energy.device, 'cpu');
  assert.equal(energy.source, 'counter', 'RAPL counts energy: exact, not integrated');
  assert.ok(Math.abs(energy.energy_j - CPU_W) < 1e-9, `${CPU_W} W for one second, got ${energy.energy_j} J`);
  assert.ok(Math.abs((energy.j_per_token ?? 0) - CPU_W / 20) < 1e-9);
  await service.stop();
});

test("a reply's opening sample is read at its start but announced after its first visible token; its energy still counts from the start", async () => {
  const { events, samples, clock, service } = rig(DEFAULT_THERMAL, null, (c) => fakeSys(c));
  const order: string[] = [];
  events.subscribe((name) => {
    if (name === 'telemetry' || name === 'reply.token') order.push(name);
  });
  await service.start();
  clock.advance(2000);
  const before = samples.length;
  const startMs = clock.now();
  events.emit('reply.start', { press_id: 'p1', source: 'request', prompt: 'x', t_ms: Date.now() });
  assert.equal(samples.length, before, 'nothing announced between the engine call and its first token');
  assert.equal(service.recent().at(-1)?.t_ms, startMs, 'but read at the start, for the energy count');
  events.emit('reply.token', { press_id: 'p1', index: 0, text: ' ', t_ms: 1 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(samples.length, before, 'a space shows nothing: the word after it goes out first');
  events.emit('reply.token', { press_id: 'p1', index: 1, text: 'y', t_ms: 1 });
  assert.equal(samples.length, before, 'the token goes out first');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order.slice(-2), ['reply.token', 'telemetry']);
  assert.equal(samples.at(-1)?.t_ms, startMs);

  clock.advance(1000);
  events.emit('reply.done', { press_id: 'p1', completion: 'y', thinking: '', stop: 'length', timings: TIMINGS });
  assert.ok(Math.abs((service.takeEnergy('p1')?.energy_j ?? 0) - CPU_W) < 1e-9, 'one second at CPU_W, counted from the start');

  // No token at all (a slow prefill): the next scheduled sample sends the held one first, in order.
  events.emit('reply.start', { press_id: 'p2', source: 'request', prompt: 'x', t_ms: Date.now() });
  const held = samples.length;
  clock.advance(100);
  assert.equal(samples.length, held + 2);
  assert.ok((samples.at(-2)?.t_ms ?? 0) < (samples.at(-1)?.t_ms ?? 0));
  await service.stop();
});

test('energy_uj for root only: CPU power is null with what to do, and the reply is not measured', async () => {
  const { events, samples, clock, service } = rig(DEFAULT_THERMAL, null, (c) => fakeSys(c, true));
  await service.start();
  clock.advance(1000);
  const cpu = samples.at(-1)?.cpu;
  assert.equal(cpu?.temp_c, 55.5, 'the temperature needs no privileges');
  assert.equal(cpu.power_w, null);
  assert.match(cpu.reason, /energy_uj is not readable: permission denied \(root only since Linux 5\.10/);
  reply(events, clock, 'p1');
  assert.deepEqual(service.takeEnergy('p1'), { energy_j: null, j_per_token: null, source: null, device: 'cpu' });
  await service.stop();
});

test('a reply on a GPU backend without NVML is not charged the CPU package energy', async () => {
  const { events, samples, clock, service } = rig(DEFAULT_THERMAL, null, (c) => fakeSys(c));
  await service.start();
  events.emit('engine', loaded('cuda'));
  clock.advance(1000);
  assert.equal(samples.at(-1)?.cpu?.power_w, CPU_W, 'without NVML the CPU readings are all there is to show');
  reply(events, clock, 'p1');
  assert.deepEqual(service.takeEnergy('p1'), { energy_j: null, j_per_token: null, source: null, device: 'gpu' });
  await service.stop();
});

test('with NVML, the CPU readings come with the model on the CPU backend only, and the energy follows the backend', { skip: missing ?? false }, async () => {
  process.env['KM_TEST_NVML_TRACE'] = tracePath('hot-plateau.csv');
  try {
    const { events, samples, clock, service } = rig(DEFAULT_THERMAL, found.nvml, (c) => fakeSys(c));
    await service.start();
    events.emit('engine', loaded('cuda'));
    clock.advance(1000);
    const gpu = samples.at(-1);
    assert.ok(gpu?.available === true);
    assert.equal(gpu.cpu, undefined, 'the GPU does the work: no CPU readings');
    reply(events, clock, 'on-gpu');
    assert.equal(service.takeEnergy('on-gpu')?.device, 'gpu');

    events.emit('engine', loaded('cpu'));
    clock.advance(1000);
    const cpu = samples.at(-1);
    assert.ok(cpu?.available === true, 'the GPU is still read');
    assert.equal(cpu.cpu?.power_w, CPU_W, 'sampled all along, so the power covers one interval');
    reply(events, clock, 'on-cpu');
    const energy = service.takeEnergy('on-cpu');
    assert.equal(energy?.device, 'cpu');
    assert.ok(energy.energy_j !== null && Math.abs(energy.energy_j - CPU_W) < 1e-9, JSON.stringify(energy));
    await service.stop();
  } finally {
    delete process.env['KM_TEST_NVML_TRACE'];
  }
});
