// Port discovery: a named port wins; otherwise USB ids (and serial) pick the port from the
// list. On Linux sysfs is read first and serialport's list() (udevadm) only where sysfs
// fails; elsewhere the other way round; both failing give a reason that tells the user to
// name the port. Nothing here may throw.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { discoverPort, listSysfs, type PortInfo } from '../../firmware-bridge/host/discovery';
import { tempDir } from '../support/repo';

const ports: PortInfo[] = [
  { path: '/dev/ttyS0' },
  { path: '/dev/ttyACM1', vendorId: 0x1209, productId: 0x0001, serialNumber: 'B' },
  { path: '/dev/ttyACM0', vendorId: 0x1209, productId: 0x0001, serialNumber: 'A' },
  { path: '/dev/ttyUSB0', vendorId: 0x0403, productId: 0x6001 },
];
const list = () => Promise.resolve(ports);
const broken = () => Promise.reject(new Error('spawn udevadm ENOENT'));
/** The matching tests list through list() whatever the platform. */
const mac = 'darwin' as const;

test('a named port is used as is, without listing', async () => {
  const r = await discoverPort({ port: '/tmp/kb', list: broken, listSysfs: broken });
  assert.deepEqual(r, { ok: true, path: '/tmp/kb', via: 'path' });
});

test('USB ids pick the first matching port by path; a serial number picks one keyboard', async () => {
  assert.deepEqual(await discoverPort({ list, platform: mac }), { ok: true, path: '/dev/ttyACM0', via: 'usb' });
  assert.deepEqual(await discoverPort({ list, platform: mac, usb: { vendorId: 0x1209, productId: 1, serialNumber: 'B' } }), {
    ok: true,
    path: '/dev/ttyACM1',
    via: 'usb',
  });
  assert.deepEqual(await discoverPort({ list, platform: mac, usb: { vendorId: 0x0403, productId: 0x6001 } }), {
    ok: true,
    path: '/dev/ttyUSB0',
    via: 'usb',
  });
});

test('no match: a reason naming the ids and how many ports were seen', async () => {
  const r = await discoverPort({ list, platform: mac, usb: { vendorId: 0x1209, productId: 1, serialNumber: 'Z' } });
  assert.deepEqual(r, { ok: false, reason: 'no keyboard with USB id 1209:0001 serial Z is plugged in (4 serial ports seen)' });
});

test('on Linux sysfs is read, and list() (a udevadm process) is not run', async () => {
  let runs = 0;
  const counted = () => {
    runs++;
    return list();
  };
  const r = await discoverPort({ list: counted, listSysfs: list, platform: 'linux' });
  assert.deepEqual(r, { ok: true, path: '/dev/ttyACM0', via: 'sysfs' });
  assert.equal(runs, 0);
});

test('on Linux without a readable sysfs, list() answers', async () => {
  const r = await discoverPort({ list, listSysfs: broken, platform: 'linux' });
  assert.deepEqual(r, { ok: true, path: '/dev/ttyACM0', via: 'usb' });
});

test('elsewhere list() answers, and failing (no udevadm) falls back to sysfs', async () => {
  assert.deepEqual(await discoverPort({ list, listSysfs: broken, platform: mac }), { ok: true, path: '/dev/ttyACM0', via: 'usb' });
  assert.deepEqual(await discoverPort({ list: broken, listSysfs: list, platform: mac }), { ok: true, path: '/dev/ttyACM0', via: 'sysfs' });
});

test('list() and sysfs both failing: a clear way out naming what list() lacked, no exception', async () => {
  const noSys = () => Promise.reject(new Error("ENOENT: no such file or directory, scandir '/sys/class/tty'"));
  for (const platform of ['linux', 'darwin'] as const) {
    const r = await discoverPort({ list: broken, listSysfs: noSys, platform });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /^cannot list serial ports \(spawn udevadm ENOENT\); name the keyboard port instead \(--port PATH/);
  }
});

test('the real listers (sysfs first on Linux) answer or fail, and discovery still answers', async () => {
  // Whatever this machine has (sysfs, udevadm, neither), discovery must resolve.
  const r = await discoverPort({ usb: { vendorId: 0x1209, productId: 0x0001, serialNumber: 'no-such-keyboard' } });
  assert.equal(r.ok, false);
});

test('sysfs: ttyACM and ttyUSB ports found with their USB ids and serial; others skipped', async () => {
  const sys = tempDir('keymate-sysfs-');
  const usbDev = path.join(sys, 'devices', 'pci0000:00', 'usb1', '1-2');
  const writeIds = (dir: string, vid: string, pid: string, serial?: string): void => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'idVendor'), vid + '\n');
    fs.writeFileSync(path.join(dir, 'idProduct'), pid + '\n');
    if (serial !== undefined) fs.writeFileSync(path.join(dir, 'serial'), serial + '\n');
  };
  writeIds(usbDev, '1209', '0001', 'KM-42');
  const acmIface = path.join(usbDev, '1-2:1.0');
  fs.mkdirSync(acmIface, { recursive: true });
  const ftdi = path.join(sys, 'devices', 'pci0000:00', 'usb1', '1-3');
  writeIds(ftdi, '0403', '6001');
  const ftdiTty = path.join(ftdi, '1-3:1.0', 'ttyUSB0');
  fs.mkdirSync(ftdiTty, { recursive: true });
  const platform = path.join(sys, 'devices', 'platform', 'serial8250');
  fs.mkdirSync(platform, { recursive: true });
  const cls = path.join(sys, 'class', 'tty');
  for (const [name, target] of [
    ['ttyACM0', acmIface],
    ['ttyUSB0', ftdiTty],
    ['ttyS0', platform],
  ] as const) {
    fs.mkdirSync(path.join(cls, name), { recursive: true });
    fs.symlinkSync(target, path.join(cls, name, 'device'));
  }
  fs.mkdirSync(path.join(cls, 'tty0'), { recursive: true }); // a virtual console: no device link

  assert.deepEqual(await listSysfs(sys, '/dev'), [
    { path: '/dev/ttyACM0', vendorId: 0x1209, productId: 0x0001, serialNumber: 'KM-42' },
    { path: '/dev/ttyUSB0', vendorId: 0x0403, productId: 0x6001 },
  ]);
  await assert.rejects(listSysfs(path.join(sys, 'missing')));
});
