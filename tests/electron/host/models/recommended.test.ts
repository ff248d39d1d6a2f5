// The recommended list: the engine's shape plan agrees with its file plan on a
// real model (one formula, two ways in), and the fits are judged against the
// GPU when there is one, else system memory.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { RecommendedList } from '../../../../common/contract';
import { engineFormats, planMemory, planShape, probeBackends } from '../../../../electron/host/engine/engine';
import { RECOMMENDED, recommendedList } from '../../../../electron/host/models/recommended';
import { stories } from '../../../support/repo';

test('planShape of stories260K\'s shape equals planMemory of the file, in every format', () => {
  const shape = { layers: 5, dim: 64, heads: 8, kvHeads: 4, ffn: 172, vocab: 512, contextLength: 512, tiedOutput: false, fileType: 'f32' };
  for (const weights of ['native', 'f16', 'fp8', 'int8', 'int4', 'nf4', 'w8a8']) {
    const options = { weights, kv: 'int8', context: 300, vramBytes: 600e6 };
    assert.deepEqual(planShape(shape, options), planMemory(stories(), options), weights);
  }
  assert.throws(() => planShape({ ...shape, fileType: 'q9_z' }), /not a ggml type name/);
});

test('each recommended model has fits for every engine format, judged on this machine', () => {
  const list = recommendedList({ offline: true, reason: 'test' }, (name) => name === RECOMMENDED[0]?.name);
  RecommendedList.parse(list);
  assert.ok(list.models.length >= 5 && list.models.length <= 7);
  const gpu = probeBackends().cuda.available;
  const canonical = engineFormats().weights.filter((f) => f.sameAs === '').map((f) => f.name).sort();
  assert.equal(list.memory.where, gpu ? 'gpu' : 'cpu');
  for (const m of list.models) {
    assert.ok(m.url.startsWith('https://huggingface.co/') && m.url.includes('/resolve/main/') && m.url.endsWith('.gguf'));
    assert.deepEqual(Object.keys(m.fits).sort(), canonical);
    assert.ok(m.fits['f16'] !== undefined && m.fits['native'] !== undefined);
    // f16 weights are never smaller than the file's 8- or 4-bit ones.
    assert.ok((m.fits['f16']?.need_mb ?? 0) > (m.fits['native']?.need_mb ?? 0), m.id);
  }
  assert.equal(list.models[0]?.in_library, true);
  assert.equal(list.models[1]?.in_library, false);
});

test('a 7B model does not fit 4 GiB of GPU memory in f16, and a 135M one fits in every format', () => {
  const backends = { cpu: { available: true, simd: 'avx2', threads: 2 }, cuda: { compiled: true, archs: [89], available: true, reason: '', devices: [{ name: 'RTX 4060 Laptop', cc: 89, memoryMb: 4096, driver: '560' }] } };
  const list = recommendedList({ offline: false, reason: null }, () => false, { backends: () => backends });
  assert.deepEqual(list.memory, { where: 'gpu', device: 'RTX 4060 Laptop', have_mb: 4096, context: 4096, kv: 'f16' });
  const big = list.models.find((m) => m.id.startsWith('qwen2.5-7b'));
  assert.equal(big?.fits['f16']?.fits, false);
  const small = list.models.find((m) => m.id.startsWith('smollm2-135m'));
  for (const fit of Object.values(small?.fits ?? {})) assert.ok(fit.fits && fit.where === 'gpu' && fit.have_mb === 4096);
});
