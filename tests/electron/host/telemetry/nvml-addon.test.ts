// The addon's NVML functions against the test NVML (native/tests/support/
// test_nvml.c, built by `npm run test:native` into build/native/tests/), a
// real shared library loaded through the same dlopen path as the driver's:
// opening and why not, samples that follow a scripted trace, set calls as the
// library logs them, a denial as a clear error, and the optional entry points
// it leaves out on purpose. Set functions are only ever called against it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';

import { loadAddon } from '../../../../electron/host/engine/load-addon';
import { root, tempDir } from '../../../support/repo';

const LIB = process.env['KEYMATE_TEST_NVML_LIB'] ?? path.join(root, 'build', 'native', 'tests', 'libkm_test_nvml.so');
const built = fs.existsSync(LIB);
if (!built && process.env['CI'] === 'true') {
  throw new Error(`${LIB} is missing: npm run test:native builds it before the node tests`);
}
const skip = built ? false : `${LIB} is not built (npm run test:native builds it)`;

const addon = loadAddon();
const dir = tempDir('keymate-nvml-');
const SCRIPT_ENV = ['KM_TEST_NVML_TRACE', 'KM_TEST_NVML_LOG', 'KM_TEST_NVML_DENY', 'KM_TEST_NVML_FANS', 'KEYMATE_NVML_LIB'];

afterEach(() => {
  addon.nvmlClose();
  for (const name of SCRIPT_ENV) delete process.env[name];
});

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const TRACE = [
  '# t_ms,temp_c,power_w,fan_pct,util_pct,procs (made by hand for this test)',
  't_ms,temp_c,power_w,fan_pct,util_pct,procs',
  '0,38,15,0,0,',
  '100,61,95,55,97,5151:2048;g808:700',
  '200,,40,,20,',
].join('\n');

test('a library that cannot be loaded is available:false with the reason, and sampling says NVML is not open', () => {
  const r = addon.nvmlOpen('/nonexistent/libnvidia-ml.so.1');
  assert.equal(r.available, false);
  assert.equal(r.gpus, 0);
  assert.equal(r.library, null);
  assert.match(r.reason, /^\/nonexistent\/libnvidia-ml\.so\.1 cannot be loaded: /);
  assert.throws(() => addon.nvmlSample(0), /^Error: nvmlSample: NVML is not open \(call nvmlOpen\(\) first\)$/);
});

test('KEYMATE_NVML_LIB names the library; missing optional entry points are listed and tolerated', { skip }, () => {
  process.env['KEYMATE_NVML_LIB'] = LIB;
  const r = addon.nvmlOpen();
  assert.equal(r.available, true, r.reason);
  assert.equal(r.reason, '');
  assert.equal(r.gpus, 1);
  assert.equal(r.driver, '0.0.0-keymate-test');
  assert.ok(r.library?.endsWith('libkm_test_nvml.so'), String(r.library));
  assert.ok(r.missing.includes('nvmlDeviceGetFanSpeed_v2'));
  const s = addon.nvmlSample(0);
  assert.equal(s.fans_pct.length, 1);  // fan 0 through the old call, of the GPU's 2
  assert.deepEqual(s.caps, { read_power: true, set_power_limit: true, set_fans: true });
});

test('samples follow the trace, one row per sample; a dropout is null, not 0', { skip }, () => {
  process.env['KM_TEST_NVML_TRACE'] = file('trace.csv', TRACE);
  assert.equal(addon.nvmlOpen(LIB).available, true);

  const a = addon.nvmlSample(0);
  assert.equal(a.name, 'Keymate Test GPU 0');
  assert.equal(a.temp_c, 38);
  assert.equal(a.power_w, 15);
  assert.equal(a.energy_mj, 0);
  assert.deepEqual(a.fans_pct, [0]);
  assert.deepEqual(a.throttle, ['idle']);
  assert.deepEqual([a.power_limit_w, a.power_limit_default_w, a.power_limit_min_w, a.power_limit_max_w], [80, 80, 40, 115]);
  assert.deepEqual([a.temp_slowdown_c, a.temp_shutdown_c, a.temp_max_gpu_c], [102, 105, 87]);

  const b = addon.nvmlSample(0);
  assert.equal(b.temp_c, 61);
  assert.equal(b.power_w, 80);  // 95 W asked, held at the 80 W limit
  assert.equal(b.power_avg_w, (15 + 80) / 2);
  assert.equal(b.energy_mj, 15 * 100);
  assert.deepEqual(b.throttle, ['power-cap']);
  assert.equal(b.util_gpu_pct, 97);
  assert.deepEqual(b.processes, [
    { pid: 5151, used_mb: 2048, kind: 'compute' },
    { pid: 808, used_mb: 700, kind: 'graphics' },
  ]);
  assert.equal(b.mem_used_mb, 512 + 2048 + 700);
  assert.equal(b.mem_total_mb, 8192);

  const c = addon.nvmlSample(0);
  assert.equal(c.temp_c, null);
  assert.deepEqual(c.fans_pct, []);
  assert.equal(c.power_w, 40);
  assert.equal(c.energy_mj, 15 * 100 + 80 * 100);
});

test('set calls reach the library, are logged, and read back; fans go back to automatic', { skip }, () => {
  const log = file('set.log', '');
  process.env['KM_TEST_NVML_TRACE'] = file('trace2.csv', TRACE);
  process.env['KM_TEST_NVML_LOG'] = log;
  addon.nvmlOpen(LIB);
  addon.nvmlSetPowerLimit(0, 65);
  addon.nvmlSetFanSpeed(0, 0, 35);
  const s = addon.nvmlSample(0);
  assert.equal(s.power_limit_w, 65);
  assert.deepEqual(s.fans_pct, [35]);
  addon.nvmlRestoreFan(0, 0);
  addon.nvmlSetPowerLimit(0, 80);
  assert.deepEqual(addon.nvmlSample(0).fans_pct, [55]);
  assert.equal(fs.readFileSync(log, 'utf8'), 'power_limit 0 65000\nfan 0 0 35\nfan_auto 0 0\npower_limit 0 80000\n');
  assert.throws(() => addon.nvmlSetPowerLimit(0, 500), /^Error: nvml: GPU 0: setting the power limit to 500 W: outside this GPU's range \[40, 115\] W$/);
  assert.throws(() => addon.nvmlSetFanSpeed(0, 7, 50), /fan 7 does not exist \(this GPU has 2\)/);
});

test('without permission a set throws one clear line and changes nothing', { skip }, () => {
  const log = file('deny.log', '');
  process.env['KM_TEST_NVML_LOG'] = log;
  process.env['KM_TEST_NVML_DENY'] = '1';
  addon.nvmlOpen(LIB);
  assert.throws(
    () => addon.nvmlSetPowerLimit(0, 60),
    /^Error: nvml: GPU 0: setting the power limit to 60 W: no permission \(run as root, or have an administrator set it with nvidia-smi\)$/,
  );
  assert.throws(() => addon.nvmlSetFanSpeed(0, 1, 20), /setting fan 1 to 20%: no permission/);
  assert.throws(() => addon.nvmlRestoreFan(0, 1), /giving fan 1 back to the driver: no permission/);
  assert.equal(addon.nvmlSample(0).power_limit_w, 80);
  assert.equal(fs.readFileSync(log, 'utf8'), 'power_limit 0 60000 denied\nfan 0 1 20 denied\nfan_auto 0 1 denied\n');
});

test('a GPU without fan sensors has no fans; bad arguments are refused on the JS thread', { skip }, () => {
  process.env['KM_TEST_NVML_FANS'] = '0';
  addon.nvmlOpen(LIB);
  const s = addon.nvmlSample(0);
  assert.deepEqual(s.fans_pct, []);
  assert.equal(s.caps.set_fans, false);
  assert.throws(() => addon.nvmlSample(3), /^Error: nvml: sample: GPU 3 does not exist \(this machine has 1: 0 to 0\)$/);
  assert.throws(() => addon.nvmlSample(-1), RangeError);
  assert.throws(() => addon.nvmlSample(0.5), RangeError);
  assert.throws(() => addon.nvmlSetFanSpeed(0, 0, 101), RangeError);
  assert.throws(() => addon.nvmlSetPowerLimit(0, Number('x')), /must be a positive number of watts/);
  assert.throws(() => (addon.nvmlOpen as (p: unknown) => unknown)(42), TypeError);
});
