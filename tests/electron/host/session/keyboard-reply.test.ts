// KeyboardReply: what a streaming reply costs the keyboard's link. Each update
// carries only the text since the last one, so the bytes sent equal the
// reply's length however long it grows; a keyboard without a display gets
// nothing, and an empty reply leaves the display alone.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReplyStream } from '../../../../firmware-bridge';
import { KEYBOARD_UPDATE_CHARS, KeyboardReply } from '../../../../electron/host/session/keyboard-reply';

function recorder(): { stream: ReplyStream; sent: Array<{ text: string; last: boolean }>; opened: () => number; open: () => ReplyStream } {
  const sent: Array<{ text: string; last: boolean }> = [];
  let opens = 0;
  const stream: ReplyStream = {
    append: (text) => (sent.push({ text, last: false }), true),
    end: (text = '') => (sent.push({ text, last: true }), true),
  };
  return { stream, sent, opened: () => opens, open: () => (opens++, stream) };
}

test('a long reply costs the link its own length: updates carry only their new text', () => {
  const r = recorder();
  const k = new KeyboardReply(r.open);
  const tokens = Array.from({ length: 2000 }, (_, i) => ` word${i}`);
  for (const t of tokens) k.append(t);
  k.finish();
  const whole = tokens.join('');
  assert.equal(r.opened(), 1, 'one reply on the display');
  assert.equal(r.sent.map((s) => s.text).join(''), whole);
  assert.equal(r.sent.reduce((n, s) => n + s.text.length, 0), whole.length, 'no text sent twice');
  assert.ok(r.sent.length >= whole.length / (KEYBOARD_UPDATE_CHARS + 8) && r.sent.length <= whole.length / KEYBOARD_UPDATE_CHARS + 2, `${r.sent.length} updates`);
  assert.deepEqual(
    r.sent.map((s) => s.last),
    [...Array<boolean>(r.sent.length - 1).fill(false), true],
  );
});

test('a short reply is one update at the end; an empty one sends nothing; no display, nothing sent', () => {
  const short = recorder();
  const k = new KeyboardReply(short.open);
  k.append('Hi');
  assert.equal(short.sent.length, 0, 'nothing before the end for a reply shorter than an update');
  k.finish();
  assert.deepEqual(short.sent, [{ text: 'Hi', last: true }]);

  const empty = recorder();
  new KeyboardReply(empty.open).finish();
  assert.equal(empty.opened(), 0);

  let asked = 0;
  const none = new KeyboardReply(() => (asked++, null));
  for (let i = 0; i < 100; i++) none.append('text ');
  none.finish();
  assert.equal(asked, 1, 'a missing display is asked for once');
});
