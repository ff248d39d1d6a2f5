// One download into the library, as a state machine (contract/models.ts):
// queued -> running -> verifying -> done, with paused, retrying, failed and
// cancelled on the way. The bytes go to models/<name>.gguf.part, hashed as
// they are written (SHA-256 of the part always equals the hash state); a
// resume re-hashes the part first, then asks for the rest with Range and
// If-Range. Only a part whose length, checksum and GGUF header all pass is
// published as models/<name>.gguf, in one no-clobber step, so a .gguf in the
// library is always whole. A run holds the part's lock (part-lock.ts) from
// its first step to its last, so another process (the CLI beside the app)
// never writes the same part; a part that is already whole when a run starts
// (it was paused or killed while verifying) is verified without a request.
//
// What the server does decides the next step:
//   206 from our offset, same validator   append
//   200 although we asked for a range     the server cannot resume (or the file changed): restart from zero, with a note
//   206 with another validator, 416       restart from zero at once
//   5xx, 408, 429, network error, early close, more bytes than announced
//                                         retry with backoff; attempts reset when an attempt made progress
//   other 4xx                             failed
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

import type { DownloadState, ModelFacts } from '../../../../common/contract';
import { checkFreeSpace, type StatFs } from '../free-space';
import { hashInto, writeAll } from '../hash-file';
import type { Inspector } from '../inspect';
import type { ModelLibrary } from '../library';
import { type LibraryPaths } from '../names';
import { NameTaken, publishNoClobber } from '../publish';
import { type RetryPolicy, type Sleep, jitteredBackoffMs } from './backoff';
import { type HttpGet, NetworkError } from './http-get';
import { type PartLock, lockPart } from './part-lock';
import { type PartRecord, ifRange, writePartRecord } from './part-record';
import { SpeedMeter, Throttle } from './progress';

export interface DownloadDeps {
  library: ModelLibrary;
  inspect: Inspector;
  statfs: StatFs;
  get: HttpGet;
  sleep: Sleep;
  random: () => number;
  now: () => number;
  retry: RetryPolicy;
  idleTimeoutMs: number;
  /** Least time between two progress events of one download. */
  progressIntervalMs: number;
  /** Bytes between two checkpoints (fsync + record). */
  checkpointBytes: number;
  emit: (state: DownloadState) => void;
}

/** Not worth a retry: the download fails with this message. */
class Fatal extends Error {
  constructor(
    message: string,
    readonly offline = false,
  ) {
    super(message);
  }
}

/** The part must start over from byte zero (a new request, not counted as a failure). */
class Restart extends Error {}

/** A part that passed verification. */
interface Verified {
  sha256: string;
  size: number;
  facts: ModelFacts;
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'ENETDOWN']);
const RETRY_STATUS = new Set([408, 425, 429]);
/** Restarts from zero in a row before the server is judged unable to serve the file whole. */
const MAX_RESTARTS = 3;

type Phase =
  | { state: 'queued' | 'running' | 'paused' | 'verifying' | 'cancelled' }
  | { state: 'retrying'; attempt: number; max_attempts: number; next_ms: number; last_error: string }
  | { state: 'done'; path: string; sha256: string }
  | { state: 'failed'; error: string; offline: boolean };

export class Download {
  private phase: Phase;
  private bytesDone: number;
  private bytesTotal: number | null;
  private note: string | null = null;
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private stopAs: 'paused' | 'cancelled' = 'paused';
  private readonly speed: SpeedMeter;
  private readonly throttle: Throttle;
  private hash: Hash = createHash('sha256');
  /** Held while a run may touch the part; null outside runs (and when another process holds it). */
  private lock: PartLock | null = null;

  constructor(
    readonly id: string,
    private readonly paths: LibraryPaths,
    private record: PartRecord,
    private readonly deps: DownloadDeps,
    phase: 'queued' | 'paused',
    bytesOnDisk: number,
  ) {
    this.phase = { state: phase };
    this.bytesDone = bytesOnDisk;
    this.bytesTotal = record.expected_length;
    this.speed = new SpeedMeter(deps.now);
    this.throttle = new Throttle(deps.now, deps.progressIntervalMs);
  }

  get state(): Phase['state'] {
    return this.phase.state;
  }

  get active(): boolean {
    return this.running !== null;
  }

  get url(): string {
    return this.record.url;
  }

  snapshot(): DownloadState {
    const base = {
      id: this.id,
      url: this.record.url,
      name: this.record.name,
      file: this.paths.model,
      bytes_done: this.bytesDone,
      bytes_total: this.bytesTotal,
      speed_bps: this.phase.state === 'running' ? this.speed.bps() : 0,
      sha256_expected: this.record.sha256_expected,
      note: this.note,
    };
    return { ...base, ...this.phase };
  }

  /** Sets the state to queued (the manager runs it when a slot is free). */
  queue(): void {
    this.set({ state: 'queued' });
  }

  /** Runs to done, failed, paused or cancelled; never rejects. */
  run(): Promise<void> {
    if (this.running !== null) return this.running;
    const controller = new AbortController();
    this.controller = controller;
    this.stopAs = 'paused';
    this.running = this.loop(controller.signal)
      .catch((e: unknown) => this.settleError(e, controller.signal))
      .finally(async () => {
        await this.unlock();
        this.running = null;
        this.controller = null;
      });
    return this.running;
  }

  /** Stops the transfer; the part and its record stay for a resume. */
  async pause(): Promise<void> {
    if (this.running === null) {
      if (this.phase.state === 'queued') this.set({ state: 'paused' });
      return;
    }
    this.stopAs = 'paused';
    this.controller?.abort();
    await this.running;
  }

  /** Stops the transfer and removes the part and its record. */
  async cancel(): Promise<void> {
    if (this.phase.state === 'done') return;
    if (this.running !== null) {
      this.stopAs = 'cancelled';
      this.controller?.abort();
      await this.running;
    }
    // The run above let go of the lock; taking it here keeps another process's part safe (PartBusy).
    const lock = await lockPart(this.paths.partLock);
    try {
      await this.removePart();
    } finally {
      await lock.release();
    }
    this.bytesDone = 0;
    this.set({ state: 'cancelled' });
  }

  // ---- the transfer ----

  private async loop(signal: AbortSignal): Promise<void> {
    this.lock = await lockPart(this.paths.partLock);
    this.set({ state: 'running' });
    await this.preparePart();
    if (this.bytesDone > 0 && this.bytesDone === this.record.expected_length) {
      // Whole already (a pause or a crash while verifying): asking for bytes=N- of an
      // N-byte file would get a 416 and the whole file again. Verify it as it is; only
      // a part that fails starts over, since the server's copy may be the good one.
      this.set({ state: 'verifying' });
      const verified = await this.verify();
      if (typeof verified !== 'string') return this.publish(verified, signal);
      this.note = `the finished part failed verification (${verified}): restarted from zero`;
      await this.truncatePart(0);
      this.set({ state: 'running' });
    }
    let failures = 0;
    let restarts = 0;
    for (;;) {
      const before = this.bytesDone;
      try {
        await this.transfer(signal);
        break;
      } catch (e) {
        if (signal.aborted) throw e;
        if (e instanceof Restart) {
          if (++restarts > MAX_RESTARTS) throw new Fatal(`${this.host()}: the file kept changing while it downloaded (${e.message}); try again later`);
          this.note = e.message;
          await this.truncatePart(0);
          continue;
        }
        if (e instanceof Fatal) throw e;
        const why = e instanceof Error ? e.message : String(e);
        if (e instanceof NetworkError && OFFLINE_CODES.has(e.code) && this.bytesDone === 0 && failures === 0) {
          throw new Fatal(`${this.host()}: cannot be reached: no network (${e.code}); import a GGUF from disk instead`, true);
        }
        if (this.bytesDone > before) failures = 0; // progress: the link works, the count starts over
        failures++;
        if (failures >= this.deps.retry.maxAttempts) throw new Fatal(`gave up after ${failures} attempts in a row: ${why}`, e instanceof NetworkError && OFFLINE_CODES.has(e.code));
        await this.checkpoint();
        const wait = jitteredBackoffMs(this.deps.retry, failures, this.deps.random);
        this.set({ state: 'retrying', attempt: failures + 1, max_attempts: this.deps.retry.maxAttempts, next_ms: wait, last_error: why });
        await this.deps.sleep(wait, signal);
        this.set({ state: 'running' });
      }
    }
    await this.finish(signal);
  }

  /** Opens the part at the last checkpoint and brings the hash up to it. */
  private async preparePart(): Promise<void> {
    let size = 0;
    try {
      size = (await fs.promises.stat(this.paths.part)).size;
    } catch {
      await fs.promises.writeFile(this.paths.part, new Uint8Array(0), { flag: 'a' });
    }
    const keep = Math.min(size, this.record.bytes_verified);
    if (size !== keep) await fs.promises.truncate(this.paths.part, keep);
    this.hash = createHash('sha256');
    const hashed = await hashInto(this.hash, this.paths.part, keep);
    if (hashed !== keep) throw new Fatal(`${this.paths.part}: could read only ${hashed} of ${keep} bytes`);
    this.bytesDone = keep;
    this.speed.reset();
  }

  private async transfer(signal: AbortSignal): Promise<void> {
    const offset = this.bytesDone;
    const headers: Record<string, string> = { 'user-agent': 'Keymate' };
    if (offset > 0) {
      headers['range'] = `bytes=${offset}-`;
      const validator = ifRange(this.record);
      if (validator !== null) headers['if-range'] = validator;
    }
    const res = await this.deps.get(new URL(this.record.url), { headers, signal, idleTimeoutMs: this.deps.idleTimeoutMs });
    const etag = header(res.headers, 'etag');
    const lastModified = header(res.headers, 'last-modified');
    let remaining: number | null;

    if (res.status === 200) {
      const length = contentLength(res.headers);
      if (offset > 0) {
        this.note = this.changed(etag, lastModified, length)
          ? 'the file changed on the server: restarted from zero'
          : 'the server cannot resume (it ignored the Range request): restarted from zero';
        await this.truncatePart(0);
      }
      this.record = { ...this.record, etag, last_modified: lastModified, expected_length: length };
      remaining = length;
      this.bytesTotal = length;
    } else if (res.status === 206) {
      const range = contentRange(header(res.headers, 'content-range'));
      if (range === null || range.start !== offset) {
        res.body.destroy();
        throw new Restart(`the server answered a range other than the one asked for (${header(res.headers, 'content-range') ?? 'none'}): restarted from zero`);
      }
      if (this.changed(etag, lastModified, range.total)) {
        res.body.destroy();
        throw new Restart('the file changed on the server: restarted from zero');
      }
      remaining = range.end - range.start + 1;
      const length = contentLength(res.headers);
      if (length !== null && length !== remaining) {
        res.body.destroy();
        throw new Error(`the server's Content-Length (${length}) disagrees with its Content-Range (${remaining} bytes)`);
      }
      if (range.total !== null) {
        this.record = { ...this.record, expected_length: range.total };
        this.bytesTotal = range.total;
      }
    } else if (res.status === 416) {
      res.body.resume();
      throw new Restart(`the server refused to resume at byte ${offset} (HTTP 416): restarted from zero`);
    } else {
      res.body.resume();
      const what = `${this.host()}: HTTP ${res.status}${res.body.statusMessage ? ' ' + res.body.statusMessage : ''}`;
      if (res.status >= 500 || RETRY_STATUS.has(res.status)) throw new Error(what);
      throw new Fatal(res.status === 404 ? `${what}: no such file; check the URL` : what);
    }

    if (remaining !== null) {
      try {
        await checkFreeSpace(this.deps.statfs, this.deps.library.folder, remaining, 'download');
      } catch (e) {
        res.body.destroy();
        throw new Fatal(e instanceof Error ? e.message : String(e));
      }
    }
    await this.writeBody(res.body, remaining);
  }

  private async writeBody(body: AsyncIterable<Buffer> & { destroy(): void }, remaining: number | null): Promise<void> {
    const handle = await fs.promises.open(this.paths.part, 'r+');
    const count = { received: 0 };
    try {
      await this.consume(body, handle, remaining, count);
      await handle.sync();
    } catch (e) {
      // Node reports a body cut short as a bare "aborted": say what happened.
      if (e instanceof Error && (e.message === 'aborted' || (e as NodeJS.ErrnoException).code === 'ECONNRESET')) {
        throw new NetworkError(`the connection closed early: ${count.received} of ${remaining ?? 'an unknown number of'} bytes`, 'ECONNRESET');
      }
      throw e;
    } finally {
      await handle.close();
    }
    await this.writeRecord();
    if (remaining !== null && count.received < remaining) {
      throw new NetworkError(`the connection closed early: ${count.received} of ${remaining} bytes`, 'ECONNRESET');
    }
  }

  /** Appends the body to the part, hashing each chunk; fsync + record every checkpointBytes. */
  private async consume(
    body: AsyncIterable<Buffer> & { destroy(): void },
    handle: fs.promises.FileHandle,
    remaining: number | null,
    count: { received: number },
  ): Promise<void> {
    let sinceCheckpoint = 0;
    for await (const chunk of body) {
      if (remaining !== null && count.received + chunk.length > remaining) {
        body.destroy();
        throw new Error(`the server sent more bytes than it announced (${remaining})`);
      }
      await writeAll(handle, chunk, this.bytesDone);
      this.hash.update(chunk);
      this.bytesDone += chunk.length;
      count.received += chunk.length;
      sinceCheckpoint += chunk.length;
      this.speed.add(chunk.length);
      if (sinceCheckpoint >= this.deps.checkpointBytes) {
        sinceCheckpoint = 0;
        await handle.sync();
        await this.writeRecord();
      }
      if (this.throttle.ready()) this.deps.emit(this.snapshot());
    }
  }

  private async finish(signal: AbortSignal): Promise<void> {
    this.set({ state: 'verifying' });
    const size = (await fs.promises.stat(this.paths.part)).size;
    if (size !== this.bytesDone) throw new Fatal(`${this.paths.part}: holds ${size} bytes, ${this.bytesDone} were written; download it again`);
    if (this.record.expected_length !== null && size !== this.record.expected_length) {
      throw new Fatal(`the server announced ${this.record.expected_length} bytes but sent ${size}`);
    }
    const verified = await this.verify();
    if (typeof verified === 'string') {
      await this.removePart();
      throw new Fatal(`${verified}; the file was removed`);
    }
    await this.publish(verified, signal);
  }

  /** The part's checksum (against the expected one) and GGUF header: what publish needs, or why it cannot be a model. */
  private async verify(): Promise<Verified | string> {
    const size = this.bytesDone;
    const sha256 = this.hash.digest('hex');
    const expected = this.record.sha256_expected;
    if (expected !== null && sha256 !== expected) return `checksum mismatch: expected SHA-256 ${expected}, got ${sha256}`;
    try {
      return { sha256, size, facts: await this.deps.inspect(this.paths.part) };
    } catch (e) {
      return `not a usable GGUF model: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Moves the verified part into the library as models/<name>.gguf, with its record. */
  private async publish(verified: Verified, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new Error('aborted');
    const { sha256, size, facts } = verified;
    const mtimeMs = (await fs.promises.stat(this.paths.part)).mtimeMs;
    try {
      await publishNoClobber(this.paths.part, this.paths.model);
    } catch (e) {
      if (e instanceof NameTaken) throw new Fatal(`${this.paths.model} appeared while downloading; the download stays as ${this.paths.part}: cancel it or move that file away and resume`);
      throw e;
    }
    await this.deps.library.recordArrival(this.record.name, { origin: 'downloaded', source: this.record.url, sha256, size, mtimeMs, facts });
    await fs.promises.rm(this.paths.partRecord, { force: true });
    await this.unlock();
    this.set({ state: 'done', path: this.paths.model, sha256 });
  }

  /** Where a loop that threw ends: paused or cancelled when asked to stop, else failed. */
  private async settleError(e: unknown, signal: AbortSignal): Promise<void> {
    const mine = this.lock !== null; // else the part is another process's (or untouched): leave it be
    if (signal.aborted) {
      if (this.stopAs === 'paused') {
        if (mine) await this.checkpoint().catch(() => undefined);
        await this.unlock();
        this.set({ state: 'paused' });
      }
      return; // cancel() removes the part and sets the state itself
    }
    const message = e instanceof Error ? e.message : String(e);
    if (mine) await this.checkpoint().catch(() => undefined);
    await this.unlock();
    this.set({ state: 'failed', error: `download: ${this.record.name}: ${message}`, offline: e instanceof Fatal && e.offline });
  }

  // ---- helpers ----

  /** Whether the server's answer describes another file than the one the part holds. */
  private changed(etag: string | null, lastModified: string | null, total: number | null): boolean {
    if (this.record.etag !== null && etag !== null && etag !== this.record.etag) return true;
    if (this.record.etag === null && this.record.last_modified !== null && lastModified !== null && lastModified !== this.record.last_modified) return true;
    return this.record.expected_length !== null && total !== null && total !== this.record.expected_length;
  }

  private async truncatePart(size: number): Promise<void> {
    await fs.promises.truncate(this.paths.part, size);
    this.hash = createHash('sha256');
    if (size > 0) await hashInto(this.hash, this.paths.part, size);
    this.bytesDone = size;
    this.record = { ...this.record, bytes_verified: Math.min(this.record.bytes_verified, size), etag: null, last_modified: null, expected_length: null };
    this.speed.reset();
    await this.writeRecord();
  }

  /** fsync the part, then record how much of it is good. */
  private async checkpoint(): Promise<void> {
    try {
      const handle = await fs.promises.open(this.paths.part, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      return; // no part (cancelled meanwhile): nothing to record
    }
    await this.writeRecord();
  }

  private async writeRecord(): Promise<void> {
    this.record = { ...this.record, bytes_verified: this.bytesDone };
    await writePartRecord(this.paths.partRecord, this.record);
  }

  /** Lets go of the part before a final state is told, so whoever hears it may take the part at once. */
  private async unlock(): Promise<void> {
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }

  private async removePart(): Promise<void> {
    await fs.promises.rm(this.paths.part, { force: true });
    await fs.promises.rm(this.paths.partRecord, { force: true });
  }

  private set(phase: Phase): void {
    this.phase = phase;
    this.deps.emit(this.snapshot());
  }

  private host(): string {
    try {
      return new URL(this.record.url).host;
    } catch {
      return this.record.url;
    }
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

function contentLength(headers: IncomingHttpHeaders): number | null {
  const v = header(headers, 'content-length');
  if (v === null || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** "bytes 100-199/1000" -> {start 100, end 199, total 1000}; total null for "/*". */
export function contentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v === null ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  if (m === null) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}
