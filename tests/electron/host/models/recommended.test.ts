// The recommended list: the engine's shape plan agrees with its file plan on a
// real model (one formula, two ways in), and the fits are judged against the
// GPU when there is one, else system memory.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { RecommendedList } from '../../../../common/contract';
import { engineFormats, planMemory, planShape, probeBackends } from '../../../../electron/host/engine/native-engine';
import { RECOMMENDED, recommendedList } from '../../../../electron/host/models/recommended';
import { stories } from '../../../support/repo';

const MIB = 1024 * 1024;

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
  assert.deepEqual(list.models.map((m) => m.id), RECOMMENDED.map((r) => r.id));
  const gpu = probeBackends().cuda.available;
  const canonical = engineFormats().weights.filter((f) => f.sameAs === '').map((f) => f.name).sort();
  assert.equal(list.memory.where, gpu ? 'gpu' : 'cpu');
  for (const m of list.models) {
    assert.ok(m.url.startsWith('https://huggingface.co/') && m.url.includes('/resolve/main/') && m.url.endsWith(`/${m.name}.gguf`), m.url);
    assert.deepEqual(Object.keys(m.fits).sort(), canonical);
    assert.ok(m.fits['f16'] !== undefined && m.fits['native'] !== undefined);
    // f16 weights are never smaller than the file's 8- or 4-bit ones.
    assert.ok((m.fits['f16']?.need_mb ?? 0) > (m.fits['native']?.need_mb ?? 0), m.id);
  }
  assert.equal(list.models[0]?.in_library, true);
  assert.equal(list.models[1]?.in_library, false);
});

test('every fit is the engine\'s plan of that model\'s shape, head size included', () => {
  const have = 6 * 1024 ** 3;
  const backends = { cpu: { available: true, simd: 'avx2', threads: 2 }, cuda: { compiled: true, archs: [89], available: true, reason: '', devices: [{ name: 'test GPU', cc: 89, memoryMb: have / MIB, driver: '560' }] } };
  const list = recommendedList({ offline: false, reason: null }, () => false, { backends: () => backends });
  for (const [i, m] of list.models.entries()) {
    const facts = RECOMMENDED[i];
    assert.ok(facts !== undefined && facts.id === m.id);
    const shape = { layers: m.shape.layers, dim: m.shape.dim, heads: m.shape.heads, kvHeads: m.shape.kv_heads, headDim: m.shape.head_dim ?? 0, ffn: m.shape.ffn, vocab: m.shape.vocab, contextLength: m.shape.context_length, tiedOutput: facts.tied_output, fileType: facts.file_type };
    for (const [weights, fit] of Object.entries(m.fits)) {
      const plan = planShape(shape, { weights, kv: 'f16', context: Math.min(4096, m.shape.context_length), vramBytes: have });
      assert.deepEqual(fit, { fits: plan.fits, need_mb: Math.ceil(plan.totalBytes / MIB), have_mb: have / MIB, where: 'gpu' }, `${m.id} ${weights}`);
    }
    // A head size is given only where it differs from dim / heads.
    if (m.shape.head_dim !== undefined) assert.notEqual(m.shape.head_dim, m.shape.dim / m.shape.heads, m.id);
  }
});

test('a head size that is not dim / heads sizes the KV cache: Qwen3 0.6B keeps 128 per head, not 64', () => {
  const qwen = RECOMMENDED.find((r) => r.id === 'qwen3-0.6b-q8_0');
  assert.ok(qwen !== undefined && qwen.shape.head_dim === 128 && qwen.shape.dim / qwen.shape.heads === 64);
  const shape = { layers: qwen.shape.layers, dim: qwen.shape.dim, heads: qwen.shape.heads, kvHeads: qwen.shape.kv_heads, ffn: qwen.shape.ffn, vocab: qwen.shape.vocab, contextLength: qwen.shape.context_length, tiedOutput: true, fileType: 'q8_0' };
  const options = { weights: 'native', kv: 'f16', context: 4096, vramBytes: 8e9 };
  const own = planShape({ ...shape, headDim: 128 }, options);
  const guessed = planShape(shape, options);
  // 28 layers x (k + v) x 8 kv heads x 128 x 2 bytes.
  assert.equal(own.kvBytesPerToken, 28 * 2 * 8 * 128 * 2);
  assert.equal(own.kvBytesPerToken, 2 * guessed.kvBytesPerToken);
  assert.ok(own.weightsBytes > guessed.weightsBytes, 'q and o are heads x 128 wide');
});

test('a 4B model does not fit 4 GiB of GPU memory in f16, and Gemma 3 270M fits in every format', () => {
  const backends = { cpu: { available: true, simd: 'avx2', threads: 2 }, cuda: { compiled: true, archs: [89], available: true, reason: '', devices: [{ name: 'RTX 4060 Laptop', cc: 89, memoryMb: 4096, driver: '560' }] } };
  const list = recommendedList({ offline: false, reason: null }, () => false, { backends: () => backends });
  assert.deepEqual(list.memory, { where: 'gpu', device: 'RTX 4060 Laptop', have_mb: 4096, context: 4096, kv: 'f16' });
  const big = list.models.find((m) => m.id === 'qwen3-4b-q4_k_m');
  assert.equal(big?.fits['f16']?.fits, false);
  assert.equal(big?.fits['native']?.fits, true);
  const small = list.models.find((m) => m.id === 'gemma-3-270m-it-q8_0');
  assert.ok(small !== undefined);
  for (const fit of Object.values(small.fits)) assert.ok(fit.fits && fit.where === 'gpu' && fit.have_mb === 4096);
});

test('the list holds the families people download, each in a quantization they download', () => {
  const families = ['qwen3-0.6b', 'qwen3-1.7b', 'qwen3-4b', 'gemma-3-270m', 'gemma-3-1b', 'gemma-3-4b', 'phi-4-mini', 'smollm3-3b', 'llama-3.2-1b', 'llama-3.2-3b'];
  for (const f of families) assert.equal(RECOMMENDED.filter((r) => r.id.startsWith(f)).length, 1, f);
  for (const r of RECOMMENDED) {
    assert.ok(['Q4_K_M', 'Q8_0'].includes(r.quant), r.id);
    assert.equal(r.file_type, r.quant === 'Q8_0' ? 'q8_0' : 'q4_K', r.id);
    assert.ok(r.name.endsWith(r.quant), r.id);
    // Bytes per parameter of the file: between Q4_K_M's and Q8_0's, with the vocabulary and metadata on top.
    const perParam = r.size_bytes / r.params;
    assert.ok(perParam > (r.quant === 'Q8_0' ? 1.0 : 0.5) && perParam < (r.quant === 'Q8_0' ? 1.15 : 0.85), `${r.id}: ${perParam.toFixed(3)} bytes per parameter`);
  }
  const sizes = RECOMMENDED.map((r) => r.size_bytes);
  assert.deepEqual(sizes, [...sizes].sort((a, b) => a - b), 'smallest first');
});
