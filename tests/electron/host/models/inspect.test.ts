// Readings: the engine reads a file once while it keeps its size and mtime,
// again when either changes; a file it cannot read gives the one-line
// problem; facts a record holds for the file are taken without the engine.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { Readings, inspectModel } from '../../../../electron/host/models/inspect';
import { stories, tempDir } from '../../../support/repo';

test('a model is read once while it is unchanged, again when it changes; a broken one says why', async () => {
  const dir = tempDir('keymate-readings-');
  const file = path.join(dir, 'm.gguf');
  fs.copyFileSync(stories(), file);
  let calls = 0;
  const readings = new Readings((f) => {
    calls++;
    return inspectModel(f);
  });

  const first = await readings.read(file, fs.statSync(file));
  assert.equal(first.facts?.architecture, 'llama');
  assert.equal(first.problem, null);
  await readings.read(file, fs.statSync(file));
  assert.equal(calls, 1, 'unchanged: not read again');

  // Cut short (a new inode, as a copy would be): read again, and the engine's line is the problem.
  fs.writeFileSync(`${file}.new`, fs.readFileSync(stories()).subarray(0, 4096));
  fs.renameSync(`${file}.new`, file);
  const broken = await readings.read(file, fs.statSync(file));
  assert.equal(calls, 2);
  assert.equal(broken.facts, null);
  assert.match(broken.problem ?? '', /m\.gguf/);
  assert.doesNotMatch(broken.problem ?? '', /\n/);

  // A record's facts for this very file: the engine is not asked.
  const other = path.join(dir, 'other.gguf');
  fs.copyFileSync(stories(), other);
  const recorded = await readings.read(other, fs.statSync(other), first.facts);
  assert.deepEqual(recorded, { facts: first.facts, problem: null });
  assert.equal(calls, 2);
});
