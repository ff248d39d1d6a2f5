// The downloads of one library: at most `maxRunning` transfer at once (the
// rest wait as queued), one per library name (the name is the id, so a
// restart finds the same id in models/<name>.gguf.part.json). At open, every
// part with a readable record comes back as paused; a part without one cannot
// be resumed (its URL is unknown) and is removed, unless another process holds
// its lock (it is that process's download). Another process's download (the
// CLI's, beside the app) is refused with "already being downloaded by process
// N" by start, cancel and a run (part-lock.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { DownloadState } from '../../../../common/contract';
import { type StatFs, defaultStatFs } from '../free-space';
import { inspectModel, type Inspector } from '../inspect';
import type { ModelLibrary } from '../library';
import { PART_EXT, PART_RECORD_EXT, checkName, libraryPaths, nameFromUrl } from '../names';
import { exists } from '../publish';
import { DEFAULT_RETRY, type RetryPolicy, type Sleep, realSleep } from './backoff';
import { Download, type DownloadDeps } from './download';
import { type HttpGet, httpGet } from './http-get';
import { PartBusy, lockHolder, lockPart } from './part-lock';
import { newPartRecord, readPartRecord, writePartRecord } from './part-record';

export interface DownloadsOptions {
  library: ModelLibrary;
  emit: (state: DownloadState) => void;
  inspect?: Inspector;
  statfs?: StatFs;
  get?: HttpGet;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  retry?: RetryPolicy;
  idleTimeoutMs?: number;
  progressIntervalMs?: number;
  checkpointBytes?: number;
  maxRunning?: number;
}

export interface StartRequest {
  url: string;
  sha256?: string | undefined;
  name?: string | undefined;
}

export class Downloads {
  private readonly all = new Map<string, Download>();
  private readonly deps: DownloadDeps;
  private readonly maxRunning: number;

  private constructor(options: DownloadsOptions) {
    this.deps = {
      library: options.library,
      emit: options.emit,
      inspect: options.inspect ?? inspectModel,
      statfs: options.statfs ?? defaultStatFs,
      get: options.get ?? httpGet,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      retry: options.retry ?? DEFAULT_RETRY,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      checkpointBytes: options.checkpointBytes ?? 16 << 20,
    };
    this.maxRunning = options.maxRunning ?? 2;
  }

  static async open(options: DownloadsOptions): Promise<Downloads> {
    const downloads = new Downloads(options);
    await downloads.restore();
    return downloads;
  }

  list(): DownloadState[] {
    return [...this.all.values()].map((d) => d.snapshot());
  }

  async start(request: StartRequest): Promise<DownloadState> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new Error(`download: '${request.url.slice(0, 200)}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`download: ${url.protocol} URLs are not supported: use http or https`);
    const name = request.name !== undefined ? checkName(request.name) : nameFromUrl(url);
    const sha256 = request.sha256?.toLowerCase() ?? null;
    const paths = libraryPaths(this.deps.library.folder, name);
    const existing = this.all.get(name);
    // A run of our own holds the lock itself; any other holder is another writer.
    const busy = existing?.active === true ? null : await lockHolder(paths.partLock);
    if (busy !== null) throw new Error(`download: ${name}: ${busy.message}`);
    if (existing !== undefined && !['done', 'failed', 'cancelled'].includes(existing.state)) {
      if (existing.url !== url.href) throw new Error(`download: a download named ${name} of another URL is ${existing.state}: resume or cancel it, or choose another name`);
      if (existing.state === 'paused') return this.resume(name);
      return existing.snapshot();
    }
    if (await exists(paths.model)) throw new Error(`download: ${paths.model} already exists: choose another name`);
    // The record goes first, so a crash at any later moment leaves a part a restart can resume.
    const record = newPartRecord(url.href, name, sha256, this.deps.now());
    const lock = await lockPart(paths.partLock).catch((e: unknown) => {
      throw e instanceof PartBusy ? new Error(`download: ${name}: ${e.message}`) : e;
    });
    try {
      await fs.promises.rm(paths.part, { force: true });
      await writePartRecord(paths.partRecord, record);
    } finally {
      await lock.release();
    }
    const download = new Download(name, paths, record, this.deps, 'queued', 0);
    this.all.set(name, download);
    this.schedule();
    return download.snapshot();
  }

  async pause(id: string): Promise<DownloadState> {
    const d = this.get(id);
    await d.pause();
    this.schedule();
    return d.snapshot();
  }

  resume(id: string): DownloadState {
    const d = this.get(id);
    if (d.state === 'paused' || d.state === 'failed') {
      if (d.state === 'failed' && !fs.existsSync(libraryPaths(this.deps.library.folder, id).partRecord)) {
        throw new Error(`download: ${id}: its partial file is gone (it failed verification): start it again`);
      }
      d.queue();
      this.schedule();
    }
    return d.snapshot();
  }

  async cancel(id: string): Promise<DownloadState> {
    const d = this.get(id);
    try {
      await d.cancel();
    } catch (e) {
      throw e instanceof PartBusy ? new Error(`download: ${id}: ${e.message}`) : e;
    }
    this.schedule();
    return d.snapshot();
  }

  /** Pauses every transfer (host shutdown): each part stays, with its record, for the next start. */
  async close(): Promise<void> {
    await Promise.all([...this.all.values()].map((d) => d.pause()));
  }

  /** Waits until nothing transfers (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const active = [...this.all.values()].filter((d) => d.active);
      if (active.length > 0) {
        await Promise.all(active.map((d) => d.run()));
        continue;
      }
      if (![...this.all.values()].some((d) => d.state === 'queued')) return;
      this.schedule();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private get(id: string): Download {
    const d = this.all.get(id);
    if (d === undefined) throw new Error(`download: no download with id '${id.slice(0, 200)}'`);
    return d;
  }

  /** Starts queued downloads while there are free slots. */
  private schedule(): void {
    let running = [...this.all.values()].filter((d) => d.active).length;
    for (const d of this.all.values()) {
      if (running >= this.maxRunning) return;
      if (d.state !== 'queued' || d.active) continue;
      running++;
      void d.run().then(() => this.schedule());
    }
  }

  private async restore(): Promise<void> {
    const folder = this.deps.library.folder;
    const names = await fs.promises.readdir(folder);
    for (const n of names.filter((n) => n.endsWith(PART_RECORD_EXT)).sort()) {
      const name = n.slice(0, -PART_RECORD_EXT.length);
      const record = await readPartRecord(path.join(folder, n));
      const paths = libraryPaths(folder, name);
      if (record === null || record.name !== name) continue;
      let size = 0;
      try {
        size = (await fs.promises.stat(paths.part)).size;
      } catch {
        // no bytes yet: it resumes from zero
      }
      this.all.set(name, new Download(name, paths, record, this.deps, 'paused', Math.min(size, record.bytes_verified)));
    }
    for (const n of names.filter((n) => n.endsWith(PART_EXT))) {
      const name = n.slice(0, -PART_EXT.length);
      if (this.all.has(name) || (await lockHolder(libraryPaths(folder, name).partLock)) !== null) continue;
      await fs.promises.rm(path.join(folder, n), { force: true });
    }
  }
}
