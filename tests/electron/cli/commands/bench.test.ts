// keymate bench --json: DESIGN.md's fields with the right types, for a model
// file and for a synthetic shape. Sizes are tiny: this checks the contract,
// not the speed.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { keymate, keymateJson } from '../../../support/cli';
import { stories } from '../../../support/repo';

const quick = ['--prompt-tokens', '16', '--gen-tokens', '8', '--repeat', '2', '--threads', '1'];

function assertBench(r: Record<string, unknown>, promptTokens: number, genTokens: number): void {
  assert.deepEqual(
    Object.keys(r).sort(),
    ['backend', 'bound_ms', 'decode_ms_per_token', 'decode_tok_s', 'device', 'gen_tokens', 'path', 'prefill_tok_s', 'prompt_tokens', 'stages_ms', 'ttft_ms'].sort(),
  );
  assert.equal(r['backend'], 'cpu');
  assert.ok(typeof r['device'] === 'string' && r['device'] !== '');
  assert.equal(r['path'], 'launch');
  assert.equal(r['prompt_tokens'], promptTokens);
  assert.equal(r['gen_tokens'], genTokens);
  const ttft = r['ttft_ms'] as Record<string, number>;
  assert.deepEqual(Object.keys(ttft).sort(), ['median', 'min', 'p90']);
  assert.ok(ttft['min']! > 0 && ttft['min']! <= ttft['median']! && ttft['median']! <= ttft['p90']!);
  for (const k of ['prefill_tok_s', 'decode_tok_s', 'decode_ms_per_token', 'bound_ms']) {
    const v = r[k];
    assert.ok(typeof v === 'number' && v > 0, `${k} = ${String(v)}`);
  }
  const stages = r['stages_ms'] as Record<string, number>;
  assert.deepEqual(Object.keys(stages).sort(), ['attention', 'embed', 'ffn', 'logits', 'other', 'qkv']);
  assert.ok(Object.values(stages).every((v) => typeof v === 'number' && v >= 0));
}

test('bench --model --json', () => {
  assertBench(keymateJson(['bench', '--model', stories(), ...quick]), 16, 8);
});

test('bench --synthetic --json', () => {
  assertBench(keymateJson(['bench', '--synthetic', 'test-llama2', '--type', 'q8_0', ...quick]), 16, 8);
});

test('bench --path graph on the CPU backend is bad usage that names the CUDA backend', () => {
  for (const path of ['graph', 'zero-launch']) {
    const r = keymate(['bench', '--synthetic', 'test-llama2', '--backend', 'cpu', '--path', path, ...quick]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^keymate: bench: --path ${path} needs the CUDA backend`));
  }
});
