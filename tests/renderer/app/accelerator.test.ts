// The AI key's shortcut: Electron accelerator strings parsed for the page.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeAccelerator, matchesDown, matchesUp, parseAccelerator } from '../../../renderer/app/accelerator';

const key = (code: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }> = {}) => ({
  code,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

test('CommandOrControl means Ctrl on Linux and Windows, Command on macOS', () => {
  assert.deepEqual(parseAccelerator('CommandOrControl+Shift+Space', false), { ctrl: true, meta: false, alt: false, shift: true, code: 'Space' });
  assert.deepEqual(parseAccelerator('CmdOrCtrl+Shift+Space', true), { ctrl: false, meta: true, alt: false, shift: true, code: 'Space' });
});

test('letters, digits, function keys and named keys map to KeyboardEvent.code', () => {
  assert.equal(parseAccelerator('Alt+k', false)?.code, 'KeyK');
  assert.equal(parseAccelerator('Ctrl+7', false)?.code, 'Digit7');
  assert.equal(parseAccelerator('F13', false)?.code, 'F13');
  assert.equal(parseAccelerator('Super+Up', false)?.code, 'ArrowUp');
});

test('empty, modifier-only, misplaced and unknown keys give null', () => {
  for (const bad of ['', '  ', 'Shift', 'Ctrl+Shift', 'Space+Ctrl', 'Ctrl+F25', 'Ctrl+Bogus']) {
    assert.equal(parseAccelerator(bad, false), null, bad);
  }
});

test('down needs the exact modifiers; up needs only the main key', () => {
  const acc = parseAccelerator('Ctrl+Shift+Space', false);
  assert.ok(acc !== null);
  assert.equal(matchesDown(acc, key('Space', { ctrlKey: true, shiftKey: true })), true);
  assert.equal(matchesDown(acc, key('Space', { ctrlKey: true })), false);
  assert.equal(matchesDown(acc, key('Space', { ctrlKey: true, shiftKey: true, altKey: true })), false);
  assert.equal(matchesUp(acc, key('Space')), true);
  assert.equal(matchesUp(acc, key('ShiftLeft')), false);
  assert.equal(describeAccelerator(acc, false), 'Ctrl+Shift+Space');
});
