// Importing into the library with the real engine reading each header: a good
// file lands whole with its facts and checksum; a truncated file, a file that
// is not a GGUF, a name clash and a full disk copy nothing.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ModelLibrary } from '../../../../electron/host/models/library';
import { model, stories, tempDir } from '../../../support/repo';
import { plenty } from './support/rig';

async function library(statfs = plenty): Promise<ModelLibrary> {
  return ModelLibrary.open({ folder: path.join(tempDir('keymate-lib-'), 'models'), statfs });
}

test('a good GGUF is imported whole, with what the engine read and its SHA-256', async () => {
  const lib = await library();
  const entry = await lib.import(stories());
  const bytes = fs.readFileSync(stories());
  assert.equal(entry.name, 'stories260K');
  assert.equal(entry.origin, 'imported');
  assert.equal(entry.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(
    { ...entry.facts, weight_types: undefined },
    { architecture: 'llama', parameters: entry.facts?.parameters, weight_types: undefined, context_length: 512, chat_template: false, layers: 5, dim: 64, heads: 8, kv_heads: 4, vocab: 512 },
  );
  assert.ok(fs.readFileSync(entry.path).equals(bytes));
  assert.deepEqual(fs.readdirSync(lib.folder).sort(), ['stories260K.gguf', 'stories260K.gguf.json']);
  // The same file again is the same model, not a clash.
  assert.equal((await lib.import(stories())).path, entry.path);
  assert.equal((await lib.list()).length, 1);
});

test('a truncated GGUF is refused with the engine\'s reason and nothing is copied', async () => {
  const lib = await library();
  const cut = path.join(tempDir(), 'cut.gguf');
  fs.writeFileSync(cut, fs.readFileSync(stories()).subarray(0, 200_000));
  await assert.rejects(lib.import(cut), /^Error: import: .*cut\.gguf: .*runs past the end of the file.*nothing was copied$/);
  assert.deepEqual(fs.readdirSync(lib.folder), []);
});

test('a file that is not a GGUF is refused', async () => {
  const lib = await library();
  const text = path.join(tempDir(), 'notes.gguf');
  fs.writeFileSync(text, 'hello\n');
  await assert.rejects(lib.import(text), /not a GGUF file/);
  await assert.rejects(lib.import(path.join(tempDir(), 'missing.gguf')), /no such file/);
  assert.deepEqual(fs.readdirSync(lib.folder), []);
});

test('a different file under a name already taken is refused, and the one there is kept', async () => {
  const lib = await library();
  await lib.import(stories());
  const other = path.join(tempDir(), 'stories260K.gguf');
  fs.copyFileSync(model('stories260K-Q8_0.gguf'), other);
  await assert.rejects(lib.import(other), /already exists and is a different file/);
  assert.ok(fs.readFileSync(path.join(lib.folder, 'stories260K.gguf')).equals(fs.readFileSync(stories())));
  assert.equal(fs.readdirSync(lib.folder).filter((n) => n.startsWith('.')).length, 0, 'no temp file left');
});

test('not enough free space refuses the import before copying', async () => {
  const lib = await library(() => Promise.resolve({ bavail: 100, bsize: 4096 }));
  await assert.rejects(lib.import(stories()), /not enough free space/);
  assert.deepEqual(fs.readdirSync(lib.folder), []);
});

test('a file put there by hand lists as found; an unreadable one lists with its problem', async () => {
  const lib = await library();
  fs.copyFileSync(stories(), path.join(lib.folder, 'mine.gguf'));
  fs.writeFileSync(path.join(lib.folder, 'broken.gguf'), 'nope');
  const [broken, mine] = await lib.list();
  assert.equal(mine?.origin, 'found');
  assert.equal(mine?.facts?.architecture, 'llama');
  assert.equal(broken?.facts, null);
  assert.match(broken?.problem ?? '', /not a GGUF/);
});
