// The session slice: the on-screen key's press and release become the
// contract's key requests, auto-repeat does not become a second press (which
// the host would take as "cancel"), and a refusal is kept for the view.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { aiKeyState } from '../../../renderer/store/session-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost } from '../fake-host';

function host() {
  return new FakeHost()
    .handle('key.press', () => ({ state: 'listening', press_id: 'p1', typed: '', message: null }))
    .handle('key.release', () => ({ state: 'thinking', press_id: 'p1', typed: '', message: null }));
}

test('press and release send key requests with their source and take the session the host answers', async () => {
  const h = host();
  const store = createUiStore(h);
  const s = store.getState;
  const pressed = s().pressKey('screen');
  // The key shows down at once, before the host answers.
  assert.equal(aiKeyState(s()), 'down');
  await pressed;
  assert.equal(s().session.state, 'listening');
  await s().releaseKey('screen');
  assert.equal(aiKeyState(s()), 'up');
  assert.equal(s().session.state, 'thinking');
  assert.deepEqual(h.sent, [
    { name: 'key.press', payload: { source: 'screen' } },
    { name: 'key.release', payload: { source: 'screen' } },
  ]);
});

test('a second press while held (key auto-repeat) and a release without a press send nothing', async () => {
  const h = host();
  const store = createUiStore(h);
  await store.getState().releaseKey('screen');
  await store.getState().pressKey('shortcut');
  await store.getState().pressKey('shortcut');
  await store.getState().pressKey('screen');
  assert.deepEqual(h.names(), ['key.press']);
});

test("the host's key state shows too (the keyboard's key), and a refused press is kept in words", async () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().setKey({ down: true, source: 'keyboard', t_ms: 5 });
  assert.equal(aiKeyState(s()), 'down');
  s().setKey({ down: false, source: 'keyboard', t_ms: 6 });
  await s().pressKey('screen');
  assert.equal(s().keyError, "fake host: no handler for 'key.press'");
  await s().releaseKey('screen');
  assert.equal(aiKeyState(s()), 'up');
});
