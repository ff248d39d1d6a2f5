// A model load never holds the host hostage: a load that never finishes (a
// file on a share that stopped answering) is cancelled by the next choice or
// by close(), and given up after the timeout; the engine such a load yields
// late is closed, never installed. The good load runs the real engine.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_SETTINGS } from '../../../../common/contract';
import { NativeEngine } from '../../../../electron/host/engine/native-engine';
import { HostEvents } from '../../../../electron/host/host-events';
import { EngineService, appThreads, engineConfig } from '../../../../electron/host/services/engine-service';
import { stories } from '../../../support/repo';

const settings = { ...DEFAULT_SETTINGS, threads: 1 };

/** A loader that hangs for one path, and loads the real engine for any other; `release` lets the hung one finish. */
function hangingLoader(hangOn: string) {
  const late: NativeEngine[] = [];
  let release: () => void = () => undefined;
  const loadEngine = async (file: string, options: Parameters<typeof NativeEngine.load>[1]): Promise<NativeEngine> => {
    if (file.endsWith(hangOn)) {
      await new Promise<void>((resolve) => (release = resolve));
      const engine = await NativeEngine.load(stories(), options);
      late.push(engine);
      return engine;
    }
    return NativeEngine.load(file, options);
  };
  return { loadEngine, late, release: () => release() };
}

test('a newer choice cancels a load that hangs, and the engine it yields late is closed', async () => {
  const loader = hangingLoader('share.gguf');
  const service = new EngineService(new HostEvents(), { loadEngine: loader.loadEngine });
  const hung = service.load(engineConfig('/mnt/share.gguf', settings));
  await new Promise((r) => setImmediate(r));
  assert.equal(service.status().state, 'loading');
  const status = await service.load(engineConfig(stories(), settings));
  assert.equal(status.state, 'ready');
  await assert.rejects(hung, /^LoadCancelled: loading share\.gguf: cancelled: stories260K\.gguf was chosen instead$/);
  loader.release();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(loader.late.length, 1);
  assert.equal(loader.late[0]?.busy, null);
  assert.throws(() => loader.late[0]?.info(), /closed|no model/i, 'the late engine was closed');
  assert.equal(service.status().model?.path, stories());
  await service.close();
});

test('close() does not wait for a load that hangs', async () => {
  const loader = hangingLoader('share.gguf');
  const service = new EngineService(new HostEvents(), { loadEngine: loader.loadEngine });
  const hung = service.load(engineConfig('/mnt/share.gguf', settings));
  await service.close();
  await assert.rejects(hung, /cancelled: the host is stopping/);
  assert.equal(service.status().state, 'none');
  loader.release();
});

test('a load that takes longer than the timeout is given up, and the queue moves on', async () => {
  const loader = hangingLoader('share.gguf');
  const service = new EngineService(new HostEvents(), { loadEngine: loader.loadEngine, loadTimeoutMs: 100 });
  await assert.rejects(service.load(engineConfig('/mnt/share.gguf', settings)), /loading share\.gguf: gave up after 0\.1 s/);
  assert.equal(service.status().state, 'error');
  assert.equal((await service.load(engineConfig(stories(), settings))).state, 'ready');
  loader.release();
  await service.close();
});

test("threads 0 in the app is one per physical core but one, never none; a number is kept", () => {
  assert.equal(appThreads(0, 2), 1);
  assert.equal(appThreads(0, 8), 7);
  assert.equal(appThreads(0, 1), 1);
  assert.equal(appThreads(3, 8), 3);
});
