// The settings slice: a save sends only the change, takes the host's answer
// as the settings in force, and a refusal leaves the settings as they were
// with the reason kept.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_SETTINGS, SettingsPatch, type Settings } from '../../../common/contract';
import { settingsPatch } from '../../../renderer/store/settings-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost } from '../fake-host';

test('settingsPatch holds exactly the changed fields', () => {
  const draft: Settings = { ...DEFAULT_SETTINGS, persona: 'Be terse.', max_tokens: 64 };
  assert.deepEqual(settingsPatch(DEFAULT_SETTINGS, draft), { persona: 'Be terse.', max_tokens: 64 });
  assert.deepEqual(settingsPatch(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS }), {});
});

test('saveSettings sends the patch and keeps what the host answers', async () => {
  const h = new FakeHost().handle('settings.set', ({ patch }) => ({ ...DEFAULT_SETTINGS, ...SettingsPatch.parse(patch), seed: 7 }));
  const store = createUiStore(h);
  store.getState().setSettings(DEFAULT_SETTINGS);
  assert.equal(await store.getState().saveSettings({ temperature: 0.7 }), true);
  assert.deepEqual(h.sent, [{ name: 'settings.set', payload: { patch: { temperature: 0.7 } } }]);
  assert.equal(store.getState().settings?.temperature, 0.7);
  assert.equal(store.getState().settings?.seed, 7, "the host's answer wins");
  assert.deepEqual(store.getState().settingsSave, { saving: false, error: null });
});

test('a refused save keeps the settings and says why; an invalid patch never leaves', async () => {
  const h = new FakeHost().handle('settings.set', () => {
    throw new Error('settings: cannot write settings.json: disk full');
  });
  const store = createUiStore(h);
  store.getState().setSettings(DEFAULT_SETTINGS);
  assert.equal(await store.getState().saveSettings({ max_tokens: 16 }), false);
  assert.equal(store.getState().settings?.max_tokens, DEFAULT_SETTINGS.max_tokens);
  assert.equal(store.getState().settingsSave.error, 'settings: cannot write settings.json: disk full');

  assert.equal(await store.getState().saveSettings({ max_tokens: 0 }), false);
  assert.match(store.getState().settingsSave.error ?? '', /^contract: request 'settings\.set': field patch\.max_tokens: too small/);
  assert.equal(h.sent.length, 1, 'the invalid patch was not sent');
});

test('settingsPatch compares the thermal object by value: an edit undone by hand is no change', () => {
  const edited = { ...DEFAULT_SETTINGS, thermal: { ...DEFAULT_SETTINGS.thermal, target_c: 70, preset: 'custom' as const } };
  assert.deepEqual(Object.keys(settingsPatch(DEFAULT_SETTINGS, edited)), ['thermal']);
  assert.deepEqual(settingsPatch(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, thermal: { ...DEFAULT_SETTINGS.thermal } }), {});
});

test('a change to one field of the remote or the API sends that object whole: a patch replaces it', () => {
  const draft: Settings = { ...DEFAULT_SETTINGS, remote: { ...DEFAULT_SETTINGS.remote, url: 'http://gpu-box:8000/v1' } };
  assert.deepEqual(settingsPatch(DEFAULT_SETTINGS, draft), { remote: { enabled: false, url: 'http://gpu-box:8000/v1', model: '' } });
  assert.deepEqual(settingsPatch(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, api: { ...DEFAULT_SETTINGS.api, port: 8090 } }), { api: { enabled: false, port: 8090, lan: false } });
});
