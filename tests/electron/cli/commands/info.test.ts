// keymate info: the --json shape DESIGN.md gives, with and without a model.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { keymate, keymateJson } from '../../../support/cli';
import { stories } from '../../../support/repo';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

test('info --json: version, backends and nvml, no model', () => {
  const r = keymateJson(['info']);
  assert.deepEqual(Object.keys(r).sort(), ['backends', 'nvml', 'version']);
  assert.match(String(r['version']), /^\d+\.\d+\.\d+/);
  const backends = r['backends'];
  assert.ok(isObject(backends));
  const cpu = backends['cpu'];
  const cuda = backends['cuda'];
  assert.ok(isObject(cpu) && isObject(cuda));
  assert.equal(cpu['available'], true);
  assert.ok(typeof cpu['simd'] === 'string' && cpu['simd'] !== '');
  assert.ok(Number.isInteger(cpu['threads']) && (cpu['threads'] as number) >= 1);
  assert.deepEqual(Object.keys(cuda).sort(), ['archs', 'available', 'compiled', 'devices', 'reason']);
  assert.equal(typeof cuda['compiled'], 'boolean');
  assert.ok(Array.isArray(cuda['archs']) && cuda['archs'].every((a) => Number.isInteger(a)));
  // The addon is the shipped build: one fat binary for every supported GPU
  // generation, Turing to Hopper (only the engine's own test tree is narrowed).
  if (cuda['compiled'] === true) assert.deepEqual(cuda['archs'], [75, 80, 86, 89, 90]);
  assert.equal(typeof cuda['available'], 'boolean');
  assert.ok(Array.isArray(cuda['devices']));
  for (const d of cuda['devices'] as unknown[]) {
    assert.ok(isObject(d));
    assert.deepEqual(Object.keys(d).sort(), ['cc', 'driver', 'memory_mb', 'name']);
  }
  // Not available must say why, in words.
  if (cuda['available'] === false) assert.ok(typeof cuda['reason'] === 'string' && cuda['reason'].length > 10);
  const nvml = r['nvml'];
  assert.ok(isObject(nvml) && typeof nvml['available'] === 'boolean' && typeof nvml['reason'] === 'string');
});

test('info --model --json describes the model', () => {
  const r = keymateJson(['info', '--model', stories()]);
  const m = r['model'];
  assert.ok(isObject(m));
  assert.deepEqual(Object.keys(m).sort(), ['architecture', 'context_length', 'memory_plan', 'parameters', 'tensor_types', 'vocab']);
  assert.equal(m['architecture'], 'llama');
  assert.equal(m['vocab'], 512);
  assert.equal(m['context_length'], 512);
  // dim 64, 5 layers, GQA 8/4 heads, ffn 172, vocab 512; the file stores
  // output.weight as its own tensor (a copy of token_embd), so it counts.
  const expected = 2 * 512 * 64 + 5 * (64 + 64 * 64 + 2 * 32 * 64 + 64 * 64 + 64 + 3 * 172 * 64) + 64;
  assert.equal(m['parameters'], expected);
  assert.ok(isObject(m['tensor_types']));
  assert.ok((m['tensor_types']['f32'] as number) > 0);
  const plan = m['memory_plan'];
  assert.ok(isObject(plan));
  assert.equal(plan['weights_bytes'], expected * 4);
  assert.equal(plan['weights'], 'native');
  assert.equal(plan['kv'], 'f16');
  assert.equal(plan['context'], 512);
  for (const key of ['kv_bytes_per_token', 'kv_bytes', 'activation_bytes', 'reserve_bytes', 'total_bytes']) {
    assert.ok(Number.isInteger(plan[key]) && (plan[key] as number) >= 0, `${key} = ${String(plan[key])}`);
  }
  // K and V, 5 layers, 4 kv heads of 8 dims (64 / 8 heads), f16.
  assert.equal(plan['kv_bytes_per_token'], 2 * 5 * 4 * 8 * 2);
  assert.equal(plan['kv_bytes'], 512 * plan['kv_bytes_per_token']);
  const sum = ['weights_bytes', 'kv_bytes', 'activation_bytes', 'reserve_bytes'].reduce((a, k) => a + (plan[k] as number), 0);
  assert.equal(plan['total_bytes'], sum);
  // Without --vram, fits is judged against the first CUDA device, or left out with a reason.
  if ('fits' in plan) assert.equal(typeof plan['fits'], 'boolean');
  else assert.ok(typeof plan['reason'] === 'string' && plan['reason'].length > 10);
});

test('info --model --vram --context --weights --kv plans against the given memory', () => {
  const big = keymateJson(['info', '--model', stories(), '--vram', '8192', '--context', '256', '--weights', 'int8', '--kv', 'int8']);
  const plan = (big['model'] as Record<string, unknown>)['memory_plan'];
  assert.ok(isObject(plan));
  assert.equal(plan['weights'], 'int8-g32');
  assert.equal(plan['kv'], 'int8');
  assert.equal(plan['context'], 256);
  assert.equal(plan['vram_mb'], 8192);
  assert.equal(plan['fits'], true);
  assert.equal(plan['max_context'], 512, 'the longest context that fits is capped by the model');
  assert.ok((plan['weights_bytes'] as number) < 2 * 512 * 64 * 4 + 5 * 64 * 64 * 4 * 4, 'int8 holds less than f32');
  const tiny = keymateJson(['info', '--model', stories(), '--vram', '1']);
  const p2 = (tiny['model'] as Record<string, unknown>)['memory_plan'];
  assert.ok(isObject(p2));
  assert.equal(p2['vram_mb'], 1);
  assert.equal(p2['fits'], (p2['total_bytes'] as number) <= 1024 * 1024);
});

test('info without --json prints a report on stdout', () => {
  const r = keymate(['info', '--model', stories()]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^keymate +\d+\.\d+\.\d+\n/);
  assert.match(r.stdout, /\nvocab +512 \(llama\)\n/);
});
