import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { modelsFolder, resolveDataHome } from '../../common/data-home';

test('KEYMATE_HOME wins everywhere', () => {
  for (const platform of ['linux', 'darwin', 'win32']) {
    assert.equal(resolveDataHome({ env: { KEYMATE_HOME: '/data/km', APPDATA: 'C:\\x' }, platform, homedir: '/home/u' }), '/data/km');
  }
});

test('an empty KEYMATE_HOME counts as unset', () => {
  assert.equal(resolveDataHome({ env: { KEYMATE_HOME: '' }, platform: 'linux', homedir: '/home/u' }), '/home/u/.config/Keymate');
});

test("Linux follows XDG_CONFIG_HOME like Electron's appData, ignoring relative values", () => {
  assert.equal(resolveDataHome({ env: {}, platform: 'linux', homedir: '/home/u/' }), '/home/u/.config/Keymate');
  assert.equal(resolveDataHome({ env: { XDG_CONFIG_HOME: '/xdg' }, platform: 'linux', homedir: '/home/u' }), '/xdg/Keymate');
  assert.equal(resolveDataHome({ env: { XDG_CONFIG_HOME: 'rel' }, platform: 'linux', homedir: '/home/u' }), '/home/u/.config/Keymate');
});

test('macOS and Windows use their application-data folders', () => {
  assert.equal(resolveDataHome({ env: {}, platform: 'darwin', homedir: '/Users/u' }), '/Users/u/Library/Application Support/Keymate');
  assert.equal(resolveDataHome({ env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform: 'win32', homedir: 'C:\\Users\\u' }), 'C:\\Users\\u\\AppData\\Roaming\\Keymate');
  assert.equal(resolveDataHome({ env: {}, platform: 'win32', homedir: 'C:\\Users\\u' }), 'C:\\Users\\u\\AppData\\Roaming\\Keymate');
});

test('models live in models/ below the data home', () => {
  assert.equal(modelsFolder('/data/km', 'linux'), '/data/km/models');
  assert.equal(modelsFolder('C:\\km', 'win32'), 'C:\\km\\models');
});
