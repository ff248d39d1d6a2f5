// TokenBatcher: the first visible token goes at once, tokens faster than a display
// frame go together, nothing is lost or reordered, and flush() sends what
// waits. Time is a hand-moved clock; the frame timer is real but short.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReplyToken } from '../../../../common/contract';
import { REPLY_CHARS_PER_MS, TokenBatcher } from '../../../../electron/host/session/token-batcher';

test('first token at once, then at most one event per frame, every token once and in order', async () => {
  let now = 0;
  const sent: ReplyToken[] = [];
  const b = new TokenBatcher('p1', (t) => sent.push(t), () => now, 5);
  b.push({ index: 0, text: 'Once', tMs: 10 });
  assert.deepEqual(sent, [{ press_id: 'p1', index: 0, text: 'Once', t_ms: 10 }], 'the first token is not held back');
  // Three more within the frame: held.
  for (const [i, text] of [' upon', ' a', ' time'].entries()) {
    now += 1;
    b.push({ index: i + 1, text, tMs: 11 + i });
  }
  assert.equal(sent.length, 1);
  await new Promise((r) => setTimeout(r, 20)); // the frame's timer
  assert.deepEqual(sent[1], { press_id: 'p1', index: 1, count: 3, text: ' upon a time', t_ms: 13 });
  // After a quiet frame a token goes at once.
  now += 50;
  b.push({ index: 4, text: ',', tMs: 60 });
  assert.equal(sent.length, 3);
  assert.deepEqual(sent[2], { press_id: 'p1', index: 4, text: ',', t_ms: 60 });
  // flush() sends what waits, and nothing when nothing does.
  now += 1;
  b.push({ index: 5, text: ' the', tMs: 61 });
  b.flush();
  b.flush();
  assert.equal(sent.length, 4);
  assert.equal(sent.map((t) => t.text).join(''), 'Once upon a time, the');
  const indexes = sent.flatMap((t) => Array.from({ length: t.count ?? 1 }, (_, i) => t.index + i));
  assert.deepEqual(indexes, [0, 1, 2, 3, 4, 5]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sent.length, 4, 'no timer left behind after flush');
});

test('what shows nothing (a leading space or newline) waits for the first visible word and goes with it, at once', () => {
  let now = 0;
  const sent: ReplyToken[] = [];
  const b = new TokenBatcher('p1', (t) => sent.push(t), () => now, 50);
  b.push({ index: 0, text: '\n', tMs: 1 });
  now += 1;
  b.push({ index: 1, text: ' ', tMs: 2 });
  assert.equal(sent.length, 0, 'nothing to show yet: nothing sent');
  now += 1;
  b.push({ index: 2, text: 'Lily', tMs: 3 });
  assert.deepEqual(sent, [{ press_id: 'p1', index: 0, count: 3, text: '\n Lily', t_ms: 3 }], 'the first visible word was not held back');
  now += 1;
  b.push({ index: 3, text: ' went', tMs: 4 });
  assert.equal(sent.length, 1, 'from then on, one event per frame');
  b.flush();
  assert.equal(sent.length, 2);
});

test('a reply that never shows anything is sent whole when it ends', () => {
  const sent: ReplyToken[] = [];
  const b = new TokenBatcher('p1', (t) => sent.push(t), () => 0, 50);
  b.push({ index: 0, text: '\n', tMs: 1 });
  b.push({ index: 1, text: '\n', tMs: 2 });
  assert.equal(sent.length, 0);
  b.flush();
  assert.deepEqual(sent, [{ press_id: 'p1', index: 0, count: 2, text: '\n\n', t_ms: 2 }]);
});

test('a long reply is handed over less often: the frame grows with the text sent', () => {
  let now = 0;
  const sent: ReplyToken[] = [];
  const b = new TokenBatcher('p1', (t) => sent.push(t), () => now, 16);
  b.push({ index: 0, text: 'x'.repeat(REPLY_CHARS_PER_MS * 64), tMs: 0 }); // 64 ms of frame from now on
  now += 20;
  b.push({ index: 1, text: 'y', tMs: 20 });
  assert.equal(sent.length, 1, 'held: 20 ms is within the longer frame');
  now += 50;
  b.push({ index: 2, text: 'z', tMs: 70 });
  assert.equal(sent.length, 2, 'past 64 ms it goes');
  assert.equal(sent[1]?.text, 'yz');
  b.flush();
});

test("a reasoning model's thinking travels beside the answer, and shows: tokens after it wait for the frame", async () => {
  let now = 0;
  const sent: ReplyToken[] = [];
  const b = new TokenBatcher('p1', (t) => sent.push(t), () => now, 5);
  b.push({ index: 0, text: '', thinking: 'Hmm', tMs: 1 });
  assert.deepEqual(sent, [{ press_id: 'p1', index: 0, text: '', thinking: 'Hmm', t_ms: 1 }]);
  now += 1;
  b.push({ index: 1, text: '', thinking: ', yes.', tMs: 2 });
  now += 1;
  b.push({ index: 2, text: 'Sure', tMs: 3 });
  assert.equal(sent.length, 1, 'thinking is visible text: the next tokens wait for the frame');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sent[1], { press_id: 'p1', index: 1, count: 2, text: 'Sure', thinking: ', yes.', t_ms: 3 });
});
