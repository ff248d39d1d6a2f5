// The model flows of the store: when the first-run screen shows; import ->
// the models listed again -> load -> companion; a download's events up to 'done' and the load
// that follows; pause/resume/cancel taking the host's answer; offline said
// from the host's network word or a failed download; errors in one line.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DownloadState, EngineStatus, ModelLibraryEntry } from '../../../common/contract';
import { needsFirstRun, offlineReason } from '../../../renderer/store/models-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, download, engineStatus, libraryEntry, recommendedList, tick } from '../fake-host';

const ready = (path: string): EngineStatus =>
  engineStatus({
    state: 'ready',
    message: null,
    model: {
      path,
      name: 'stories260K',
      architecture: 'llama',
      parameters: 260_000,
      weight_bytes: 1_000_000,
      tensor_types: { f32: 57 },
      context_length: 512,
      vocab: 512,
      layers: 5,
      dim: 64,
      heads: 8,
      kv_heads: 4,
      tokenizer: 'llama',
      chat_template: false,
      thinking_switch: false,
    },
    backend: { name: 'cpu', device: 'cpu', context: 512, weights: 'native', kv: 'f16' },
  });

/** A host with an empty library that imports and loads what it is given. */
function emptyHost() {
  const library: ModelLibraryEntry[] = [];
  const host = new FakeHost()
    .handle('models.list', () => ({ models: library.map((m) => ({ ...m, selected: false })), downloads: [] }))
    .handle('models.recommended', () => recommendedList())
    .handle('models.select', ({ path }) => ready(path));
  return { host, library };
}

test('the first-run screen: only once the library is known to be empty, in the companion\'s place, until skipped or a model is there', async () => {
  const { host, library } = emptyHost();
  const s = createUiStore(host).getState;
  s().setEngine(engineStatus());
  assert.equal(needsFirstRun(s()), false, 'not before the library has answered');
  await s().refreshModels();
  assert.equal(needsFirstRun(s()), true);
  s().setView('models');
  assert.equal(needsFirstRun(s()), false, 'the other views stay reachable');
  s().setView('companion');
  library.push(libraryEntry('stories260K'));
  await s().refreshModels();
  assert.equal(needsFirstRun(s()), false, 'a model in the library: the Models view can load it');
  library.pop();
  await s().refreshModels();
  s().setEngine(ready('/m/cli.gguf'));
  assert.equal(needsFirstRun(s()), false, 'a model loaded from the command line');
  s().setEngine(engineStatus());
  s().skipFirstRun();
  assert.equal(needsFirstRun(s()), false);
});

test('import from the first run: models.import, the models listed again, the model loaded, then the companion', async () => {
  const { host, library } = emptyHost();
  host.handle('models.import', ({ path }) => {
    const entry = libraryEntry('stories260K', { source: path });
    library.push(entry);
    return entry;
  });
  const s = createUiStore(host).getState;
  s().setEngine(engineStatus());
  await s().refreshModels();
  const pending = s().importModel('/shared/models/stories260K.gguf', { load: true });
  assert.equal(s().library.importing, '/shared/models/stories260K.gguf');
  assert.equal(needsFirstRun(s()), true, 'the screen stays while it imports');
  await pending;
  assert.deepEqual(host.names(), ['models.list', 'models.import', 'models.list', 'models.select', 'models.list']);
  assert.deepEqual(host.sent[3]?.payload, { path: libraryEntry('stories260K').path }, 'the library copy is loaded, not the original');
  assert.equal(s().library.importing, null);
  assert.equal(s().engine?.state, 'ready');
  assert.equal(s().view, 'companion');
  assert.equal(needsFirstRun(s()), false);
  assert.deepEqual(s().models?.map((m) => m.name), ['stories260K']);
});

test('an import that fails says why in one line, and the first run stays', async () => {
  const { host } = emptyHost();
  host.handle('models.import', () => {
    throw new Error('models.import: /tmp/x.gguf: not a GGUF file (bad magic)');
  });
  const s = createUiStore(host).getState;
  s().setEngine(engineStatus());
  await s().refreshModels();
  await s().importModel('/tmp/x.gguf', { load: true });
  assert.equal(s().library.error, 'models.import: /tmp/x.gguf: not a GGUF file (bad magic)');
  assert.equal(s().library.importing, null);
  assert.equal(needsFirstRun(s()), true);
  assert.ok(!host.names().includes('models.select'));
});

test('a model that fails to load after import leaves the user on the Models view with the reason', async () => {
  const { host, library } = emptyHost();
  host.handle('models.import', () => {
    const e = libraryEntry('broken');
    library.push(e);
    return e;
  });
  host.handle('models.select', () => engineStatus({ state: 'error', message: 'load: tensor blk.0.attn_q.weight: unsupported type iq2_xs' }));
  const s = createUiStore(host).getState;
  s().setEngine(engineStatus());
  await s().refreshModels();
  await s().importModel('/x/broken.gguf', { load: true });
  assert.equal(s().view, 'models');
  assert.equal(s().engine?.message, 'load: tensor blk.0.attn_q.weight: unsupported type iq2_xs');
});

test('import without load only adds to the library', async () => {
  const { host, library } = emptyHost();
  host.handle('models.import', () => {
    const e = libraryEntry('second');
    library.push(e);
    return e;
  });
  const s = createUiStore(host).getState;
  s().setView('settings');
  await s().importModel('/x/second.gguf', { load: false });
  assert.ok(!host.names().includes('models.select'));
  assert.equal(s().view, 'settings');
});

test('a download started from the first run follows its events and loads the model when it is done', async () => {
  const { host, library } = emptyHost();
  const url = 'https://huggingface.co/a/b/resolve/main/tiny.gguf';
  host.handle('models.download.start', (p) => {
    assert.deepEqual(p, { url, name: 'tiny' }, 'no empty sha256 is sent');
    return download({ state: 'queued', bytes_done: 0 });
  });
  const s = createUiStore(host).getState;
  s().setEngine(engineStatus());
  s().setView('models'); // started from the Models view this time: the companion must follow
  await s().refreshModels();
  await s().startDownload({ url, name: 'tiny', sha256: '' }, { load: true });
  assert.equal(s().library.downloads[0]?.state, 'queued');
  assert.deepEqual(s().library.loadWhenDone, ['d1']);

  s().downloadChanged(download({ state: 'running', bytes_done: 500, speed_bps: 100 }));
  assert.equal(s().library.downloads.length, 1);
  assert.equal(s().library.downloads[0]?.bytes_done, 500);
  s().downloadChanged(download({ state: 'verifying', bytes_done: 1000 }));

  library.push(libraryEntry('tiny', { origin: 'downloaded' }));
  s().downloadChanged({ ...download({ bytes_done: 1000 }), state: 'done', path: libraryEntry('tiny').path, sha256: 'f'.repeat(64) });
  for (let i = 0; i < 20 && s().view !== 'companion'; i++) await tick();
  assert.equal(s().engine?.state, 'ready');
  assert.equal(s().engine?.model?.path, libraryEntry('tiny').path);
  assert.equal(s().view, 'companion');
  assert.deepEqual(s().library.loadWhenDone, []);
  assert.equal(host.names().filter((n) => n === 'models.select').length, 1);
  // The same 'done' again (a snapshot after a reconnect) loads nothing twice.
  s().downloadChanged({ ...download({ bytes_done: 1000 }), state: 'done', path: libraryEntry('tiny').path, sha256: 'f'.repeat(64) });
  await tick();
  assert.equal(host.names().filter((n) => n === 'models.select').length, 1);
});

test('a download whose done event beat the answer to start is still loaded', async () => {
  const { host, library } = emptyHost();
  const done = { ...download({ bytes_done: 1000 }), state: 'done', path: libraryEntry('tiny').path, sha256: 'f'.repeat(64) } as DownloadState;
  const s = createUiStore(host).getState;
  host.handle('models.download.start', () => {
    library.push(libraryEntry('tiny'));
    s().downloadChanged(done);
    return download({ state: 'queued' });
  });
  s().setEngine(engineStatus());
  await s().startDownload({ url: 'https://huggingface.co/a/b/resolve/main/tiny.gguf' }, { load: true });
  assert.equal(s().library.downloads[0]?.state, 'done', 'the older answer does not overwrite the event');
  assert.equal(s().engine?.model?.path, libraryEntry('tiny').path);
});

test('pause, resume and cancel take the state the host answers; a failed start says why', async () => {
  const host = new FakeHost()
    .handle('models.download.pause', () => download({ state: 'paused', bytes_done: 400 }))
    .handle('models.download.resume', () => download({ state: 'running', bytes_done: 400 }))
    .handle('models.download.cancel', () => download({ state: 'cancelled', bytes_done: 400 }))
    .handle('models.download.start', () => {
      throw new Error('models.download.start: not enough free space: 1.2 GiB needed, 300 MiB free in /home');
    });
  const s = createUiStore(host).getState;
  s().downloadChanged(download());
  await s().pauseDownload('d1');
  assert.equal(s().library.downloads[0]?.state, 'paused');
  await s().resumeDownload('d1');
  assert.equal(s().library.downloads[0]?.state, 'running');
  await s().cancelDownload('d1');
  assert.equal(s().library.downloads[0]?.state, 'cancelled');
  assert.deepEqual(host.sent.slice(0, 3).map((r) => r.payload), [{ id: 'd1' }, { id: 'd1' }, { id: 'd1' }]);
  await s().startDownload({ url: 'https://huggingface.co/x/y/resolve/main/big.gguf', sha256: 'AB'.repeat(32) }, { load: false });
  assert.deepEqual(host.sent.at(-1)?.payload, { url: 'https://huggingface.co/x/y/resolve/main/big.gguf', sha256: 'AB'.repeat(32) }, 'as typed: the host lowercases it');
  assert.equal(s().library.error, 'models.download.start: not enough free space: 1.2 GiB needed, 300 MiB free in /home');
  assert.equal(s().library.downloads.length, 1);
});

test('offline: from the host\'s network word, or from a download that failed for want of a network', async () => {
  const s = createUiStore(
    new FakeHost().handle('models.recommended', () =>
      recommendedList({ network: { offline: true, reason: 'huggingface.co cannot be reached (ENOTFOUND): this machine looks offline' } }),
    ),
  ).getState;
  assert.equal(offlineReason(s()), null);
  s().downloadChanged({ ...download(), state: 'failed', error: 'connect ECONNREFUSED 127.0.0.1:9', offline: false });
  assert.equal(offlineReason(s()), null, 'a server that refuses is not "offline"');
  s().downloadChanged({ ...download({ id: 'd2' }), state: 'failed', error: 'getaddrinfo ENOTFOUND huggingface.co', offline: true });
  assert.equal(offlineReason(s()), 'getaddrinfo ENOTFOUND huggingface.co');
  await s().refreshRecommended();
  assert.equal(offlineReason(s()), 'huggingface.co cannot be reached (ENOTFOUND): this machine looks offline');
});

test('the models listed again keep downloads the host no longer lists; a browser has no file dialog', async () => {
  const host = new FakeHost()
    .handle('models.list', () => ({ models: [], downloads: [download({ id: 'd2', state: 'paused' })] }))
    .handle('models.pick_file', () => {
      throw new Error('models.pick_file: there is no file dialog here: type or paste the path of the .gguf file');
    });
  const s = createUiStore(host).getState;
  s().downloadChanged(download({ id: 'd1', state: 'cancelled' }));
  await s().refreshModels();
  assert.deepEqual(s().library.downloads.map((d) => `${d.id}:${d.state}`), ['d2:paused', 'd1:cancelled']);
  await assert.rejects(s().pickModelFile(), /no file dialog here/);
  host.handle('models.pick_file', () => ({ path: null }));
  assert.equal(await s().pickModelFile(), null);
});

test('the memory plan of a model is asked for once, and a failure says why and is asked again', async () => {
  let calls = 0;
  let fail = true;
  const plan = { path: '/m/a.gguf', fits: { native: { fits: true, need_mb: 516, have_mb: 8192, where: 'cpu' as const } }, memory: recommendedList().memory };
  const host = new FakeHost().handle('models.plan', () => {
    calls++;
    if (fail) throw new Error('models.plan: /m/a.gguf: not a GGUF file');
    return plan;
  });
  const s = createUiStore(host).getState;
  await s().planModel('/m/a.gguf');
  assert.deepEqual(s().library.plans['/m/a.gguf'], { error: 'models.plan: /m/a.gguf: not a GGUF file' });
  fail = false;
  await s().planModel('/m/a.gguf');
  await s().planModel('/m/a.gguf');
  assert.deepEqual(s().library.plans['/m/a.gguf'], { plan });
  assert.equal(calls, 2);
});
