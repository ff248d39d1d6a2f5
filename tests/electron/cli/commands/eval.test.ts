// keymate eval: the --json fields DESIGN.md gives, real numbers for INT8
// weights on the stories260K model (a few chunks, to stay fast), and the
// usage and file errors.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';

import { assertOneLineError, keymate, keymateJson } from '../../../support/cli';
import { root, stories } from '../../../support/repo';

const text = path.join(root, 'tests', 'fixtures', 'text', 'stories.txt');

test('eval --weights int8 --json: fields, and int8 close to full precision', () => {
  const r = keymateJson(['eval', '--model', stories(), '--weights', 'int8', '--text', text, '--ctx', '128', '--chunks', '4', '--backend', 'cpu']);
  for (const key of ['kld_mean', 'kld_p99', 'top1_agreement', 'ppl', 'ppl_ref', 'tokens']) {
    assert.equal(typeof r[key], 'number', `${key} is ${typeof r[key]}`);
    assert.ok(Number.isFinite(r[key]), `${key} = ${String(r[key])}`);
  }
  // 4 chunks of 128 tokens; in each, the predictions of tokens 65..127 from
  // the ones before them are scored (llama.cpp's protocol): 63 per chunk.
  assert.equal(r['chunks'], 4);
  assert.equal(r['tokens'], 4 * 63);
  assert.equal(r['weights'], 'int8-g32');
  assert.equal(r['kv'], 'f16');
  const kld = r['kld_mean'] as number;
  assert.ok(kld > 0 && kld < 0.01, `int8 kld_mean ${kld}`);
  assert.ok((r['kld_p99'] as number) >= 0);
  const top1 = r['top1_agreement'] as number;
  assert.ok(top1 > 0.9 && top1 <= 1, `top1_agreement ${top1}`);
  const ppl = r['ppl'] as number;
  const pplRef = r['ppl_ref'] as number;
  assert.ok(pplRef > 1, `ppl_ref ${pplRef}`);
  assert.ok(Math.abs(ppl - pplRef) / pplRef < 0.02, `ppl ${ppl} vs ppl_ref ${pplRef}`);
});

test('eval --weights native is the reference itself: zero divergence', () => {
  const r = keymateJson(['eval', '--model', stories(), '--text', text, '--chunks', '2', '--backend', 'cpu']);
  assert.equal(r['kld_mean'], 0);
  assert.equal(r['top1_agreement'], 1);
  assert.equal(r['ppl'], r['ppl_ref']);
});

test('eval without --text is a usage error', () => {
  const r = keymate(['eval', '--model', stories()]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--text/);
});

test('eval with a missing text file is one error line naming it', () => {
  const missing = path.join(root, 'no-such-text.txt');
  assertOneLineError(keymate(['eval', '--model', stories(), '--text', missing]), missing, /no such file/);
});

test('eval on a text shorter than two chunks fails with the engine\'s message', () => {
  const r = keymate(['eval', '--model', stories(), '--text', text, '--ctx', '4096', '--backend', 'cpu']);
  assert.equal(r.status, 1, r.stderr);
  assertOneLineError(r, 'eval');
});
