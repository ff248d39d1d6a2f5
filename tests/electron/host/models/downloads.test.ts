// Downloads against a real loopback HTTP server serving the real stories260K
// model, with the faults real servers have: every finished download must be
// byte-identical to the source, every failed one must leave no .gguf, and
// after every event any .gguf in the folder must be whole (rig.ts).
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { DownloadState, ModelFacts } from '../../../../common/contract';
import { Downloads } from '../../../../electron/host/models/download/downloads';
import { inspectModel } from '../../../../electron/host/models/inspect';
import { stories } from '../../../support/repo';
import { type DownloadRig, assertNoFalseModel, downloadRig, finished, plenty } from './support/rig';

const source = fs.readFileSync(stories());
const sha = createHash('sha256').update(source).digest('hex');
const half = Math.floor(source.length / 2);

function resumedAt(range: string | null | undefined): number {
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  return m === null ? -1 : Number(m[1]);
}

function gguf(folder: string): string[] {
  return fs.readdirSync(folder).filter((n) => n.endsWith('.gguf'));
}

test('a plain download lands byte-identical, with its checksum and record', async (t) => {
  const r = await downloadRig(t, source);
  const started = await r.downloads.start({ url: r.server.url('/r/3/stories.gguf'), sha256: sha.toUpperCase() });
  assert.equal(started.id, 'stories');
  const done = await r.until(finished);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.ok(fs.readFileSync(path.join(r.folder, 'stories.gguf')).equals(source));
  assert.deepEqual(gguf(r.folder), ['stories.gguf']);
  assert.ok(!fs.existsSync(path.join(r.folder, 'stories.gguf.part')) && !fs.existsSync(path.join(r.folder, 'stories.gguf.part.json')));
  const [entry] = await r.library.list();
  assert.equal(entry?.origin, 'downloaded');
  assert.equal(entry?.sha256, sha);
  assert.equal(entry?.facts?.architecture, 'llama');
  assert.equal(r.server.log.length, 4, 'three redirects, then the file');
});

test('a dropped connection resumes with Range and If-Range, and the result is identical', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ dropAfter: half }, { dropAfter: 1000 }];
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  const done = await r.until(finished);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
  // Node drops what it had buffered but not yet handed over when a body ends early,
  // so each resume starts at most where the server stopped, never past it.
  const first = resumedAt(r.server.log[1]?.range);
  const second = resumedAt(r.server.log[2]?.range);
  assert.ok(first > 0 && first <= half, `first resume at ${first}`);
  assert.ok(second >= first && second <= first + 1000, `resumed at ${first}, then at ${second}: ${JSON.stringify(r.server.log)}`);
  assert.equal(r.server.log[1]?.ifRange, '"v1"');
  assert.ok(r.events.some((e) => e.state === 'retrying'));
});

test('500s are retried with backoff until the server recovers', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ status: 500 }, { status: 503 }, { status: 500 }];
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const done = await r.until(finished);
  assert.equal(done.state, 'done');
  // equal jitter with random 0.5: 3/4 of 1 s, 2 s, 4 s
  assert.deepEqual(r.sleeps, [750, 1500, 3000]);
  const retry = r.events.find((e) => e.state === 'retrying');
  assert.ok(retry?.state === 'retrying' && retry.attempt === 2 && retry.last_error.includes('HTTP 500'));
});

test('a server that keeps failing ends in failed, with the reason, and no model', async (t) => {
  const r = await downloadRig(t, source, { retry: { maxAttempts: 3, baseMs: 10, capMs: 100 } });
  r.server.fallback = { status: 502 };
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && /gave up after 3 attempts.*HTTP 502/.test(end.error), JSON.stringify(end));
  assert.deepEqual(gguf(r.folder), []);
});

test('a 404 fails at once', async (t) => {
  const r = await downloadRig(t, source);
  r.server.fallback = { status: 404 };
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && end.error.includes('HTTP 404'));
  assert.deepEqual(r.sleeps, []);
});

test('a Content-Length that is too short never becomes a model', async (t) => {
  const r = await downloadRig(t, source);
  r.server.fallback = { lengthLie: -1000 };
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.equal(end.state, 'failed', JSON.stringify(end));
  assert.deepEqual(gguf(r.folder), []);
});

test('a Content-Length that is too long (the body ends early) is retried and never done', async (t) => {
  const r = await downloadRig(t, source, { retry: { maxAttempts: 3, baseMs: 10, capMs: 100 } });
  r.server.fallback = { lengthLie: 5000 };
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.equal(end.state, 'failed', JSON.stringify(end));
  const retries = r.events.filter((e) => e.state === 'retrying');
  assert.ok(retries[0]?.state === 'retrying' && retries[0].last_error.includes('closed early'), JSON.stringify(retries[0]));
  assert.deepEqual(gguf(r.folder), []);
});

test('a server that ignores Range restarts from zero, says so, and still finishes whole', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ dropAfter: half }, { ignoreRange: true }];
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  const done = await r.until(finished);
  assert.equal(done.state, 'done');
  assert.match(done.note ?? '', /ignored the Range request\): restarted from zero/);
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

test('an ETag that changes mid-way restarts from zero with the new file', async (t) => {
  const other = Buffer.from(source);
  const r = await downloadRig(t, source, {}, undefined, other);
  r.server.plan = [{ dropAfter: half }];
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  await r.until((s) => s.state === 'retrying');
  r.server.etag = '"v2"';
  const done = await r.until(finished);
  assert.equal(done.state, 'done');
  assert.match(done.note ?? '', /changed on the server/);
  assert.equal(r.server.log[1]?.ifRange, '"v1"');
});

test('a wrong sha256 is rejected and leaves neither a model nor a part', async (t) => {
  const r = await downloadRig(t, source);
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: '0'.repeat(64) });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && end.error.includes('checksum mismatch'), JSON.stringify(end));
  assert.deepEqual(fs.readdirSync(r.folder), []);
});

test('a body that is not a GGUF is rejected', async (t) => {
  const text = Buffer.from('<html>not a model</html>\n'.repeat(100));
  const r = await downloadRig(t, text);
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && end.error.includes('not a GGUF'), JSON.stringify(end));
  assert.deepEqual(fs.readdirSync(r.folder), []);
});

test('a full disk stops the download before a byte is written', async (t) => {
  const r = await downloadRig(t, source, { statfs: () => Promise.resolve({ bavail: 10, bsize: 4096 }) });
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && end.error.includes('not enough free space'), JSON.stringify(end));
  assert.equal(end.bytes_done, 0);
  assert.deepEqual(gguf(r.folder), []);
});

test('pause keeps the part; resume finishes it with a Range request', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ holdAfter: half }];
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  await r.until((s) => s.state === 'running' && s.bytes_done === half);
  const paused = await r.downloads.pause('m');
  assert.equal(paused.state, 'paused');
  assert.equal(paused.bytes_done, half);
  assert.equal(fs.statSync(path.join(r.folder, 'm.gguf.part')).size, half);
  const from = r.events.length;
  r.downloads.resume('m');
  const done = await r.until(finished, from);
  assert.equal(done.state, 'done');
  assert.equal(r.server.log[1]?.range, `bytes=${half}-`);
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

/** An inspector whose first call waits at a gate: a download held in verifying. */
function gatedInspect(): { inspect: (file: string) => Promise<ModelFacts>; inside: Promise<void>; open: () => void } {
  let entered = (): void => undefined;
  let open = (): void => undefined;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  let first = true;
  const inspect = async (file: string): Promise<ModelFacts> => {
    if (first) {
      first = false;
      entered();
      await gate;
    }
    return inspectModel(file);
  };
  return { inspect, inside, open };
}

/** Pauses download m while it verifies its whole part; answers the paused state. */
async function pauseWhileVerifying(r: DownloadRig, gated: ReturnType<typeof gatedInspect>): Promise<DownloadState> {
  await gated.inside;
  const pausing = r.downloads.pause('m');
  gated.open();
  const paused = await pausing;
  assert.equal(paused.state, 'paused', JSON.stringify(paused));
  assert.equal(paused.bytes_done, source.length);
  assert.equal(fs.statSync(path.join(r.folder, 'm.gguf.part')).size, source.length);
  return paused;
}

test('a part paused while verifying resumes straight into verifying, with no request', async (t) => {
  const gated = gatedInspect();
  const r = await downloadRig(t, source, { inspect: gated.inspect });
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  await pauseWhileVerifying(r, gated);
  const requests = r.server.log.length;
  const from = r.events.length;
  r.downloads.resume('m');
  const done = await r.until(finished, from);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.deepEqual(r.server.log.slice(requests), [], 'a whole part needs no request (a Range from its end gets a 416)');
  assert.ok(r.events.slice(from).some((e) => e.state === 'verifying'));
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

test('after a host restart, a part that was whole is verified and published without a request', async (t) => {
  const gated = gatedInspect();
  const r = await downloadRig(t, source, { inspect: gated.inspect });
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  await pauseWhileVerifying(r, gated);
  await r.downloads.close();
  const requests = r.server.log.length;
  const again = await Downloads.open({ library: r.library, statfs: plenty, emit: () => assertNoFalseModel(r.folder, source) });
  again.resume('m');
  await again.idle();
  assert.equal(again.list()[0]?.state, 'done');
  assert.equal(r.server.log.length, requests);
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

test('a whole part that fails verification on resume starts over from zero, and ends whole', async (t) => {
  const gated = gatedInspect();
  const r = await downloadRig(t, source, { inspect: gated.inspect });
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  await pauseWhileVerifying(r, gated);
  const part = path.join(r.folder, 'm.gguf.part');
  const bad = fs.readFileSync(part);
  bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
  fs.writeFileSync(part, bad);
  const requests = r.server.log.length;
  const from = r.events.length;
  r.downloads.resume('m');
  const done = await r.until(finished, from);
  assert.equal(done.state, 'done', JSON.stringify(done));
  assert.match(done.note ?? '', /failed verification \(checksum mismatch.*\): restarted from zero/);
  assert.deepEqual(r.server.log.slice(requests).map((l) => l.range), [null], 'one request, for the whole file');
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

test('cancel removes the part and its record', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ holdAfter: half }];
  await r.downloads.start({ url: r.server.url(), name: 'm' });
  await r.until((s) => s.state === 'running' && s.bytes_done === half);
  const cancelled = await r.downloads.cancel('m');
  assert.equal(cancelled.state, 'cancelled');
  assert.deepEqual(fs.readdirSync(r.folder), []);
});

test('after a host restart, a part comes back paused and resumes from where it was', async (t) => {
  const r = await downloadRig(t, source);
  r.server.plan = [{ holdAfter: half }];
  await r.downloads.start({ url: r.server.url(), name: 'm', sha256: sha });
  await r.until((s) => s.state === 'running' && s.bytes_done === half);
  await r.downloads.close();
  const events: string[] = [];
  const again = await Downloads.open({ library: r.library, statfs: plenty, emit: (s) => {
    events.push(s.state);
    assertNoFalseModel(r.folder, source);
  } });
  const [restored] = again.list();
  assert.ok(restored?.state === 'paused' && restored.bytes_done === half && restored.sha256_expected === sha, JSON.stringify(restored));
  again.resume('m');
  await again.idle();
  assert.equal(again.list()[0]?.state, 'done');
  assert.equal(r.server.log[r.server.log.length - 1]?.range, `bytes=${half}-`);
  assert.ok(fs.readFileSync(path.join(r.folder, 'm.gguf')).equals(source));
});

test('a name already in the library is refused; a URL that is not http(s) is refused', async (t) => {
  const r = await downloadRig(t, source);
  fs.copyFileSync(stories(), path.join(r.folder, 'm.gguf'));
  await assert.rejects(r.downloads.start({ url: r.server.url(), name: 'm' }), /already exists/);
  await assert.rejects(r.downloads.start({ url: 'ftp://example.com/x.gguf' }), /ftp: URLs are not supported/);
  await assert.rejects(r.downloads.start({ url: r.server.url(), name: '../evil' }), /not usable/);
});

test('an unresolvable host fails at once as offline', async (t) => {
  const r = await downloadRig(t, source);
  await r.downloads.start({ url: 'http://no-such-host.invalid/x.gguf' });
  const end = await r.until(finished);
  assert.ok(end.state === 'failed' && end.offline, JSON.stringify(end));
});
