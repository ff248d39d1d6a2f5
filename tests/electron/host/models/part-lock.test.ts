// One writer per part across processes: `keymate models download` (a real
// child process, bin/keymate) holds a download halfway while this process,
// playing the app, opens the same library and asks for the same name; then a
// second CLI asks too. Both are refused with one line naming the process, the
// part is untouched, and the first download ends whole. Locks of processes
// that are gone, and of this process's past, are broken.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';

import type { DownloadState } from '../../../../common/contract';
import { Downloads } from '../../../../electron/host/models/download/downloads';
import { PartBusy, lockHolder, lockPart } from '../../../../electron/host/models/download/part-lock';
import { ModelLibrary } from '../../../../electron/host/models/library';
import { bin, stories, tempDir } from '../../../support/repo';
import { ModelServer } from './support/model-server';
import { downloadRig, finished, plenty } from './support/rig';

const source = fs.readFileSync(stories());
const half = Math.floor(source.length / 2);

interface Cli {
  pid: number;
  /** Resolves with the first --json line that matches. */
  line: (match: (s: DownloadState) => boolean) => Promise<DownloadState>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function cli(t: TestContext, args: readonly string[], home: string): Cli {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, KEYMATE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const line = (match: (s: DownloadState) => boolean): Promise<DownloadState> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line; stdout:\n${stdout}\nstderr:\n${stderr}`)), 30_000);
      const check = (): void => {
        const hit = stdout
          .split('\n')
          .filter((l) => l.endsWith('}'))
          .map((l) => JSON.parse(l) as DownloadState)
          .find(match);
        if (hit === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      waiters.add(check);
      check();
    });
  assert.ok(child.pid !== undefined);
  return { pid: child.pid, line, done };
}

test('the app and a second CLI are refused a part the CLI is downloading; the CLI ends whole', async (t) => {
  const server = await ModelServer.start(source);
  t.after(() => server.stop());
  server.plan = [{ holdAfter: half }];
  const home = tempDir('keymate-lock-');
  const models = path.join(home, 'models');
  const args = ['models', 'download', server.url(), '--name', 'm', '--json'];
  const first = cli(t, args, home);
  // Half the file is on disk and checkpointed (the CLI checkpoints every 16 MiB, so wait for the part's size).
  await first.line((s) => s.state === 'running');
  for (let i = 0; i < 3000 && !(fs.existsSync(path.join(models, 'm.gguf.part')) && fs.statSync(path.join(models, 'm.gguf.part')).size === half); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(fs.statSync(path.join(models, 'm.gguf.part')).size, half);

  const busy = new RegExp(`download: m: already being downloaded by process ${first.pid}: `);
  const events: DownloadState[] = [];
  const library = await ModelLibrary.open({ folder: models, statfs: plenty });
  const app = await Downloads.open({ library, statfs: plenty, emit: (s) => events.push(s) });
  t.after(() => app.close());
  await assert.rejects(app.start({ url: server.url(), name: 'm' }), busy);
  await assert.rejects(app.cancel('m'), busy);
  app.resume('m'); // from the restored (paused) entry: the run itself must not take the part
  await app.idle();
  const refused = app.list()[0];
  assert.ok(refused?.state === 'failed' && busy.test(refused.error), JSON.stringify(refused));
  assert.equal(fs.statSync(path.join(models, 'm.gguf.part')).size, half, 'the part is untouched');

  const second = await cli(t, args, home).done;
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`^keymate: download: m: already being downloaded by process ${first.pid}: [^\\n]*\\n$`));
  assert.equal(server.log.length, 1, 'neither refused downloader sent a request');

  server.release();
  const end = await first.done;
  assert.equal(end.code, 0, end.stderr);
  assert.ok(fs.readFileSync(path.join(models, 'm.gguf')).equals(source));
  assert.ok(!fs.existsSync(path.join(models, 'm.gguf.part.lock')), 'the lock goes with the download');
  assert.equal(await lockHolder(path.join(models, 'm.gguf.part.lock')), null);
});

test('a lock whose process is gone, or that this process no longer holds, is broken', async (t) => {
  const r = await downloadRig(t, source);
  const lock = path.join(r.folder, 'm.gguf.part.lock');
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  const stale = (pid: number | undefined): string =>
    JSON.stringify({ format: 'keymate-download-lock', pid, host: os.hostname(), started_ms: 1, proc_start: null, token: 'old' });
  fs.writeFileSync(lock, stale(child.pid));
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  assert.equal((await r.until(finished)).state, 'done');
  assert.ok(!fs.existsSync(lock));

  // This very process's pid, but not a lock it holds (a leak from an earlier run of the same pid).
  fs.writeFileSync(lock, stale(process.pid));
  assert.equal(await lockHolder(lock), null);
  const taken = await lockPart(lock);
  await assert.rejects(lockPart(lock), (e: unknown) => e instanceof PartBusy && e.pid === process.pid);
  await taken.release();
  assert.ok(!fs.existsSync(lock));
});

test('two libraries in one process: the second is refused while the first downloads', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ holdAfter: half }];
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  await r.until((s) => s.state === 'running' && s.bytes_done === half);
  const other = await Downloads.open({ library: r.library, statfs: plenty, emit: () => undefined });
  t.after(() => other.close());
  await assert.rejects(other.start({ url: r.server.url(), name: 'm' }), new RegExp(`already being downloaded by process ${process.pid}`));
  r.server.release();
  assert.equal((await r.until(finished)).state, 'done');
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});
