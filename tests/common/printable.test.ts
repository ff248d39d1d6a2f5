// printable(): text from outside made safe for one line of a message.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { printable, quoted } from '../../common/printable';

test('control characters, line breaks and bidi overrides become visible escapes', () => {
  assert.equal(printable('a\nb\r\tc'), 'a\\x0ab\\x0d\\x09c');
  assert.equal(printable('\u001b[31mred'), '\\x1b[31mred');
  assert.equal(printable('\u0000\u007f\u0085'), '\\x00\\x7f\\x85');
  assert.equal(printable('x\u202ey\u2028'), 'x\\u{202e}y\\u{2028}');
  assert.equal(printable('héllo wörld ✓'), 'héllo wörld ✓');
});

test('long text is cut, saying how much was left out; the escapes count', () => {
  assert.equal(printable('abcdef', 4), 'abc… (3 more)');
  assert.equal(printable('abcd', 4), 'abcd');
  assert.equal(printable('\n\n\n', 8), '\\x0a… (2 more)');
  assert.equal(quoted('a"b'), '"a"b"');
});
