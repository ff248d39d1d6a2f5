// keymate models download as a user runs it: a real child process (bin/keymate)
// against a real HTTP server on loopback (the download tests' ModelServer)
// serving a real model. The child is spawned asynchronously so that the server,
// which lives in this process, keeps answering while it runs. Every run ends
// with the invariant the library promises: a .gguf in models/ is the whole,
// verified file, or there is none.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';

import { DownloadState, ModelLibraryListing } from '../../../../common/contract';
import { keymateJson } from '../../../support/cli';
import { bin, stories, tempDir } from '../../../support/repo';
import { ModelServer } from '../../host/models/support/model-server';

const scratch = tempDir('keymate-models-dl-');
const whole = fs.readFileSync(stories());
const sha256 = createHash('sha256').update(whole).digest('hex');

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  /** Resolves with the first JSON line on stdout that matches. */
  line: (match: (s: DownloadState) => boolean) => Promise<DownloadState>;
  signal: (name: NodeJS.Signals) => void;
  done: Promise<Child>;
}

function start(t: TestContext, args: readonly string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const done = new Promise<Child>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const line = (match: (s: DownloadState) => boolean): Promise<DownloadState> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching line; stdout so far:\n${stdout}\nstderr:\n${stderr}`));
      }, 30_000);
      const check = (): void => {
        const hit = stdout
          .split('\n')
          .filter((l) => l.endsWith('}'))
          .map((l) => DownloadState.parse(JSON.parse(l)))
          .find(match);
        if (hit === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      waiters.add(check);
      check();
    });
  return { line, signal: (name) => child.kill(name), done };
}

function run(t: TestContext, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Child> {
  return start(t, args, env).done;
}

/** Every stdout line is a DownloadState (the --json stream); answers them in order. */
function states(r: Child): DownloadState[] {
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, `no JSON lines; stderr: ${r.stderr}`);
  return lines.map((l) => DownloadState.parse(JSON.parse(l)));
}

function last<T>(xs: readonly T[]): T {
  const x = xs[xs.length - 1];
  assert.ok(x !== undefined);
  return x;
}

function home(): { env: NodeJS.ProcessEnv; models: string } {
  const dir = fs.mkdtempSync(path.join(scratch, 'home-'));
  return { env: { KEYMATE_HOME: dir }, models: path.join(dir, 'models') };
}

/** What is in models/, and that every .gguf there is the whole file. */
function folder(models: string): string[] {
  const names = fs.existsSync(models) ? fs.readdirSync(models).sort() : [];
  for (const n of names.filter((n) => n.endsWith('.gguf'))) {
    assert.ok(fs.readFileSync(path.join(models, n)).equals(whole), `${n} is in the library but is not the whole, verified file`);
  }
  return names;
}

async function server(t: TestContext): Promise<ModelServer> {
  const s = await ModelServer.start(whole);
  t.after(() => s.stop());
  return s;
}

test('download with the right --sha256: a JSON line per state, done last, the file whole and listed', async (t) => {
  const s = await server(t);
  const h = home();
  const r = await run(t, ['models', 'download', s.url(), '--sha256', sha256.toUpperCase(), '--name', 'tiny', '--json'], h.env);
  assert.equal(r.code, 0, r.stderr);
  const all = states(r);
  const end = last(all);
  assert.equal(end.state, 'done');
  assert.ok(end.state === 'done' && end.sha256 === sha256 && end.path === path.join(h.models, 'tiny.gguf'));
  assert.equal(end.sha256_expected, sha256);
  assert.equal(end.bytes_done, whole.length);
  assert.ok(all.some((x) => x.state === 'verifying'));
  assert.ok(all.every((x) => x.id === 'tiny'));
  // Progress lines, apart from changes of state, come at most every PROGRESS_INTERVAL_MS: a
  // 1 MiB loopback transfer gives a handful of lines, not one per chunk.
  assert.ok(all.length <= 10, `${all.length} lines`);
  assert.deepEqual(folder(h.models), ['tiny.gguf', 'tiny.gguf.json']);

  const list = ModelLibraryListing.parse(keymateJson(['models', 'list'], h.env));
  assert.deepEqual(list.models.map((m) => [m.name, m.origin, m.source, m.sha256]), [['tiny', 'downloaded', s.url(), sha256]]);
  assert.equal(list.models[0]?.facts?.architecture, 'llama');

  // The same name again is refused; nothing is overwritten.
  const again = await run(t, ['models', 'download', s.url(), '--name', 'tiny'], h.env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^keymate: download: .*tiny\.gguf already exists: choose another name\n$/);
  assert.deepEqual(folder(h.models), ['tiny.gguf', 'tiny.gguf.json']);
});

test('download without --json: the result on stdout, one line per change of state on stderr', async (t) => {
  const s = await server(t);
  const h = home();
  const r = await run(t, ['models', 'download', s.url('/r/2/stories.gguf')], h.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^downloaded +${path.join(h.models, 'stories.gguf').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nsize +1\\.1 MiB\\nsha256 +${sha256}\\n`));
  assert.match(r.stderr, /^stories: downloading http:\/\/127\.0\.0\.1:\d+\/r\/2\/stories\.gguf\nstories: checking the GGUF header\n$/);
  assert.deepEqual(folder(h.models), ['stories.gguf', 'stories.gguf.json']);
});

test('a wrong --sha256: exit 1, one line on stderr, no .gguf and no part left', async (t) => {
  const s = await server(t);
  const h = home();
  const wrong = '0'.repeat(64);
  const r = await run(t, ['models', 'download', s.url(), '--sha256', wrong, '--json'], h.env);
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', new RegExp(`^keymate: download: m: checksum mismatch: expected SHA-256 ${wrong}, got ${sha256}; the file was removed$`));
  const end = last(states(r));
  assert.ok(end.state === 'failed' && !end.offline);
  assert.deepEqual(folder(h.models), []);
});

test('Ctrl-C pauses (exit 130, the part and its record stay); the same command resumes to a byte-identical file', async (t) => {
  const s = await server(t);
  const h = home();
  const held = 300_000;
  s.plan = [{ holdAfter: held }];
  const args = ['models', 'download', s.url(), '--sha256', sha256, '--name', 'resumed', '--json'];

  const first = start(t, args, h.env);
  const moving = await first.line((x) => x.state === 'running' && x.bytes_done > 0);
  assert.ok(moving.bytes_done <= held);
  first.signal('SIGINT');
  const r1 = await first.done;
  s.release();
  assert.equal(r1.code, 130, r1.stderr);
  const paused = last(states(r1));
  assert.equal(paused.state, 'paused');
  assert.ok(paused.bytes_done > 0 && paused.bytes_done <= held, String(paused.bytes_done));
  assert.equal(paused.bytes_total, whole.length);
  assert.match(r1.stderr, /keymate: download: resumed: paused at .* of 1\.1 MiB; run the same command again to resume\n$/);
  assert.deepEqual(folder(h.models), ['resumed.gguf.part', 'resumed.gguf.part.json']);
  assert.ok(fs.readFileSync(path.join(h.models, 'resumed.gguf.part')).equals(whole.subarray(0, paused.bytes_done)));

  // The paused download lists as such.
  const list = ModelLibraryListing.parse(keymateJson(['models', 'list'], h.env));
  assert.deepEqual(list.models, []);
  assert.deepEqual(list.downloads.map((d) => [d.id, d.state, d.bytes_done]), [['resumed', 'paused', paused.bytes_done]]);

  // A different checksum would be ignored by the resume: refused, the part kept.
  const other = await run(t, ['models', 'download', s.url(), '--sha256', 'f'.repeat(64), '--name', 'resumed'], h.env);
  assert.equal(other.code, 1);
  assert.match(other.stderr, new RegExp(`^keymate: download: resumed: the unfinished download was started with --sha256 ${sha256}, not f{64}: `));
  assert.deepEqual(folder(h.models), ['resumed.gguf.part', 'resumed.gguf.part.json']);

  const r2 = await run(t, args, h.env);
  assert.equal(r2.code, 0, r2.stderr);
  const end = last(states(r2));
  assert.ok(end.state === 'done' && end.sha256 === sha256);
  // It asked for the rest only, with the validator of the first response.
  const asked = s.log.filter((l) => l.path === '/m.gguf');
  assert.deepEqual(
    asked.map((l) => [l.range, l.ifRange]),
    [
      [null, null],
      [`bytes=${paused.bytes_done}-`, s.etag],
    ],
  );
  assert.ok(fs.readFileSync(path.join(h.models, 'resumed.gguf')).equals(whole));
  assert.deepEqual(folder(h.models), ['resumed.gguf', 'resumed.gguf.json']);
});
