// The split of a press's time (keyboard, host, engine, display) and the host
// clock it needs: consecutive parts of one timeline that add up to the total;
// the display part only once this window has shown the reply and knows the
// host's clock, with the clock sample of the narrowest round trip.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { betterClock, CLOCK_SAMPLE_LIFE_MS } from '../../../renderer/store/clock-slice';
import { pressSplit } from '../../../renderer/store/press-split';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, timings } from '../fake-host';

test('the parts add up to the total; display waits for the screen and the clock', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted({ press_id: 'p1', source: 'keyboard', prompt: 'q', t_ms: 1000 });
  s().replyToken({ press_id: 'p1', index: 0, text: 'Hi', t_ms: 5 });
  // Host: link 0.8, trigger -> call 0.5, trigger -> first token 12.5; first token at host time 50_000.
  s().replyDone({ press_id: 'p1', completion: 'Hi', thinking: '', stop: 'eos', timings: timings({ link_ms: 0.8, host_ms: 0.5, e2e_ms: 12.5, ttft_ms: 11.2, first_at_ms: 50_000 }) });
  assert.equal(pressSplit(s().reply, null)?.display, null, 'not shown yet');
  // Shown at page time 20_003 with the host 30_000 ms ahead: host time 50_003, 3 ms after the first token.
  s().replyShown('p1', 20_003);
  s().replyShown('p1', 99_999); // only the first moment counts
  const split = pressSplit(s().reply, { offsetMs: 30_000, errorMs: 0.2, atMs: 0 });
  assert.ok(split !== null);
  assert.equal(split.keyboard, 0.8);
  assert.equal(split.host, 0.5);
  assert.equal(split.engine, 12);
  assert.equal(split.ttft, 11.2);
  assert.equal(split.display, 3);
  assert.equal(split.total, 0.8 + 0.5 + 12 + 3);
  assert.equal(split.errorMs, 0.2);
  assert.equal(pressSplit(s().reply, null)?.total, null, 'no clock, no display, no total');
});

test('the host clock keeps the narrowest round trip, until it ages out; syncHostClock asks the host', async () => {
  const a = { offsetMs: 10, errorMs: 0.5, atMs: 0 };
  const wide = { offsetMs: 11, errorMs: 2, atMs: 1000 };
  assert.equal(betterClock(null, a), a);
  assert.equal(betterClock(a, wide), a);
  const narrow = { offsetMs: 10.1, errorMs: 0.1, atMs: 2000 };
  assert.equal(betterClock(a, narrow), narrow);
  const late = { offsetMs: 12, errorMs: 3, atMs: CLOCK_SAMPLE_LIFE_MS + 1 };
  assert.equal(betterClock(a, late), late, 'an old sample gives way');

  let asked = 0;
  const host = new FakeHost().handle('clock', () => {
    asked++;
    return { t_ms: performance.timeOrigin + performance.now() + 5000 };
  });
  const store = createUiStore(host);
  await store.getState().syncHostClock(4);
  assert.equal(asked, 4);
  const c = store.getState().hostClock;
  assert.ok(c !== null);
  assert.ok(Math.abs(c.offsetMs - 5000) <= c.errorMs + 1, JSON.stringify(c));
  // A host without the request leaves the clock unknown, and says nothing.
  const old = createUiStore(new FakeHost());
  await old.getState().syncHostClock(2);
  assert.equal(old.getState().hostClock, null);
});
