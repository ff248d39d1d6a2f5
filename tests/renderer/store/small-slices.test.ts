// The small slices: telemetry keeps the newest sample, the device word is
// "unknown" until the host speaks, notices show once and stay dismissed,
// a conversation takes its turns in place, models reload the list after a selection.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ModelEntry } from '../../../common/contract';
import { deviceWord } from '../../../renderer/store/device-slice';
import { MAX_NOTICES } from '../../../renderer/store/notices-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, deviceStatus, engineStatus, modelEntry } from '../fake-host';

test('telemetry keeps the newest sample, whatever order they arrive in', () => {
  const s = createUiStore(new FakeHost()).getState;
  assert.equal(s().telemetry, null);
  s().setTelemetry({ available: false, t_ms: 20, reason: 'no driver' });
  s().setTelemetry({ available: false, t_ms: 10, reason: 'older' });
  assert.deepEqual(s().telemetry, { available: false, t_ms: 20, reason: 'no driver' });
});

test('the device word is unknown until the first status, then the link state', () => {
  const s = createUiStore(new FakeHost()).getState;
  assert.equal(deviceWord(s()), 'unknown');
  s().setDevice(deviceStatus());
  assert.equal(deviceWord(s()), 'connected');
  s().setDevice(deviceStatus({ state: 'disconnected', connected: false, reason: 'the keyboard was unplugged', device: null }));
  assert.equal(deviceWord(s()), 'disconnected');
});

test('a host notice shows once, even when the snapshot repeats it after a dismiss', () => {
  const s = createUiStore(new FakeHost()).getState;
  const notice = { id: 3, t_ms: 1, level: 'warning' as const, code: 'settings-corrupt' as const, message: 'settings.json was corrupt: kept as settings.json.corrupt-1' };
  s().addHostNotice(notice);
  s().addHostNotice(notice);
  assert.equal(s().notices.length, 1);
  s().dismissNotice(s().notices[0]?.key ?? '');
  s().addHostNotice(notice);
  assert.equal(s().notices.length, 0);
  s().addUiNotice('error', 'same');
  s().addUiNotice('error', 'same');
  assert.equal(s().notices.length, 1);
  for (let i = 0; i < MAX_NOTICES + 5; i++) s().addUiNotice('info', `n${i}`);
  assert.equal(s().notices.length, MAX_NOTICES);
  assert.equal(s().notices.at(-1)?.message, `n${MAX_NOTICES + 4}`);
});

test('a conversation takes each saved turn at its place, and ignores another conversation\'s', () => {
  const s = createUiStore(new FakeHost()).getState;
  const turn = (role: 'user' | 'assistant', text: string, t: number) => ({ role, text, press_id: 'p1', t_ms: t, stop: null, prompt_tokens: null, cached_tokens: null });
  s().setConversation({ id: 'c0-1', title: 'q', created_ms: 0, updated_ms: 0, turns: [turn('user', 'q', 1)], context_from: 0 });
  s().conversationTurn({ conversation_id: 'c0-1', index: 1, turn: turn('assistant', 'a', 2) });
  s().conversationTurn({ conversation_id: 'c0-1', index: 1, turn: turn('assistant', 'a', 2) }); // the same one again: no duplicate
  s().conversationTurn({ conversation_id: 'c0-2', index: 2, turn: turn('user', 'elsewhere', 3) });
  assert.deepEqual(s().conversation?.turns.map((t) => t.text), ['q', 'a']);
  assert.equal(s().conversation?.updated_ms, 2);
});

test('selecting a model takes the engine status the host answers and lists the models again', async () => {
  let selected = '';
  const models = (): ModelEntry[] => ['a', 'b'].map((name) => modelEntry(name, { path: `/m/${name}.gguf`, selected: `/m/${name}.gguf` === selected }));
  const h = new FakeHost()
    .handle('models.list', () => ({ models: models(), downloads: [] }))
    .handle('models.select', ({ path }) => {
      selected = path;
      return engineStatus({ state: 'loading', message: `loading ${path}` });
    });
  const s = createUiStore(h).getState;
  await s().refreshModels();
  assert.deepEqual(s().models?.map((m) => m.selected), [false, false]);
  const pending = s().selectModel('/m/b.gguf');
  assert.equal(s().modelsState.selecting, '/m/b.gguf');
  await pending;
  assert.equal(s().engine?.state, 'loading');
  assert.deepEqual(s().models?.map((m) => m.selected), [false, true]);
  assert.deepEqual(h.names(), ['models.list', 'models.select', 'models.list']);
  assert.equal(s().modelsState.selecting, null);
});

test('a failed selection says why', async () => {
  const s = createUiStore(
    new FakeHost().handle('models.select', () => {
      throw new Error('load: /m/x.gguf: not a GGUF file');
    }),
  ).getState;
  await s().selectModel('/m/x.gguf');
  assert.deepEqual(s().modelsState, { listing: false, selecting: null, error: 'load: /m/x.gguf: not a GGUF file' });
});
