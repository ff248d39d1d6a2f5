// keymate models list|import|recommended through the real command line, each
// run in a data folder of its own (KEYMATE_HOME), and the command's usage
// errors and report lines in-process. Downloads: models-download.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';

import { ModelLibraryListing, RecommendedList, type DownloadState } from '../../../../common/contract';
import type { CliIo } from '../../../../electron/cli/command';
import { downloadRequest, progressLine } from '../../../../electron/cli/commands/models';
import { CliError } from '../../../../electron/cli/errors';
import { main } from '../../../../electron/cli/main';
import { RECOMMENDED } from '../../../../electron/host/models/recommended';
import { assertOneLineError, keymate, keymateJson } from '../../../support/cli';
import { stories, tempDir } from '../../../support/repo';

const scratch = tempDir('keymate-models-cli-');

/** A fresh data folder: KEYMATE_HOME for one test. */
function home(): { env: NodeJS.ProcessEnv; models: string } {
  const dir = fs.mkdtempSync(path.join(scratch, 'home-'));
  return { env: { KEYMATE_HOME: dir }, models: path.join(dir, 'models') };
}

function file(name: string, bytes: Buffer | string): string {
  const p = path.join(scratch, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Files in models/ other than the records: what a user would take for models or leftovers. */
function modelFiles(folder: string): string[] {
  return fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => !n.endsWith('.gguf.json')).sort() : [];
}

test('list on an empty data folder: no models, no downloads', () => {
  const h = home();
  const r = keymateJson(['models', 'list'], h.env);
  assert.deepEqual(ModelLibraryListing.parse(r), { models: [], downloads: [] });
  const human = keymate(['models', 'list'], h.env);
  assert.equal(human.status, 0);
  assert.equal(human.stdout, '');
  assert.match(human.stderr, /^no models in .*models yet: keymate models import FILE/);
});

test('import a good GGUF: validated, copied whole, described; then listed with what was found by hand', () => {
  const h = home();
  const entry = keymateJson(['models', 'import', stories()], h.env);
  assert.equal(entry['name'], 'stories260K');
  assert.equal(entry['path'], path.join(h.models, 'stories260K.gguf'));
  assert.equal(entry['origin'], 'imported');
  assert.equal(entry['source'], stories());
  assert.equal(entry['problem'], null);
  assert.deepEqual(entry['facts'], {
    architecture: 'llama',
    parameters: 292_800,
    weight_types: { f32: 48 },
    context_length: 512,
    chat_template: false,
    layers: 5,
    dim: 64,
    heads: 8,
    kv_heads: 4,
    vocab: 512,
  });
  assert.ok(fs.readFileSync(path.join(h.models, 'stories260K.gguf')).equals(fs.readFileSync(stories())));

  // Importing the very same file again answers the same entry; nothing is duplicated.
  assert.equal(keymateJson(['models', 'import', stories()], h.env)['sha256'], entry['sha256']);

  // A model put there by hand lists as found; an unreadable one lists with its problem.
  fs.copyFileSync(stories(), path.join(h.models, 'by-hand.gguf'));
  fs.writeFileSync(path.join(h.models, 'broken.gguf'), 'not a model at all\n');
  const list = ModelLibraryListing.parse(keymateJson(['models', 'list'], h.env));
  assert.deepEqual(
    list.models.map((m) => [m.name, m.origin, m.facts?.architecture ?? null, m.problem !== null]),
    [
      ['broken', 'found', null, true],
      ['by-hand', 'found', 'llama', false],
      ['stories260K', 'imported', 'llama', false],
    ],
  );
  assert.equal(list.models[2]?.sha256, entry['sha256']);
  assert.deepEqual(list.downloads, []);

  const human = keymate(['models', 'list'], h.env);
  assert.equal(human.status, 0, human.stderr);
  const lines = human.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME +SIZE +ARCH +PARAMS +CONTEXT +WEIGHTS +ORIGIN$/);
  assert.match(lines[1] ?? '', /^broken +\d+ B +- +- +- +unreadable: .+ +found$/);
  assert.match(lines[3] ?? '', /^stories260K +1\.1 MiB +llama +293K +512 +f32 x48 +imported$/);
});

test('import of a truncated GGUF: exit 1, one line naming it, nothing copied', () => {
  const h = home();
  const real = fs.readFileSync(stories());
  for (const cut of [100, Math.floor(real.length / 2), real.length - 1]) {
    const truncated = file(`cut-${cut}.gguf`, real.subarray(0, cut));
    assertOneLineError(keymate(['models', 'import', truncated], h.env), truncated, /nothing was copied/);
  }
  assert.deepEqual(modelFiles(h.models), []);
});

test('import of a file that is not a GGUF, or not there: exit 1, one line, nothing copied', () => {
  const h = home();
  const text = file('notes.gguf', 'these are not the weights you are looking for\n'.repeat(20));
  assertOneLineError(keymate(['models', 'import', text], h.env), text, /not a GGUF/);
  const missing = path.join(scratch, 'missing.gguf');
  assertOneLineError(keymate(['models', 'import', missing], h.env), missing, /no such file/);
  assert.deepEqual(modelFiles(h.models), []);
});

test('import of another file under a name the library already holds is refused', () => {
  const h = home();
  assert.equal(keymate(['models', 'import', stories()], h.env).status, 0);
  const other = path.join(fs.mkdtempSync(path.join(scratch, 'other-')), 'stories260K.gguf');
  fs.copyFileSync(path.join(path.dirname(stories()), 'stories260K-Q8_0.gguf'), other);
  assertOneLineError(keymate(['models', 'import', other], h.env), 'stories260K.gguf', /already exists and is a different file/);
  assert.ok(fs.readFileSync(path.join(h.models, 'stories260K.gguf')).equals(fs.readFileSync(stories())));
});

test('recommended --json has the contract shape, a fit for every weight format, and marks what the library holds', () => {
  const h = home();
  fs.mkdirSync(h.models, { recursive: true });
  const first = RECOMMENDED[0];
  assert.ok(first !== undefined);
  // in_library is by name: a file of that name is enough to mark it.
  fs.copyFileSync(stories(), path.join(h.models, `${first.name}.gguf`));
  const r = RecommendedList.parse(keymateJson(['models', 'recommended'], h.env));
  assert.deepEqual(r.models.map((m) => m.id), RECOMMENDED.map((m) => m.id));
  for (const m of r.models) {
    assert.ok(['native', 'f16', 'fp8', 'int8-g32', 'int4-g32', 'nf4-g32', 'w8a8'].every((w) => w in m.fits), `${m.id}: ${Object.keys(m.fits).join(',')}`);
    for (const fit of Object.values(m.fits)) {
      assert.equal(fit.where, r.memory.where);
      assert.equal(fit.have_mb, r.memory.have_mb);
      assert.equal(fit.fits, fit.need_mb <= fit.have_mb, `${m.id}: ${JSON.stringify(fit)}`);
    }
    // A 4-bit model needs less than its 16-bit self.
    assert.ok((m.fits['int4-g32']?.need_mb ?? 0) < (m.fits['f16']?.need_mb ?? 0), m.id);
    assert.equal(m.in_library, m.id === first.id);
  }
  assert.equal(r.network.offline, r.network.reason !== null);

  const human = keymate(['models', 'recommended'], h.env);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^ID +PARAMS +FILE +SIZE +FITS IN\n/);
  assert.match(human.stdout, new RegExp(`\\n${first.id.replace(/\./g, '\\.')} .*\\(in the library\\)\\n`));
  assert.match(human.stderr, /^judged against .* MiB/);
});

// ---- in-process: usage, and the pieces the child-process tests cannot reach ----

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const io: CliIo = { stdout, stderr, env: { ...process.env, ...home().env }, signal: new AbortController().signal };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('bad usage exits 2 with the problem and the usage line, and touches nothing', async () => {
  const all = /^usage: keymate models list\|import FILE\|download URL\|ID /;
  const download = /^usage: keymate models download URL\|ID \[--sha256 HEX\] \[--name NAME\] \[--json\]$/;
  const cases: [string[], RegExp, RegExp][] = [
    [['models'], /^keymate: models: say list, import, download or recommended$/, all],
    [['models', 'frob'], /^keymate: models: unknown subcommand 'frob'/, all],
    [['models', 'import'], /^keymate: models import: give the FILE$/, /^usage: keymate models import FILE \[--json\]$/],
    [['models', 'import', 'a.gguf', 'b.gguf'], /^keymate: models import: one FILE at a time, got 2$/, /^usage: keymate models import FILE/],
    [['models', 'download'], /^keymate: models download: give the URL$/, download],
    [['models', 'download', 'http://127.0.0.1:1/m.gguf', '--sha256', 'abc'], /^keymate: models download: --sha256 must be 64 hex digits, got 'abc'$/, download],
    [['models', 'download', 'http://127.0.0.1:1/m.gguf', '--sha256'], /^keymate: models download: Option '--sha256 <value>' argument missing/, download],
    [['models', 'list', '--bogus'], /^keymate: models list: Unknown option '--bogus'/, /^usage: keymate models list \[--json\]$/],
  ];
  for (const [argv, line, usage] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', line);
    assert.match(lines[1] ?? '', usage);
  }
});

test('options may come before or after the URL; a recommended id stands for its URL and name', () => {
  const sha = 'ab'.repeat(32);
  const url = 'http://127.0.0.1:1/x.gguf';
  assert.deepEqual(downloadRequest(url, undefined, undefined), { url });
  assert.deepEqual(downloadRequest(url, 'mine', sha), { url, name: 'mine', sha256: sha });
  const r = RECOMMENDED[1];
  assert.ok(r !== undefined);
  assert.deepEqual(downloadRequest(r.id, undefined, undefined), { url: r.url, name: r.name });
  assert.deepEqual(downloadRequest(r.id, 'other', undefined), { url: r.url, name: 'other' });
  assert.throws(() => downloadRequest('no-such-model', undefined, undefined), (e: unknown) => e instanceof CliError && /neither a URL nor a recommended model's id/.test(e.message));
});

test('the progress line says what a download is doing', () => {
  const base = {
    id: 'm',
    url: 'http://h/m.gguf',
    name: 'm',
    file: '/x/m.gguf',
    bytes_done: 512 * 1024,
    bytes_total: 2048 * 1024,
    speed_bps: 256 * 1024,
    sha256_expected: null,
    note: null,
  };
  const line = (s: DownloadState): string => progressLine(s);
  assert.equal(line({ ...base, state: 'running' }), 'm: 25%  512.0 KiB of 2.0 MiB  256.0 KiB/s  6 s left');
  assert.equal(line({ ...base, state: 'running', bytes_total: null, speed_bps: 0 }), 'm: 512.0 KiB');
  assert.equal(
    line({ ...base, state: 'retrying', attempt: 2, max_attempts: 6, next_ms: 1500, last_error: 'h: HTTP 500' }),
    'm: retrying in 2 s (attempt 2 of 6): h: HTTP 500',
  );
  assert.equal(line({ ...base, state: 'verifying', sha256_expected: 'ab'.repeat(32) }), 'm: checking the checksum and the GGUF header');
  assert.equal(line({ ...base, state: 'paused' }), 'm: paused at 512.0 KiB of 2.0 MiB');
  assert.equal(line({ ...base, state: 'failed', error: 'download: m: gone', offline: false }), 'download: m: gone');
});
