// saveState / loadState through the addon and its wrapper: a conversation's KV
// cache survives a new engine (as it would an app restart), so its next
// prompt prefills only its new tokens and replies as an engine that read it
// all; a damaged file or another model is rejected with one line, and the
// engine's own cache stays usable. (The engine side is tested in
// native/tests/kv_state.cpp.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { NativeEngine } from '../../../../electron/host/engine/native-engine';
import { model, stories, tempDir } from '../../../support/repo';

const persona = 'Once upon a time, there was a little girl named Lily.';
const greedy = { temperature: 0, maxTokens: 8 };

let saver: NativeEngine;
let loader: NativeEngine;
let dir: string;
before(async () => {
  saver = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
  loader = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
  dir = tempDir('keymate-state-');
});
after(() => {
  saver.close();
  loader.close();
});

test('a saved conversation continues in a new engine without re-reading it', async () => {
  const file = path.join(dir, 'chat.kmkv');
  const first = await saver.generate({ prompt: persona, ...greedy });
  const saved = await saver.saveState(file);
  assert.equal(saved.tokens, first.promptTokens + first.tokens.length - 1);
  assert.equal(saved.bytes, fs.statSync(file).size);
  assert.deepEqual(fs.readdirSync(dir), ['chat.kmkv']);

  assert.deepEqual(await loader.loadState(file), saved);
  const next = { prompt: `${persona}${first.completion} She loved to`, ...greedy };
  const resumed = await loader.generate(next);
  const kept = await saver.generate(next);
  const fresh = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
  try {
    const full = await fresh.generate(next);
    assert.equal(full.cachedTokens, 0);
    assert.ok(resumed.cachedTokens > first.promptTokens, `cached ${resumed.cachedTokens}`);
    assert.equal(resumed.cachedTokens, kept.cachedTokens);
    assert.deepEqual(resumed.tokens, kept.tokens);
    assert.deepEqual(resumed.tokens, full.tokens);
    assert.equal(resumed.completion, full.completion);
  } finally {
    fresh.close();
  }
});

test('saving and loading hold the engine like generate', async () => {
  const file = path.join(dir, 'busy.kmkv');
  const saving = saver.saveState(file);
  assert.equal(saver.busy, 'saveState');
  await assert.rejects(saver.generate({ prompt: 'Hi', ...greedy }), /generate: the engine is busy with saveState \(wait for it\)/);
  await saving;
  const loading = loader.loadState(file);
  assert.equal(loader.busy, 'loadState');
  await loading;
  assert.equal(loader.busy, null);
});

test('a damaged file or another model is rejected with one line, and the cache stays usable', async () => {
  const file = path.join(dir, 'good.kmkv');
  await saver.generate({ prompt: 'One day, a dog', ...greedy });
  await saver.saveState(file);
  const before = await loader.generate({ prompt: persona, ...greedy });

  const bytes = fs.readFileSync(file);
  const middle = bytes.length >> 1;
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x40, middle);
  const damaged = path.join(dir, 'damaged.kmkv');
  fs.writeFileSync(damaged, bytes);
  const cut = path.join(dir, 'cut.kmkv');
  fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 200));
  const q8 = await NativeEngine.load(model('stories260K-Q8_0.gguf'), { backend: 'cpu', threads: 1 });
  try {
    for (const [engine, f, message] of [
      [loader, damaged, 'is damaged (checksum mismatch)'],
      [loader, cut, 'is truncated ('],
      [q8, file, 'was written for another model (fingerprint differs)'],
    ] as const) {
      const error = await engine.loadState(f).then(
        () => assert.fail(`${f} loaded`),
        (e: unknown) => e as Error,
      );
      assert.ok(error.message.startsWith(`load_state: ${f} ${message}`), error.message);
      assert.ok(!error.message.includes('\n'), 'one line');
    }
  } finally {
    q8.close();
  }
  const again = await loader.generate({ prompt: persona, ...greedy });
  assert.equal(again.cachedTokens, again.promptTokens - 1);
  assert.deepEqual(again.tokens, before.tokens);
});

test('paths are checked on the JS thread', () => {
  const handle = saver as unknown as { saveState: (p: unknown) => Promise<unknown>; loadState: (p: unknown) => Promise<unknown> };
  assert.throws(() => handle.saveState(42), TypeError);
  assert.throws(() => handle.loadState(''), /loadState: path must not be empty/);
});
