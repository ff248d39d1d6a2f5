// keymate synth: a small real-vocabulary shape written to disk must load in
// info and generate, and the same seed must give the same bytes.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { assertOneLineError, keymate, keymateJson } from '../../../support/cli';
import { tempDir } from '../../../support/repo';

const dir = tempDir();
// test-llama2: dim 64, 2 layers, the Llama 2 32000-token vocabulary (a few MB).
const shape = 'test-llama2';
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('synth writes a model that info and generate load', () => {
  const out = path.join(dir, 'tiny.gguf');
  const r = keymateJson(['synth', '--shape', shape, '--type', 'f16', '--seed', '5', '--out', out]);
  assert.deepEqual(r, { path: out, shape, type: 'f16', seed: 5, bytes: fs.statSync(out).size });

  const info = keymateJson(['info', '--model', out]);
  const model = info['model'] as Record<string, unknown>;
  assert.equal(model['vocab'], 32000);
  assert.deepEqual(Object.keys(model['tensor_types'] as object).sort(), ['f16', 'f32']);

  const gen = keymateJson(['generate', '--model', out, '--prompt', 'Hello', '--temperature', '0', '--max-tokens', '4']);
  assert.ok((gen['tokens'] as number) >= 1);
  assert.equal(typeof gen['completion'], 'string');
});

test('the same shape, type and seed give the same bytes; another seed does not', () => {
  const a = path.join(dir, 'a.gguf');
  const b = path.join(dir, 'b.gguf');
  const c = path.join(dir, 'c.gguf');
  for (const [file, seed] of [[a, '11'], [b, '11'], [c, '12']] as const) {
    assert.equal(keymate(['synth', '--shape', shape, '--type', 'q8_0', '--seed', seed, '--out', file]).status, 0);
  }
  assert.equal(sha256(a), sha256(b));
  assert.notEqual(sha256(a), sha256(c));
});

test('an unknown shape is one line naming it', () => {
  const r = keymate(['synth', '--shape', 'llama9-900b', '--out', path.join(dir, 'x.gguf')]);
  assertOneLineError(r, 'llama9-900b', /unknown shape/);
  assert.ok(!fs.existsSync(path.join(dir, 'x.gguf')));
});
