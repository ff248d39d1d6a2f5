// The settings store, the record logs and the writer under them: updates are
// checked before they are kept, saves are acknowledged only once on disk,
// concurrent saves coalesce without ever writing an older state last, and a
// corrupt settings file is set aside for a notice.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_SETTINGS, DEFAULT_THERMAL, type HistoryEntry, SETTINGS_VERSION } from '../../../../common/contract';
import { writeFileAtomic } from '../../../../electron/host/storage/atomic-file';
import { SerialWriter } from '../../../../electron/host/storage/serial-writer';
import { SettingsStore } from '../../../../electron/host/storage/settings-store';
import { HISTORY_CAP, openHistory } from '../../../../electron/host/storage/stores';
import { tempDir } from '../../../support/repo';

test('settings: defaults at first, an update is on disk when it resolves, and reloads', async () => {
  const home = tempDir();
  const { store, loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'created');
  assert.deepEqual(store.get(), DEFAULT_SETTINGS);
  const after = await store.update({ persona: 'Be terse.', max_tokens: 64 });
  assert.equal(after.persona, 'Be terse.');
  const onDisk = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')) as { version: number; data: { persona: string } };
  assert.equal(onDisk.version, SETTINGS_VERSION);
  assert.equal(onDisk.data.persona, 'Be terse.');
  const again = await SettingsStore.open(home);
  assert.equal(again.loaded.status, 'loaded');
  assert.deepEqual(again.store.get(), after);
});

test('settings: an invalid update is refused and changes nothing', async () => {
  const home = tempDir();
  const { store } = await SettingsStore.open(home);
  await assert.rejects(store.update({ max_tokens: 0 }), /max_tokens/);
  assert.deepEqual(store.get(), DEFAULT_SETTINGS);
  assert.ok(!fs.existsSync(path.join(home, 'settings.json')));
});

test('settings: a corrupt file is set aside, and the store starts from the defaults', async () => {
  const home = tempDir();
  fs.writeFileSync(path.join(home, 'settings.json'), '{"format":"keymate-settings","version":1,"data":{"kv":"int9"');
  const { store, loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'kept-aside');
  assert.match(loaded.keptAs ?? '', /settings\.json\.corrupt-/);
  assert.ok(fs.existsSync(loaded.keptAs ?? ''));
  assert.deepEqual(store.get(), DEFAULT_SETTINGS);
});

test('settings: one bad field resets that field only; the rest are kept, the old file set aside, and the repair written back', async () => {
  const home = tempDir();
  const data = {
    ...DEFAULT_SETTINGS,
    persona: 'You are a pirate.',
    max_tokens: 64,
    top_p: 5,
    thermal: { ...DEFAULT_THERMAL, target_c: 500, gamer_pacing_ms: 30 },
    colour: 'blue',
  };
  fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ format: 'keymate-settings', version: SETTINGS_VERSION, data }));
  const { store, loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'repaired');
  assert.deepEqual(loaded.reset, ['top_p', 'thermal.target_c', 'colour (unknown)']);
  assert.ok(fs.existsSync(loaded.keptAs ?? ''), 'the file as it was is kept');
  const s = store.get();
  assert.equal(s.persona, 'You are a pirate.');
  assert.equal(s.max_tokens, 64);
  assert.equal(s.top_p, DEFAULT_SETTINGS.top_p);
  assert.equal(s.thermal.target_c, DEFAULT_THERMAL.target_c);
  assert.equal(s.thermal.gamer_pacing_ms, 30);
  const reopened = await SettingsStore.open(home);
  assert.equal(reopened.loaded.status, 'loaded');
  assert.deepEqual(reopened.store.get(), s);
});

test('settings: a corrupt file\'s bytes reach the message escaped and cut short, never raw', async () => {
  const home = tempDir();
  const hostile = '\u001b[2J\u001b]0;pwned\u0007' + 'x\r\n'.repeat(500) + '\u0000\u00ff';
  fs.writeFileSync(path.join(home, 'settings.json'), hostile);
  const { loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'kept-aside');
  const problem = loaded.problem ?? '';
  assert.match(problem, /^not valid JSON/);
  assert.ok(![...problem].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'no control characters');
  assert.ok(problem.length < 200, `${problem.length} characters`);
  assert.match(problem, /\\x1b/);
});

test('settings: an unreadable store refuses every update with the reason', async () => {
  const store = SettingsStore.unreadable(tempDir(), 'settings.json: cannot be read: EACCES');
  await assert.rejects(store.update({ persona: 'x' }), /^Error: settings: not saved: settings\.json: cannot be read: EACCES$/);
  assert.deepEqual(store.get(), DEFAULT_SETTINGS);
});

function entry(n: number): HistoryEntry {
  return { press_id: `p${n}`, t_ms: n, source: 'screen', prompt: `q${n}`, completion: `a${n}`, stop: 'eos', model: 'm', ttft_ms: 1, tokens: 1 };
}

test('history: newest first, capped, cleared, and the same after a reload', async () => {
  const home = tempDir();
  const { log } = await openHistory(home);
  await Promise.all(Array.from({ length: HISTORY_CAP + 5 }, (_, i) => log.append(entry(i))));
  assert.equal(log.size, HISTORY_CAP);
  assert.deepEqual(log.list(2).map((e) => e.press_id), [`p${HISTORY_CAP + 4}`, `p${HISTORY_CAP + 3}`]);
  const reloaded = (await openHistory(home)).log;
  assert.deepEqual(reloaded.list(HISTORY_CAP), log.list(HISTORY_CAP));
  assert.equal(await reloaded.clear(), HISTORY_CAP);
  assert.equal((await openHistory(home)).log.size, 0);
});

test('writer: saves asked for during a write are coalesced into one more, which writes the latest state', async () => {
  let state = 0;
  const written: number[] = [];
  let release: () => void = () => undefined;
  const writer = new SerialWriter(async () => {
    const snapshot = state;
    await new Promise<void>((r) => (release = r));
    written.push(snapshot);
  });
  state = 1;
  const first = writer.save();
  state = 2;
  const second = writer.save();
  state = 3;
  const third = writer.save();
  release();
  await first;
  await new Promise((r) => setImmediate(r));
  release();
  await Promise.all([second, third]);
  // One write for the first save (state 1 when it started), one for the two that waited (state 3 by then).
  assert.deepEqual(written, [1, 3]);
});

test('writer: a failed write rejects the saves it covered, and the next save tries again', async () => {
  let fail = true;
  const writer = new SerialWriter(() => (fail ? Promise.reject(new Error('disk full')) : Promise.resolve()));
  await assert.rejects(writer.save(), /disk full/);
  fail = false;
  await writer.save();
});

test('atomic write: the target is never seen half-written, and no temp file stays', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'x.json');
  await writeFileAtomic(file, 'old');
  await writeFileAtomic(file, 'new content');
  assert.equal(fs.readFileSync(file, 'utf8'), 'new content');
  assert.deepEqual(fs.readdirSync(dir), ['x.json']);
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'y.json'), 'z'), /ENOENT/);
  assert.deepEqual(fs.readdirSync(dir), ['x.json']);
});

test('settings: a version-1 file (before the thermal policy) is migrated to the current version with the default thermal policy, and written back', async () => {
  const home = tempDir();
  const { thermal: _drop, thinking: _later, ...v1 } = { ...DEFAULT_SETTINGS, persona: 'Old persona.', max_tokens: 77 };
  fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ format: 'keymate-settings', version: 1, data: v1 }));
  const { store, loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'migrated');
  assert.equal(store.get().persona, 'Old persona.');
  assert.equal(store.get().max_tokens, 77);
  assert.deepEqual(store.get().thermal, DEFAULT_THERMAL);
  assert.equal(store.get().thinking, true);
  const onDisk = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')) as { version: number; data: { thermal: unknown } };
  assert.equal(onDisk.version, SETTINGS_VERSION);
  assert.deepEqual(onDisk.data.thermal, DEFAULT_THERMAL);
});

test('settings: a version-2 file (before the Thinking switch) keeps everything and thinks, as reasoning models ship', async () => {
  const home = tempDir();
  const { thinking: _later, ...v2 } = { ...DEFAULT_SETTINGS, persona: 'Mine.', thermal: { ...DEFAULT_THERMAL, fan_stop_below_c: 41 } };
  fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ format: 'keymate-settings', version: 2, data: v2 }));
  const { store, loaded } = await SettingsStore.open(home);
  assert.equal(loaded.status, 'migrated');
  assert.deepEqual(store.get(), { ...v2, thinking: true });
  await store.update({ thinking: false });
  const again = await SettingsStore.open(home);
  assert.equal(again.loaded.status, 'loaded');
  assert.equal(again.store.get().thinking, false, 'the switch is kept like every other setting');
});
