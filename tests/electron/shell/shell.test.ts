// The parts of the Electron shell that run without Electron: who may call the
// host over IPC, `npm start` without the Electron binary, and the
// electron-builder configuration (checked against electron-builder's own
// schema, with the addon kept out of the asar).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';

import { findElectronBinary } from '../../../electron/shell/electron-binary';
import { isTrustedSender } from '../../../electron/shell/sender';
import { root, tempDir } from '../../support/repo';

test('IPC: only the window itself, its top frame, showing app://keymate', () => {
  const page = { url: 'app://keymate/index.html', parent: null };
  assert.equal(isTrustedSender(7, page, [7]), true);
  assert.equal(isTrustedSender(8, page, [7]), false, 'another webContents');
  assert.equal(isTrustedSender(9, page, [7, 9]), true, 'the overlay window');
  assert.equal(isTrustedSender(7, page, []), false, 'no window');
  assert.equal(isTrustedSender(7, null, [7]), false, 'frame already gone');
  assert.equal(isTrustedSender(7, { url: 'app://keymate/x', parent: {} }, [7]), false, 'an iframe');
  assert.equal(isTrustedSender(7, { url: 'https://example.com/', parent: null }, [7]), false, 'navigated away');
  assert.equal(isTrustedSender(7, { url: 'app://keymate.evil/', parent: null }, [7]), false);
  assert.equal(isTrustedSender(7, { url: 'file:///index.html', parent: null }, [7]), false);
  assert.equal(isTrustedSender(7, { url: 'not a url', parent: null }, [7]), false);
});

test('the Electron binary is found as the electron package finds it, without starting a download', () => {
  const pkg = tempDir('keymate-electron-');
  assert.deepEqual(findElectronBinary(pkg, {}), { ok: false, reason: `the Electron binary was never downloaded (no ${path.join(pkg, 'path.txt')})` });
  fs.writeFileSync(path.join(pkg, 'path.txt'), 'electron');
  assert.deepEqual(findElectronBinary(pkg, {}), { ok: false, reason: `the Electron binary is missing (${path.join(pkg, 'dist', 'electron')})` });
  fs.mkdirSync(path.join(pkg, 'dist'));
  fs.writeFileSync(path.join(pkg, 'dist', 'electron'), '');
  assert.deepEqual(findElectronBinary(pkg, {}), { ok: true, path: path.join(pkg, 'dist', 'electron') });
  assert.deepEqual(findElectronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent-electron' }), {
    ok: false,
    reason: 'the Electron binary is missing (/nonexistent-electron/electron)',
  });
});

test('npm start without the Electron binary fails with what to do instead', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'electron', 'shell', 'start.js')], {
    env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent-electron' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^keymate start: cannot start the app: the Electron binary is missing \(\/nonexistent-electron\/electron/);
  assert.match(r.stderr, /npm run serve/);
});

test('electron-builder.yml passes electron-builder\'s own schema, and keeps the addon outside the asar', async () => {
  // electron-builder's own loader and validator (devDependencies), not a copy of its rules.
  const load = createRequire(__filename);
  const yaml = load('js-yaml') as { load: (text: string) => unknown };
  const { validateConfiguration } = load('app-builder-lib/out/util/config/config') as {
    validateConfiguration: (config: unknown, logger: unknown) => Promise<void>;
  };
  const { DebugLogger } = load('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
  await validateConfiguration(config, new DebugLogger(false));
  assert.ok((config['asarUnpack'] as string[]).includes('build/addon/Release/**'));
  assert.deepEqual((config['linux'] as { target: string[] }).target, ['AppImage', 'deb']);
  assert.deepEqual((config['win'] as { target: string[] }).target, ['nsis']);
  assert.equal((config['extraMetadata'] as { main: string }).main, 'dist/electron/shell/main.js');
  assert.ok(fs.existsSync(path.join(root, 'electron', 'shell', 'main.ts')));
  await assert.rejects(validateConfiguration({ ...config, asarUnpackk: [] }, new DebugLogger(false)), /asarUnpackk/);
});
