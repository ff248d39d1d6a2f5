// What the link says when the path given as the keyboard is not one: a
// device that is not a terminal (/dev/null), a regular file, a folder, a
// pipe, or nothing at all. One reason each, in words, the path not repeated.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { openSerialPort } from '../../firmware-bridge/host/serial-port';
import { tempDir } from '../support/repo';
import { specialFiles } from '../support/special-files';

const handlers = { onData: () => undefined, onClose: () => undefined };

async function reason(p: string): Promise<string> {
  try {
    const conn = await openSerialPort(p, handlers);
    await conn.close();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error(`${p} opened as a serial port`);
}

test('a path that is not a serial port is refused with what it is', async () => {
  const dir = tempDir('keymate-serial-');
  const special = await specialFiles(dir);
  try {
    assert.equal(await reason('/dev/null'), 'not a serial port: the device is not a terminal');
    const file = path.join(dir, 'model.gguf');
    fs.writeFileSync(file, 'GGUF');
    assert.equal(await reason(file), 'not a serial port: it is a regular file');
    assert.equal(await reason(dir), 'not a serial port: it is a folder');
    for (const { kind, path: p } of special.paths.filter((s) => s.path !== '/dev/null')) assert.match(await reason(p), kind);
    const missing = path.join(dir, 'ttyACM9');
    const said = await reason(missing);
    assert.equal(said, 'no such port (is the keyboard plugged in?)');
  } finally {
    await special.close();
  }
});
