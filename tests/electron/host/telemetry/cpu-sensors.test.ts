// CpuSensors on folders laid out like /sys: which thermal zone is the CPU's,
// the hwmon fallback, RAPL power over an interval with the counter's wrap,
// the package energy counter that never wraps, and every unreadable reading
// as null with the reason.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { CpuSensors } from '../../../../electron/host/telemetry/cpu-sensors';
import { tempDir } from '../../../support/repo';

/** Writes files under a fresh sys root: { 'class/thermal/thermal_zone0/type': 'acpitz', ... }. */
function sys(files: Record<string, string>): string {
  const root = tempDir('keymate-sys-');
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${text}\n`);
  }
  return root;
}

/** A clock the test moves by hand. */
function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('the x86_pkg_temp zone wins over acpitz and unrelated zones', () => {
  const root = sys({
    'class/thermal/thermal_zone0/type': 'acpitz',
    'class/thermal/thermal_zone0/temp': '27800',
    'class/thermal/thermal_zone1/type': 'iwlwifi_1',
    'class/thermal/thermal_zone1/temp': '41000',
    'class/thermal/thermal_zone2/type': 'x86_pkg_temp',
    'class/thermal/thermal_zone2/temp': '52500',
  });
  assert.deepEqual(new CpuSensors({ root }).temperature(), { temp_c: 52.5, source: 'thermal_zone2 (x86_pkg_temp)', reason: '' });
});

test('an AMD machine reads k10temp through hwmon; acpitz is only the last resort', () => {
  const root = sys({
    'class/thermal/thermal_zone0/type': 'acpitz',
    'class/thermal/thermal_zone0/temp': '16800',
    'class/hwmon/hwmon0/name': 'nvme',
    'class/hwmon/hwmon0/temp1_input': '35850',
    'class/hwmon/hwmon3/name': 'k10temp',
    'class/hwmon/hwmon3/temp1_input': '61250',
  });
  assert.deepEqual(new CpuSensors({ root }).temperature(), { temp_c: 61.25, source: 'hwmon3 (k10temp)', reason: '' });
  const onlyAcpi = sys({ 'class/thermal/thermal_zone0/type': 'acpitz', 'class/thermal/thermal_zone0/temp': '16800' });
  assert.equal(new CpuSensors({ root: onlyAcpi }).temperature().temp_c, 16.8);
});

test('no sensor, a garbage reading and a permission error are null with the reason', () => {
  const none = new CpuSensors({ root: sys({ 'class/thermal/thermal_zone0/type': 'iwlwifi_1', 'class/thermal/thermal_zone0/temp': '40000' }) });
  assert.deepEqual(none.temperature(), { temp_c: null, source: null, reason: 'no CPU temperature sensor in /sys/class/thermal or /sys/class/hwmon' });

  const garbage = sys({ 'class/thermal/thermal_zone0/type': 'x86_pkg_temp', 'class/thermal/thermal_zone0/temp': '-273000' });
  assert.match(new CpuSensors({ root: garbage }).temperature().reason, /'-273000' is not a temperature/);

  // Tests run as root here, where chmod cannot deny a read: the reader scripts the error.
  const root = sys({ 'class/thermal/thermal_zone0/type': 'x86_pkg_temp', 'class/thermal/thermal_zone0/temp': '50000' });
  const denied = new CpuSensors({
    root,
    readText: (file) => {
      if (file.endsWith('temp')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return fs.readFileSync(file, 'utf8');
    },
  });
  const t = denied.temperature();
  assert.equal(t.temp_c, null);
  assert.equal(t.source, 'thermal_zone0 (x86_pkg_temp)');
  assert.match(t.reason, /thermal_zone0\/temp is not readable: permission denied$/);
});

test('a machine without a sensor is searched once, not at every sample (a sample rides on a key press)', () => {
  const root = sys({ 'class/thermal/thermal_zone0/type': 'iwlwifi_1', 'class/thermal/thermal_zone0/temp': '40000' });
  const sensors = new CpuSensors({ root });
  assert.equal(sensors.temperature().temp_c, null);
  // A zone that appears later is not looked for: the search already answered "none".
  fs.mkdirSync(path.join(root, 'class/thermal/thermal_zone1'));
  fs.writeFileSync(path.join(root, 'class/thermal/thermal_zone1/type'), 'x86_pkg_temp\n');
  fs.writeFileSync(path.join(root, 'class/thermal/thermal_zone1/temp'), '50000\n');
  assert.equal(sensors.temperature().temp_c, null);
  assert.equal(new CpuSensors({ root }).temperature().temp_c, 50);
});

test('RAPL power is the energy of every package over the interval; cores and psys are not counted twice', () => {
  const root = sys({
    'class/powercap/intel-rapl:0/name': 'package-0',
    'class/powercap/intel-rapl:0/energy_uj': '1000000',
    'class/powercap/intel-rapl:0/max_energy_range_uj': '262143328850',
    'class/powercap/intel-rapl:0:0/name': 'core',
    'class/powercap/intel-rapl:0:0/energy_uj': '500000',
    'class/powercap/intel-rapl:1/name': 'package-1',
    'class/powercap/intel-rapl:1/energy_uj': '2000000',
    'class/powercap/intel-rapl:2/name': 'psys',
    'class/powercap/intel-rapl:2/energy_uj': '9000000',
  });
  const c = clock();
  const s = new CpuSensors({ root, now: c.now });
  const first = s.power();
  assert.equal(first.power_w, null);
  assert.match(first.reason, /needs a second one/);
  assert.deepEqual(first.domains, ['intel-rapl:0 (package-0)', 'intel-rapl:1 (package-1)']);
  // 500 ms later: +10 J on package 0, +5 J on package 1 -> 15 J / 0.5 s = 30 W.
  fs.writeFileSync(path.join(root, 'class/powercap/intel-rapl:0/energy_uj'), '11000000\n');
  fs.writeFileSync(path.join(root, 'class/powercap/intel-rapl:1/energy_uj'), '7000000\n');
  fs.writeFileSync(path.join(root, 'class/powercap/intel-rapl:2/energy_uj'), '99000000\n');
  c.advance(500);
  const second = s.power();
  assert.equal(second.reason, '');
  assert.ok(second.power_w !== null && Math.abs(second.power_w - 30) < 1e-9, `power ${second.power_w}`);
  assert.equal(first.energy_mj, 0, 'the energy count starts at the first reading');
  assert.equal(second.energy_mj, 15_000, 'both packages, neither core nor psys');
});

test('a wrapped RAPL counter counts from max_energy_range_uj', () => {
  const root = sys({
    'class/powercap/intel-rapl:0/name': 'package-0',
    'class/powercap/intel-rapl:0/energy_uj': '999000',
    'class/powercap/intel-rapl:0/max_energy_range_uj': '1000000',
  });
  const c = clock();
  const s = new CpuSensors({ root, now: c.now });
  s.power();
  // 1000 uJ to the wrap, then 4000 more: 5 mJ in 100 ms = 0.05 W.
  fs.writeFileSync(path.join(root, 'class/powercap/intel-rapl:0/energy_uj'), '4000\n');
  c.advance(100);
  const p = s.power();
  assert.ok(p.power_w !== null && Math.abs(p.power_w - 0.05) < 1e-12, `power ${p.power_w}`);
  assert.equal(p.energy_mj, 5, 'the energy count goes on across the wrap');
});

test('a wrap that cannot be undone stops the energy count for good; power goes on', () => {
  const root = sys({ 'class/powercap/intel-rapl:0/name': 'package-0', 'class/powercap/intel-rapl:0/energy_uj': '999000' });
  const energy = path.join(root, 'class/powercap/intel-rapl:0/energy_uj');
  const c = clock();
  const s = new CpuSensors({ root, now: c.now });
  s.power();
  fs.writeFileSync(energy, '4000\n');
  c.advance(100);
  const lost = s.power();
  assert.equal(lost.power_w, null);
  assert.equal(lost.energy_mj, null);
  assert.match(lost.reason, /wrapped and max_energy_range_uj is unreadable/);
  fs.writeFileSync(energy, '104000\n');
  c.advance(100);
  const after = s.power();
  assert.ok(after.power_w !== null && Math.abs(after.power_w - 1) < 1e-12, `power ${after.power_w}`);
  assert.equal(after.energy_mj, null, 'a count that missed a wrap would understate every reply after it');
  assert.match(after.reason, /energy is not counted/);
});

test('a garbage count is dropped; the interval runs from the last good reading', () => {
  const root = sys({ 'class/powercap/intel-rapl:0/name': 'package-0', 'class/powercap/intel-rapl:0/energy_uj': '1000000' });
  const energy = path.join(root, 'class/powercap/intel-rapl:0/energy_uj');
  const c = clock();
  const s = new CpuSensors({ root, now: c.now });
  s.power();
  fs.writeFileSync(energy, 'oops\n');
  c.advance(500);
  const bad = s.power();
  assert.equal(bad.power_w, null);
  assert.match(bad.reason, /'oops' is not an energy count/);
  fs.writeFileSync(energy, '3000000\n');
  c.advance(500);
  const good = s.power();
  assert.ok(good.power_w !== null && Math.abs(good.power_w - 2) < 1e-12, '2 J over the whole second');
  assert.equal(good.energy_mj, 2000);
});

test('energy_uj readable by root only is null with what to do; no RAPL at all says so', () => {
  const root = sys({ 'class/powercap/intel-rapl:0/name': 'package-0', 'class/powercap/intel-rapl:0/energy_uj': '1' });
  const s = new CpuSensors({
    root,
    readText: (file) => {
      if (file.endsWith('energy_uj')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return fs.readFileSync(file, 'utf8');
    },
  });
  const p = s.power();
  assert.equal(p.power_w, null);
  assert.match(p.reason, /intel-rapl:0\/energy_uj is not readable: permission denied \(root only since Linux 5\.10: run as root/);
  assert.equal(p.energy_mj, null);
  assert.deepEqual(new CpuSensors({ root: sys({}) }).power(), { power_w: null, energy_mj: null, domains: [], reason: 'no RAPL package domain in /sys/class/powercap' });
});

test('on this machine, every reading is a number or null with a reason (never a throw)', () => {
  const s = new CpuSensors();
  const t = s.temperature();
  assert.ok(t.temp_c !== null || t.reason !== '');
  s.power();
  const p = s.power();
  assert.ok(p.power_w !== null || p.reason !== '');
});
