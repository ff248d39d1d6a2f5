// HeldStart: a reply's start is drawn with its first visible token (one task,
// one frame), or a frame after it came when none follows by then; tokens that
// show nothing wait with it; a newer start draws the older one first.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReplyStart, ReplyToken } from '../../../common/contract/session';
import { HeldStart, START_FRAME_MS } from '../../../renderer/store/held-start';

const start = (pressId: string): ReplyStart => ({ press_id: pressId, source: 'keyboard', prompt: 'q', t_ms: 1 });
const token = (pressId: string, index: number, text: string, thinking?: string): ReplyToken => ({
  press_id: pressId,
  index,
  text,
  ...(thinking !== undefined ? { thinking } : {}),
  t_ms: index,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = () => undefined;

test('a start waits for flush(), which draws it once', () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id), ignore);
  held.hold(start('p1'));
  assert.deepEqual(drawn, []);
  held.flush();
  held.flush();
  assert.deepEqual(drawn, ['p1']);
  held.cancel();
});

test('with no token it is drawn after one frame', async () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id), ignore);
  held.hold(start('p1'));
  await sleep(START_FRAME_MS / 2);
  assert.deepEqual(drawn, [], 'not before the frame is up');
  await sleep(START_FRAME_MS * 2);
  assert.deepEqual(drawn, ['p1']);
});

test('a newer start draws the older one first; cancel() drops what is held', async () => {
  const drawn: string[] = [];
  const held = new HeldStart((s) => drawn.push(s.press_id), ignore, 5);
  held.hold(start('p1'));
  held.hold(start('p2'));
  assert.deepEqual(drawn, ['p1']);
  held.cancel();
  await sleep(20);
  assert.deepEqual(drawn, ['p1'], 'p2 was cancelled, its timer with it');
});

test('tokens that show nothing wait with the start; the first visible one draws them all, in order', async () => {
  const drawn: string[] = [];
  const held = new HeldStart(
    (s) => drawn.push(`start ${s.press_id}`),
    (t) => drawn.push(`${t.press_id}:${t.index}${JSON.stringify(t.text)}`),
    5,
  );
  held.hold(start('p1'));
  held.token(token('p1', 0, ' '));
  held.token(token('p1', 1, '')); // a character split across tokens
  held.token(token('p1', 2, '\n', ''));
  assert.deepEqual(drawn, []);
  held.token(token('p1', 3, 'Once'));
  assert.deepEqual(drawn, ['start p1', 'p1:0" "', 'p1:1""', 'p1:2"\\n"', 'p1:3"Once"']);

  // Thinking is visible text too; another press's token never waits for this start.
  drawn.length = 0;
  held.hold(start('p2'));
  held.token(token('p2', 0, '', 'Hmm'));
  held.hold(start('p3'));
  held.token(token('p2', 1, ' '));
  assert.deepEqual(drawn, ['start p2', 'p2:0""', 'start p3', 'p2:1" "']);

  // Blank tokens and no visible one: all drawn with the start after a frame, or by flush().
  drawn.length = 0;
  held.hold(start('p4'));
  held.token(token('p4', 0, ' '));
  await sleep(20);
  assert.deepEqual(drawn, ['start p4', 'p4:0" "']);
  held.cancel();
});
