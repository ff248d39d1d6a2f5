// Stop sequences applied as the reply streams: a sequence split over tokens
// stops the reply as one inside a token does, the sequence is never sent,
// text that only looked like its start is let through, and any way of cutting
// a reply into tokens gives the text a whole reply gives.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import * as fc from 'fast-check';

import { StopScanner } from '../../../../electron/host/api/stop-strings';

/** The reply fed token by token: what was sent, and whether it stopped. */
function run(stops: string[], tokens: string[]): { text: string; stopped: boolean; pieces: string[] } {
  const s = new StopScanner(stops);
  const pieces: string[] = [];
  for (const t of tokens) {
    pieces.push(s.push(t));
    if (s.stopped) break;
  }
  pieces.push(s.end());
  return { text: pieces.join(''), stopped: s.stopped, pieces };
}

/** What the whole reply gives: the text before the first stop sequence. */
function reference(stops: string[], reply: string): { text: string; stopped: boolean } {
  let at = -1;
  for (const stop of stops) {
    const i = reply.indexOf(stop);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? { text: reply, stopped: false } : { text: reply.slice(0, at), stopped: true };
}

test('a stop sequence inside a token: the text before it, the sequence never sent', () => {
  assert.deepEqual(run(['\nUser:'], ['Hello', ' there\nUser: more']), { text: 'Hello there', stopped: true, pieces: ['Hello', ' there', ''] });
});

test('a longer sequence that starts earlier wins over a shorter one already complete, or yields to it when the reply goes elsewhere or ends', () => {
  // (found by the property below: "U:" then "b", stops ":" and "U:b")
  assert.deepEqual(run([':', 'U:b'], ['U:', 'b']), { text: '', stopped: true, pieces: ['', '', ''] });
  assert.deepEqual(run([':', 'U:b'], ['U:', 'c']), { text: 'U', stopped: true, pieces: ['', 'U', ''] });
  assert.deepEqual(run([':', 'U:b'], ['U:']), { text: 'U', stopped: true, pieces: ['', 'U'] });
});

test('a stop sequence split across tokens: its start is held, not sent, then dropped', () => {
  const r = run(['\n\nUser:'], ['The end.', '\n', '\nUs', 'er:', ' next']);
  assert.equal(r.text, 'The end.');
  assert.ok(r.stopped);
  assert.deepEqual(r.pieces.slice(0, 2), ['The end.', ''], 'the newline that may begin the sequence waits');
});

test('what only looked like the start of a sequence is sent when the next token says so', () => {
  const r = run(['STOP'], ['ab S', 'TOrm', ' over']);
  assert.deepEqual(r.pieces, ['ab ', 'STOrm', ' over', '']);
  assert.equal(r.stopped, false);
});

test('held text at the end of a reply that ended on its own is sent', () => {
  assert.deepEqual(run(['</s>'], ['done', '</']), { text: 'done</', stopped: false, pieces: ['done', '', '</'] });
});

test('the earliest of several sequences wins, whichever is listed first', () => {
  assert.equal(run(['world', 'o'], ['hello world']).text, 'hell');
  assert.equal(run(['lo w', 'hello'], ['hel', 'lo world']).text, '');
});

test('no stop sequences: everything at once', () => {
  assert.deepEqual(run([], ['a', 'b']).pieces, ['a', 'b', '']);
});

test('after it stopped, nothing more is sent', () => {
  const s = new StopScanner(['x']);
  assert.equal(s.push('abxcd'), 'ab');
  assert.equal(s.push('more'), '');
  assert.equal(s.end(), '');
});

test('a surrogate pair is never split between what is sent and what is held', () => {
  const s = new StopScanner(['\udc00z']);
  const sent = s.push('a\ud800\udc00');
  assert.ok(!/[\ud800-\udbff]$/.test(sent), 'no lone high surrogate at the end of a piece');
  assert.equal(sent + s.end(), 'a\ud800\udc00');
});

test('any cutting of a reply into tokens: the text and the stop of the whole reply', () => {
  const alphabet = fc.constantFrom('a', 'b', '\n', ':', 'U');
  const text = fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join(''));
  fc.assert(
    fc.property(
      text,
      fc.array(fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('')), { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 10 }),
      (reply, stops, cuts) => {
        const at = [...new Set(cuts.filter((c) => c <= reply.length))].sort((a, b) => a - b);
        const tokens: string[] = [];
        let from = 0;
        for (const c of [...at, reply.length]) {
          tokens.push(reply.slice(from, c));
          from = c;
        }
        const r = run(stops, tokens);
        assert.deepEqual({ text: r.text, stopped: r.stopped }, reference(stops, reply));
      },
    ),
    { numRuns: 2000 },
  );
});
