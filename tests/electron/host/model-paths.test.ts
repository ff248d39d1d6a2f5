// Paths that are not model files, through every request that takes one
// (models.plan, models.select, models.import, settings.set): a named pipe
// used to freeze the host's event loop in open() and wedge the engine in
// "loading" with the choice saved, so every later start wedged too. Now each
// is one line naming what the path is, the host answers meanwhile, nothing
// is saved, and a start whose saved model cannot load comes up with the last
// model that did.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';

import { saveVersioned } from '../../../electron/host/storage/versioned-file';
import { lastModelFile, lastModelFormat } from '../../../electron/host/storage/stores';
import { stories, tempDir } from '../../support/repo';
import { specialFiles } from '../../support/special-files';
import type { Settings } from '../../../common/contract';
import { QUICK, type Rig, startHost } from './support';

/** A refusal must come at once: this is a hang guard, far above the milliseconds it takes. */
const HANG_MS = 5000;

async function refusedQuickly(work: () => unknown, pattern: RegExp): Promise<string> {
  const timer = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS).unref());
  let message = '';
  await Promise.race([
    Promise.resolve()
      .then(work)
      .then(
        () => assert.fail('accepted'),
        (e: unknown) => {
          message = e instanceof Error ? e.message : String(e);
        },
      ),
    timer,
  ]);
  assert.match(message, pattern);
  assert.ok(!message.includes('\n'), `more than one line: ${message}`);
  return message;
}

/** A host started on its saved settings (no --model), once its first load has settled. */
async function startSaved(t: TestContext, settings: Partial<Settings>, home?: string): Promise<Rig> {
  const rig = await startHost(t, { model: null, ...(home !== undefined && { home }) }, { ...QUICK, ...settings });
  if (rig.host.state().engine.state === 'loading') await rig.next('engine', (s) => s.state !== 'loading', HANG_MS);
  return rig;
}

async function special(t: TestContext) {
  const s = await specialFiles(tempDir('keymate-special-'));
  t.after(() => s.close());
  return s.paths;
}

test('a pipe, a socket, a device or a folder: refused by every request at once, nothing saved, the model kept', async (t) => {
  const rig = await startSaved(t, { model: stories() });
  const { host } = rig;
  assert.equal(host.state().engine.state, 'ready');
  for (const { kind, path: p } of await special(t)) {
    const h = host.handlers;
    // The host answers other clients while it refuses.
    const answered = Promise.resolve(h['state.get']({}, undefined));
    await refusedQuickly(() => h['models.plan']({ path: p }, undefined), new RegExp(`^models\\.plan: .*${kind.source}`));
    await refusedQuickly(() => h['models.select']({ path: p }, undefined), new RegExp(`^models\\.select: .*${kind.source}`));
    await refusedQuickly(() => h['settings.set']({ patch: { model: p } }, undefined), new RegExp(`^settings: model: .*${kind.source}`));
    await refusedQuickly(() => h['models.import']({ path: p }, undefined), new RegExp(`^import: .*${kind.source}`));
    assert.equal((await answered).engine.state, 'ready');
  }
  assert.equal(host.currentSettings().model, stories());
  assert.equal(host.state().engine.model?.path, stories());
  await host.stop();
  const saved = JSON.parse(fs.readFileSync(path.join(rig.home, 'settings.json'), 'utf8')) as { data: { model: string } };
  assert.equal(saved.data.model, stories());
});

test('a file that is not a GGUF is refused before it is saved as the model', async (t) => {
  const { host } = await startSaved(t, { model: stories() });
  const text = path.join(tempDir(), 'notes.gguf');
  fs.writeFileSync(text, 'not weights\n'.repeat(100));
  await refusedQuickly(() => host.handlers['settings.set']({ patch: { model: text } }, undefined), /^settings: model: .*notes\.gguf.*(GGUF|magic)/);
  assert.equal(host.currentSettings().model, stories());
});

test('a saved model that cannot be loaded: the start comes up with the last model that loaded, and says why', async (t) => {
  const home = tempDir('keymate-home-');
  const [pipe] = await special(t);
  assert.ok(pipe !== undefined);
  // As an older Keymate could leave it: the pipe saved as the model, stories260K loaded before.
  await saveVersioned(lastModelFile(home), lastModelFormat, { path: stories() });
  const rig = await startSaved(t, { model: pipe.path }, home);
  const ready = await rig.next('engine', (s) => s.state === 'ready', 10_000);
  assert.equal(ready.model?.path, stories());
  const notice = rig.host.notices.all().find((n) => n.message.includes('the saved model could not be loaded'));
  assert.ok(notice !== undefined, JSON.stringify(rig.host.notices.all()));
  assert.match(notice.message, /named pipe \(FIFO\).*starting with .*stories260K\.gguf/);
  assert.equal(rig.host.currentSettings().model, stories());
});

test('a saved model that cannot be loaded and no earlier one: an error at once, and the host still stops', async (t) => {
  const [pipe] = await special(t);
  assert.ok(pipe !== undefined);
  const rig = await startSaved(t, { model: pipe.path });
  const state = rig.host.state().engine;
  assert.equal(state.state, 'error');
  assert.match(state.message ?? '', /named pipe \(FIFO\), not a model file/);
  const stopped = rig.host.stop();
  await Promise.race([stopped, new Promise((_r, reject) => setTimeout(() => reject(new Error('stop hung')), HANG_MS).unref())]);
});

test('backend cuda where CUDA cannot run: refused by settings.set, and a saved one runs as auto with a notice', async (t) => {
  const { host } = await startSaved(t, { model: stories() });
  if (host.state().engine.backend?.name === 'cuda') return t.skip('this machine runs CUDA');
  await refusedQuickly(() => host.handlers['settings.set']({ patch: { backend: 'cuda' } }, undefined), /^settings: backend cuda: not available on this machine \(.+\); choose auto/);
  assert.equal(host.currentSettings().backend, 'auto');

  const rig = await startSaved(t, { model: stories(), backend: 'cuda' });
  assert.equal(rig.host.state().engine.state, 'ready');
  assert.ok(rig.host.notices.all().some((n) => /backend cuda is not available on this machine .*running with auto/.test(n.message)));
});
