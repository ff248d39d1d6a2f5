// Loading versioned files: fresh start, round trip, step-by-step migration,
// and every way a file can be unusable (set aside with the reason, never
// reset silently); a file that cannot be read is an error, not "corrupt".
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';

import { type VersionedFormat, loadVersioned, saveVersioned, serialize } from '../../../../electron/host/storage/versioned-file';
import { deadPid, liveChild } from '../../../support/processes';
import { tempDir } from '../../../support/repo';

// Version 3 of a made-up format: v1 had `name`, v2 renamed it `title`, v3 added `count`.
const Doc = z.strictObject({ title: z.string(), count: z.number().int() });
type Doc = z.infer<typeof Doc>;
const format: VersionedFormat<Doc> = {
  kind: 'doc',
  version: 3,
  schema: Doc,
  migrations: [
    { from: 1, migrate: (d) => ({ title: (d as { name: string }).name }) },
    { from: 2, migrate: (d) => ({ ...(d as object), count: 0 }) },
  ],
  defaults: () => ({ title: 'default', count: 0 }),
};

const fixed = (): Date => new Date('2026-01-02T03:04:05.678Z');

function write(file: string, value: unknown): void {
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
}

test('no file: the defaults, and nothing written until asked', async () => {
  const file = path.join(tempDir(), 'doc.json');
  const r = await loadVersioned(file, format);
  assert.equal(r.status, 'created');
  assert.deepEqual(r.data, { title: 'default', count: 0 });
  assert.ok(!fs.existsSync(file));
});

test('saved, then loaded as it was', async () => {
  const file = path.join(tempDir(), 'doc.json');
  await saveVersioned(file, format, { title: 'mine', count: 7 });
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { format: 'keymate-doc', version: 3, data: { title: 'mine', count: 7 } });
  const r = await loadVersioned(file, format);
  assert.equal(r.status, 'loaded');
  assert.deepEqual(r.data, { title: 'mine', count: 7 });
});

test('an old version is migrated step by step', async () => {
  const file = path.join(tempDir(), 'doc.json');
  write(file, { format: 'keymate-doc', version: 1, data: { name: 'old' } });
  const r = await loadVersioned(file, format);
  assert.equal(r.status, 'migrated');
  assert.deepEqual(r.data, { title: 'old', count: 0 });
});

const unusable: [string, unknown, RegExp][] = [
  ['truncated JSON', '{"format":"keymate-doc","version":3,"da', /not valid JSON/],
  ['empty file', '', /not valid JSON/],
  ['an array', '[1,2]', /not a JSON object/],
  ['another format', { format: 'keymate-other', version: 3, data: {} }, /not a keymate-doc file/],
  ['a bad version', { format: 'keymate-doc', version: '3', data: {} }, /bad version "3"/],
  ['data that does not match', { format: 'keymate-doc', version: 3, data: { title: 5, count: 0 } }, /does not match version 3: title: /],
  ['a failing migration', { format: 'keymate-doc', version: 2, data: null }, /migration from version 2 failed|does not match/],
];

for (const [what, content, reason] of unusable) {
  test(`${what}: set aside as .corrupt-<time> with the reason; the defaults are used`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'doc.json');
    write(file, content);
    const before = fs.readFileSync(file);
    const r = await loadVersioned(file, format, fixed);
    assert.equal(r.status, 'kept-aside');
    assert.match(r.problem ?? '', reason);
    assert.equal(r.keptAs, `${file}.corrupt-2026-01-02T03-04-05-678Z`);
    assert.deepEqual(fs.readFileSync(r.keptAs), before, 'the bad file is kept byte for byte');
    assert.ok(!fs.existsSync(file));
    assert.deepEqual(r.data, format.defaults());
  });
}

test('a file from a newer Keymate is set aside as .newer-<time>, not called corrupt', async () => {
  const file = path.join(tempDir(), 'doc.json');
  write(file, { format: 'keymate-doc', version: 9, data: {} });
  const r = await loadVersioned(file, format, fixed);
  assert.equal(r.status, 'kept-aside');
  assert.match(r.problem ?? '', /written by a newer Keymate \(version 9; this one reads up to 3\)/);
  assert.ok(r.keptAs?.endsWith('.newer-2026-01-02T03-04-05-678Z'));
});

test('a file that cannot be read (here: a folder) is an error, and is left where it is', async () => {
  const file = path.join(tempDir(), 'doc.json');
  fs.mkdirSync(file);
  await assert.rejects(loadVersioned(file, format), /doc\.json: cannot be read: .*EISDIR/);
  assert.ok(fs.statSync(file).isDirectory());
});

test('temp files a crashed writer left are removed at load; a live writer\'s and other files are not', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'doc.json');
  await saveVersioned(file, format, { title: 'kept', count: 1 });
  const crashed = `.doc.json.${await deadPid()}-0a1b2c3d.tmp`;
  const writing = `.doc.json.${liveChild(t)}-0a1b2c3d.tmp`;
  fs.writeFileSync(path.join(dir, crashed), '{"half');
  fs.writeFileSync(path.join(dir, writing), '{"half');
  fs.writeFileSync(path.join(dir, '.other.json.1-2.tmp'), 'not ours');
  const r = await loadVersioned(file, format);
  assert.deepEqual(r.data, { title: 'kept', count: 1 });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.other.json.1-2.tmp', writing, 'doc.json'].sort());
});

test('serialize writes what loadVersioned reads', () => {
  const text = serialize(format, { title: 't', count: 2 });
  assert.ok(text.endsWith('\n'));
  assert.deepEqual(JSON.parse(text), { format: 'keymate-doc', version: 3, data: { title: 't', count: 2 } });
});
