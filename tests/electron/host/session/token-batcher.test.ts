// TokenBatcher: the first token goes at once, tokens faster than a display
// frame go together, nothing is lost or reordered, and flush() sends what
// waits. Time is a hand-moved clock; the frame timer is real but short.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReplyToken } from '../../../../common/contract';
import { TokenBatcher } from '../../../../electron/host/session/token-batcher';

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
