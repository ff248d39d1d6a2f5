// The memory plan of a GGUF on disk, by the real engine from the real
// stories260K header: one verdict per weight format the engine runs, the KV
// cache planned for the model's own context when it is shorter than a key
// press's, judged against the GPU when there is one, else system memory.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { engineFormats, probeBackends } from '../../../../electron/host/engine/native-engine';
import type { NativeBackendReport } from '../../../../electron/host/engine/native';
import { filePlan } from '../../../../electron/host/models/file-plan';
import { stories } from '../../../support/repo';

const GiB = 1024 * 1024 * 1024;
const noGpu = (): NativeBackendReport => ({ ...probeBackends(), cuda: { compiled: false, archs: [], available: false, reason: 'test', devices: [] } });

test('stories260K against 8 GiB of system memory: every format fits, planned for its own 512 tokens', () => {
  const plan = filePlan(stories(), { backends: noGpu, totalmem: () => 8 * GiB });
  const formats = engineFormats().weights.filter((f) => f.sameAs === '').map((f) => f.name);
  assert.deepEqual(Object.keys(plan.fits), formats);
  assert.ok(formats.includes('native') && formats.includes('fp8'));
  assert.deepEqual(plan.memory, { where: 'cpu', device: 'system memory', have_mb: 8192, context: 512, kv: 'f16' });
  for (const [format, fit] of Object.entries(plan.fits)) {
    assert.equal(fit.fits, true, format);
    assert.equal(fit.where, 'cpu');
    assert.ok(fit.need_mb > 0 && fit.need_mb < 8192, `${format}: ${fit.need_mb} MiB`);
  }
  // The file's own f32 weights take more than int4 ones.
  assert.ok((plan.fits['native']?.need_mb ?? 0) > (plan.fits['int4-g32']?.need_mb ?? Infinity));
});

test('too little memory: nothing fits; a GPU is judged instead of system memory; a non-GGUF is refused', () => {
  const tiny = filePlan(stories(), { backends: noGpu, totalmem: () => 1024 * 1024 });
  assert.ok(Object.values(tiny.fits).every((f) => !f.fits));
  const gpu = (): NativeBackendReport => ({
    ...noGpu(),
    cuda: { compiled: true, archs: [89], available: true, reason: '', devices: [{ ...probeBackends().cuda.devices[0], name: 'NVIDIA GeForce RTX 4060 Laptop GPU', memoryMb: 8188 } as NativeBackendReport['cuda']['devices'][number]] },
  });
  const onGpu = filePlan(stories(), { backends: gpu });
  assert.equal(onGpu.memory.where, 'gpu');
  assert.equal(onGpu.memory.device, 'NVIDIA GeForce RTX 4060 Laptop GPU');
  assert.equal(onGpu.memory.have_mb, 8188);
  assert.throws(() => filePlan(__filename, { backends: noGpu }), /GGUF|magic/i);
});
