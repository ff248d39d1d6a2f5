// The API key: made once in the data folder (private to its owner), read back
// at the next start, replaced on request; a file that holds no key is a
// one-line error, a loose mode is tightened; two first starts at once agree on
// one key.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { API_KEY_PREFIX, apiKeyFile, loadApiKey, newApiKey } from '../../../../electron/host/api/api-key';
import { tempDir } from '../../../support/repo';

const posix = process.platform !== 'win32';

test('a new key: km- and 32 random bytes, different each time', () => {
  const a = newApiKey();
  assert.match(a, /^km-[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, newApiKey());
});

test('made at the first start with mode 0600, the same at the next', async () => {
  const home = tempDir('keymate-key-');
  const first = await loadApiKey(home);
  assert.ok(first.created);
  assert.ok(first.key.startsWith(API_KEY_PREFIX));
  assert.equal(first.file, path.join(home, 'api-key'));
  assert.equal(fs.readFileSync(first.file, 'utf8'), first.key + '\n');
  if (posix) assert.equal(fs.statSync(first.file).mode & 0o777, 0o600);
  const again = await loadApiKey(home);
  assert.deepEqual(again, { ...first, created: false });
  assert.deepEqual(
    fs.readdirSync(home).filter((n) => n.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
});

test('a data folder that does not exist yet is made', async () => {
  const home = path.join(tempDir('keymate-key-'), 'a', 'b');
  assert.ok((await loadApiKey(home)).created);
});

test('renew replaces the key; deleting the file makes a new one at the next start', async () => {
  const home = tempDir('keymate-key-');
  const first = await loadApiKey(home);
  const renewed = await loadApiKey(home, { renew: true });
  assert.ok(renewed.created);
  assert.notEqual(renewed.key, first.key);
  assert.equal((await loadApiKey(home)).key, renewed.key);
  if (posix) assert.equal(fs.statSync(renewed.file).mode & 0o777, 0o600);
  fs.rmSync(apiKeyFile(home));
  const fresh = await loadApiKey(home);
  assert.ok(fresh.created);
  assert.notEqual(fresh.key, renewed.key);
});

test("a key of one's own in the file is used; a loose mode is made private", async () => {
  const home = tempDir('keymate-key-');
  fs.writeFileSync(apiKeyFile(home), '  my-own-long-secret-key-123  \n', { mode: 0o644 });
  if (posix) fs.chmodSync(apiKeyFile(home), 0o644);
  const k = await loadApiKey(home);
  assert.deepEqual({ key: k.key, created: k.created }, { key: 'my-own-long-secret-key-123', created: false });
  if (posix) assert.equal(fs.statSync(k.file).mode & 0o777, 0o600);
});

test('a file that holds no key: one line saying so and what to do', async () => {
  const home = tempDir('keymate-key-');
  for (const bad of ['', 'short', 'has a space in it somewhere', 'x'.repeat(300)]) {
    fs.writeFileSync(apiKeyFile(home), bad);
    await assert.rejects(loadApiKey(home), (e: Error) => {
      assert.match(e.message, /^api key: .*api-key does not hold a key .*delete it and a new one is made$/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
});

test('two first starts at once agree on one key, the one on disk', async () => {
  const home = tempDir('keymate-key-');
  const all = await Promise.all(Array.from({ length: 8 }, () => loadApiKey(home)));
  const onDisk = fs.readFileSync(apiKeyFile(home), 'utf8').trim();
  assert.deepEqual(new Set(all.map((k) => k.key)), new Set([onDisk]));
  assert.equal(all.filter((k) => k.created).length, 1);
});
