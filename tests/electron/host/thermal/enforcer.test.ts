// The enforcer through the REAL addon against the test NVML (native/tests/
// support/test_nvml.c, built by `npm run test:native`): the set calls it makes
// (KM_TEST_NVML_LOG), the restore journal written before them, the defaults
// put back on restore(); a denied driver (KM_TEST_NVML_DENY) -> pacing and
// the words the UI shows; a journal left by a "crashed" run is played back by
// the next start. The test card: 80 W default limit in [40, 115] W; of its
// fans the addon reads one (the test library leaves out the per-fan
// nvmlDeviceGetFanSpeed_v2 on purpose), so one fan is driven.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';

import { addonNvml, type Nvml } from '../../../../electron/host/telemetry/nvml';
import { type EngineControl, Enforcer, restoreLeftovers } from '../../../../electron/host/thermal/enforcer';
import { JOURNAL_FILE, RestoreJournal } from '../../../../electron/host/thermal/journal';
import type { PolicyActions } from '../../../../electron/host/thermal/policy';
import { root, tempDir } from '../../../support/repo';
import { tracePath } from './traces';

const LIB = process.env['KEYMATE_TEST_NVML_LIB'] ?? path.join(root, 'build', 'native', 'tests', 'libkm_test_nvml.so');
const found = addonNvml();
const missing = !fs.existsSync(LIB) ? `${LIB} is not built (npm run test:native builds it)` : found.nvml === null ? found.reason : null;
if (missing !== null && process.env['CI'] === 'true') throw new Error(`enforcer tests cannot run: ${missing}`);
const skip = missing ?? false;
const nvml = found.nvml as Nvml;

const ENV = ['KM_TEST_NVML_TRACE', 'KM_TEST_NVML_LOG', 'KM_TEST_NVML_DENY', 'KM_TEST_NVML_FANS'];
afterEach(() => {
  if (found.nvml !== null) nvml.nvmlClose();
  for (const name of ENV) delete process.env[name];
});

/** Records what the enforcer asks of the engine. */
class EngineCalls implements EngineControl {
  pacing: number[] = [];
  pause: (string | null)[] = [];
  cpu: (string | null)[] = [];
  setPacing(ms: number): void {
    this.pacing.push(ms);
  }
  setPause(reason: string | null): void {
    this.pause.push(reason);
  }
  setCpuFallback(reason: string | null): void {
    this.cpu.push(reason);
  }
}

function open(env: Record<string, string> = {}) {
  const home = tempDir('keymate-enforcer-');
  const log = path.join(home, 'nvml.log');
  process.env['KM_TEST_NVML_LOG'] = log;
  process.env['KM_TEST_NVML_TRACE'] = tracePath('hot-plateau.csv');
  Object.assign(process.env, env);
  const r = nvml.nvmlOpen(LIB);
  assert.equal(r.available, true, r.reason);
  const journal = new RestoreJournal(home);
  const engine = new EngineCalls();
  const lines = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== '') : []);
  return { home, journal, engine, enforcer: new Enforcer(nvml, journal, engine, 0), lines, journalFile: path.join(home, JOURNAL_FILE) };
}

const actions = (over: Partial<PolicyActions> = {}): PolicyActions => ({ power_limit_w: 60, fan_pct: null, pacing_ms: 0, pause: null, cpu_fallback: null, ...over });

test('the driver path: journal first, then the limit and the fans; restore() puts back the defaults and removes the journal', { skip }, async () => {
  const { enforcer, lines, journalFile, engine } = open();
  const first = nvml.nvmlSample(0);
  assert.equal(first.power_limit_w, 80);
  let e = await enforcer.apply(actions({ fan_pct: 0 }), first, { useDriver: true, generating: false });
  assert.equal(e.text, 'enforced by the driver; fans stopped by the driver');
  assert.deepEqual(lines(), ['power_limit 0 60000', 'fan 0 0 0']);
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { data: { gpu: { power_limit_w: number; fans: number[]; uuid: string } } };
  assert.equal(journal.data.gpu.power_limit_w, 80, 'the limit before the change');
  assert.deepEqual(journal.data.gpu.fans, [0]);
  assert.equal(journal.data.gpu.uuid, first.uuid);

  // The same actions again: nothing new is written to the card.
  const second = nvml.nvmlSample(0);
  assert.equal(second.power_limit_w, 60);
  assert.ok((second.power_w ?? Infinity) <= 60, `the card holds the cap: ${second.power_w} W`);
  e = await enforcer.apply(actions({ fan_pct: 0 }), second, { useDriver: true, generating: true });
  assert.equal(lines().length, 2);
  assert.equal(e.pacing_ms, 0, 'the driver holds the cap: no pacing');

  // A cap under the card's floor (40 W) is held at the floor.
  e = await enforcer.apply(actions({ power_limit_w: 20 }), nvml.nvmlSample(0), { useDriver: true, generating: false });
  assert.match(e.text, /^enforced by the driver \(the 20 W cap is under this GPU's lowest limit: held at 40 W\)$/);
  assert.deepEqual(lines().slice(2), ['power_limit 0 40000', 'fan_auto 0 0'], 'fan stop lifted: the fan goes back');

  await enforcer.restore();
  assert.deepEqual(lines().slice(-1), ['power_limit 0 80000']);
  assert.equal(nvml.nvmlSample(0).power_limit_w, 80);
  assert.ok(!fs.existsSync(journalFile), 'nothing left to restore');
  assert.deepEqual(engine.pacing, [], 'heat and gamer pacing were 0 throughout');
});

test('driver use off in Settings: the card is not touched, the cap is held by pacing, and the UI says why', { skip }, async () => {
  const { enforcer, lines, journalFile, engine } = open();
  let pacing = 0;
  for (let i = 0; i < 5; i++) {
    const s = nvml.nvmlSample(0);
    const e = await enforcer.apply(actions({ power_limit_w: 50, fan_pct: 0 }), s, { useDriver: false, generating: true });
    assert.equal(e.text, "enforced by pacing: changing the GPU's settings is off in Settings; fans left running: changing the GPU's settings is off in Settings");
    pacing = e.pacing_ms;
  }
  assert.ok(pacing > 0, 'the trace draws ~90 W against a 50 W cap: paced');
  assert.deepEqual(lines(), []);
  assert.ok(!fs.existsSync(journalFile));
  assert.equal(engine.pacing.at(-1), pacing);
});

test('KM_TEST_NVML_DENY: the set call is refused, pacing takes over and says so, and nothing is retried', { skip }, async () => {
  const { enforcer, lines, journalFile } = open({ KM_TEST_NVML_DENY: '1' });
  const e = await enforcer.apply(actions(), nvml.nvmlSample(0), { useDriver: true, generating: true });
  assert.equal(e.text, 'enforced by pacing: no permission to set the power limit');
  assert.deepEqual(lines(), ['power_limit 0 60000 denied']);
  const again = await enforcer.apply(actions(), nvml.nvmlSample(0), { useDriver: true, generating: true });
  assert.equal(again.text, 'enforced by pacing: no permission to set the power limit');
  assert.equal(lines().length, 1, 'a denied setter is not called at every sample');
  assert.ok(again.pacing_ms > 0);
  await enforcer.restore();
  assert.ok(!fs.existsSync(journalFile), 'nothing was changed, nothing to restore');
});

test('heat and gamer actions go to the engine: pacing, pause, CPU fallback, each said once', { skip }, async () => {
  const { enforcer, engine } = open();
  const s = nvml.nvmlSample(0);
  const opts = { useDriver: false, generating: false };
  await enforcer.apply(actions({ power_limit_w: null, pacing_ms: 50 }), s, opts);
  await enforcer.apply(actions({ power_limit_w: null, pacing_ms: 50 }), s, opts);
  await enforcer.apply(actions({ power_limit_w: null, pacing_ms: 250, pause: 'too hot' }), s, opts);
  await enforcer.apply(actions({ power_limit_w: null, cpu_fallback: 'too hot' }), s, opts);
  await enforcer.restore();
  assert.deepEqual(engine.pacing, [50, 250, 0]);
  assert.deepEqual(engine.pause, ['too hot', null]);
  assert.deepEqual(engine.cpu, ['too hot', null]);
});

test('a journal left by a run that crashed is played back at the next start', { skip }, async () => {
  const { enforcer, lines, journalFile, journal } = open();
  await enforcer.apply(actions({ power_limit_w: 70, fan_pct: 0 }), nvml.nvmlSample(0), { useDriver: true, generating: false });
  assert.ok(fs.existsSync(journalFile));
  // The "crash": the process goes away without restore(); NVML closes with it.
  nvml.nvmlClose();

  // The next start: the card (a fresh test NVML) is as the crashed run left it as far as
  // the journal knows; playing it back restores the limit it recorded and gives the fans back.
  const r = nvml.nvmlOpen(LIB);
  const done = await restoreLeftovers(nvml, journal, r.gpus);
  assert.equal(done?.level, 'info');
  assert.match(done?.message ?? '', /restored the power limit back to 80 W and 1 fan back to the driver's control/);
  assert.deepEqual(lines().slice(-2), ['power_limit 0 80000', 'fan_auto 0 0']);
  assert.ok(!fs.existsSync(journalFile));
  assert.equal(await restoreLeftovers(nvml, journal, r.gpus), null, 'once restored, nothing more to do');
});

test('a journal naming a GPU that is not here is dropped with a warning', { skip }, async () => {
  const { journal, lines } = open();
  await journal.write({ uuid: 'GPU-not-this-one', index: 0, power_limit_w: 70, fans: [] });
  const done = await restoreLeftovers(nvml, journal, 1);
  assert.equal(done?.level, 'warning');
  assert.match(done?.message ?? '', /is not here any more; nothing was restored/);
  assert.deepEqual(lines(), []);
});
