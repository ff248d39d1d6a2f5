// The reply slice: a stream assembled from tokens by press id and index,
// the host's completion as the final word, and stale presses ignored.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { liveTimings } from '../../../renderer/store/reply-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, timings } from '../fake-host';

const start = (pressId: string, prompt = 'Once upon a time') => ({ press_id: pressId, source: 'keyboard' as const, prompt, t_ms: 1000 });
const token = (pressId: string, index: number, text: string) => ({ press_id: pressId, index, text, t_ms: index });

test('tokens stream into the reply of their press, in index order', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p1'));
  assert.deepEqual(s().reply?.text, '');
  s().replyToken(token('p1', 0, ' there'));
  s().replyToken(token('p1', 1, ' was'));
  assert.equal(s().reply?.text, ' there was');
  // Out of order: index 3 before 2 keeps a slot for 2.
  s().replyToken(token('p1', 3, ' girl'));
  assert.equal(s().reply?.text, ' there was girl');
  s().replyToken(token('p1', 2, ' a'));
  assert.equal(s().reply?.text, ' there was a girl');
  assert.equal(s().reply?.done, false);
});

test('a token or done for another press does not touch the current reply', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p2'));
  s().replyToken(token('p1', 0, 'stale'));
  s().replyDone({ press_id: 'p1', completion: 'stale', thinking: '', stop: 'cancelled', timings: timings() });
  s().replyFailed({ press_id: 'p1', message: 'old failure' });
  assert.equal(s().reply?.pressId, 'p2');
  assert.equal(s().reply?.text, '');
  assert.equal(s().reply?.done, false);
  assert.equal(s().reply?.error, null);
});

test("done replaces the text with the host's completion and keeps the timings; later tokens are ignored", () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p1'));
  s().replyToken(token('p1', 0, 'Hel'));
  s().replyDone({ press_id: 'p1', completion: 'Hello.', thinking: '', stop: 'eos', timings: timings({ ttft_ms: 7.25 }) });
  s().replyToken(token('p1', 1, 'late'));
  const r = s().reply;
  assert.equal(r?.text, 'Hello.');
  assert.equal(r?.done, true);
  assert.equal(r?.stop, 'eos');
  assert.equal(r?.timings?.ttft_ms, 7.25);
});

test('an error ends the reply with its message', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p1'));
  s().replyFailed({ press_id: 'p1', message: 'engine: out of memory' });
  assert.equal(s().reply?.done, true);
  assert.equal(s().reply?.error, 'engine: out of memory');
});

test('a snapshot restores a reply in progress, and later tokens continue it', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replySnapshot(null);
  assert.equal(s().reply, null);
  s().replySnapshot({ press_id: 'p9', source: 'screen', prompt: 'hi', text: 'One two', thinking: '', done: false, stop: null, timings: null, error: null });
  assert.equal(s().reply?.text, 'One two');
  s().replyToken(token('p9', 5, ' three'));
  assert.equal(s().reply?.text, 'One two three');
});

test("a reasoning model's thinking streams beside the answer, by index like it, and done has the final word on both", () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p1'));
  s().replyToken({ press_id: 'p1', index: 0, text: '', thinking: 'Two', t_ms: 0 });
  s().replyToken({ press_id: 'p1', index: 1, count: 2, text: '', thinking: ' and two', t_ms: 1 });
  assert.equal(s().reply?.thinking, 'Two and two');
  assert.equal(s().reply?.text, '');
  // Out of order: the answer's token 4 before 3, the thinking's parts kept in their slots.
  s().replyToken({ press_id: 'p1', index: 4, text: '.', t_ms: 4 });
  s().replyToken({ press_id: 'p1', index: 3, text: 'Four', thinking: '.', t_ms: 3 });
  assert.equal(s().reply?.thinking, 'Two and two.');
  assert.equal(s().reply?.text, 'Four.');
  assert.equal(s().reply?.live?.count, 5);
  s().replyDone({ press_id: 'p1', completion: 'Four.', thinking: 'Two and two.\n', stop: 'eos', timings: timings() });
  assert.equal(s().reply?.thinking, 'Two and two.\n');
  s().replySnapshot({ press_id: 'p2', source: 'screen', prompt: 'hi', text: '', thinking: 'Hmm', done: false, stop: null, timings: null, error: null });
  s().replyToken({ press_id: 'p2', index: 1, text: '', thinking: ', yes', t_ms: 1 });
  assert.equal(s().reply?.thinking, 'Hmm, yes');
});

test('ask sends a generate request; cancelReply answers whether there was a reply, and a failure becomes a notice', async () => {
  const host = new FakeHost().handle('generate', () => ({ press_id: 'p1' })).handle('cancel', () => ({ cancelled: true }));
  const store = createUiStore(host);
  await store.getState().ask('Why is the sky blue?');
  assert.deepEqual(host.sent[0], { name: 'generate', payload: { prompt: 'Why is the sky blue?' } });
  assert.equal(await store.getState().cancelReply(), true);

  const failing = createUiStore(new FakeHost());
  assert.equal(await failing.getState().cancelReply(), false);
  assert.match(failing.getState().notices[0]?.message ?? '', /Could not stop the reply: fake host: no handler for 'cancel'/);
  // An empty prompt is refused by the contract before it leaves.
  await assert.rejects(store.getState().ask(''), /contract: request 'generate': field prompt: too small/);
});

test('an event with several tokens takes their slots, and the live numbers count each token', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().replyStarted(start('p1'));
  s().replyToken({ press_id: 'p1', index: 0, text: ' Once', t_ms: 10 });
  s().replyToken({ press_id: 'p1', index: 1, count: 3, text: ' upon a time', t_ms: 40 });
  s().replyToken({ press_id: 'p1', index: 4, text: ',', t_ms: 50 });
  assert.equal(s().reply?.text, ' Once upon a time,');
  assert.deepEqual(s().reply?.live, { firstMs: 10, lastMs: 50, count: 5 });
  // Four tokens after the first, over 40 ms: 100 tok/s.
  const r = s().reply;
  assert.ok(r !== null);
  assert.equal(liveTimings(r).decodeTokS, 100);
});
