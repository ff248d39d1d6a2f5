// HeldStart: a reply's start is drawn with its first token (one task, one
// frame), or a frame after it came when no token follows by then; a newer
// start draws the older one first.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReplyStart } from '../../../common/contract/session';
import { HeldStart, START_FRAME_MS } from '../../../renderer/store/held-start';

const start = (pressId: string): ReplyStart => ({ press_id: pressId, source: 'keyboard', prompt: 'q', t_ms: 1 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a start waits for flush(), which draws it once', () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id));
  held.hold(start('p1'));
  assert.deepEqual(drawn, []);
  held.flush();
  held.flush();
  assert.deepEqual(drawn, ['p1']);
  held.cancel();
});

test('with no token it is drawn after one frame', async () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id));
  held.hold(start('p1'));
  await sleep(START_FRAME_MS / 2);
  assert.deepEqual(drawn, [], 'not before the frame is up');
  await sleep(START_FRAME_MS * 2);
  assert.deepEqual(drawn, ['p1']);
});

test('a newer start draws the older one first; cancel() drops what is held', async () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id), 5);
  held.hold(start('p1'));
  held.hold(start('p2'));
  assert.deepEqual(drawn, ['p1']);
  held.cancel();
  await sleep(20);
  assert.deepEqual(drawn, ['p1'], 'p2 was cancelled, its timer with it');
});
