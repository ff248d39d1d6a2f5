// The model library: the data folder's models/, one GGUF per model. Listing
// reads each file's facts with the engine (cached by size and mtime, and kept
// in the model's record); importing validates the file with the engine first,
// checks the free space, then copies it in through a temp file, fsync and a
// no-clobber publish, so models/ never holds a partial .gguf and never loses
// one to a name clash.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ModelFacts, ModelLibraryEntry } from '../../../common/contract';
import { checkRegularFile } from '../storage/regular-file';
import { checkFreeSpace, defaultStatFs, type StatFs } from './free-space';
import { copyHashed, sha256File } from './hash-file';
import { inspectModel, Readings, type Inspector, type Reading } from './inspect';
import { type ModelRecord, newRecord, readRecord, writeRecord } from './model-record';
import { GGUF_EXT, libraryPaths, nameFrom } from './names';
import { NameTaken, exists, publishNoClobber, removeStaleTemps, tempBeside } from './publish';

export interface LibraryOptions {
  /** models/ in the data folder; created when missing. */
  folder: string;
  inspect?: Inspector;
  statfs?: StatFs;
  now?: () => number;
}

export class ModelLibrary {
  readonly folder: string;
  /** What the engine read from each model; the listing of models outside the library reads through it too. */
  readonly readings: Readings;
  private readonly inspect: Inspector;
  private readonly statfs: StatFs;
  private readonly now: () => number;

  private constructor(options: LibraryOptions) {
    this.folder = path.resolve(options.folder);
    this.inspect = options.inspect ?? inspectModel;
    this.readings = new Readings(this.inspect);
    this.statfs = options.statfs ?? defaultStatFs;
    this.now = options.now ?? Date.now;
  }

  static async open(options: LibraryOptions): Promise<ModelLibrary> {
    const library = new ModelLibrary(options);
    await fs.promises.mkdir(library.folder, { recursive: true });
    await removeStaleTemps(library.folder, library.now());
    return library;
  }

  /** Every models/*.gguf, by name. */
  async list(): Promise<ModelLibraryEntry[]> {
    const names = (await fs.promises.readdir(this.folder)).filter((n) => n.toLowerCase().endsWith(GGUF_EXT) && !n.startsWith('.')).sort();
    const entries: ModelLibraryEntry[] = [];
    for (const n of names) {
      const entry = await this.entry(n.slice(0, -GGUF_EXT.length));
      if (entry !== null) entries.push(entry);
    }
    return entries;
  }

  /** The entry of models/<name>.gguf, or null when there is no such file. */
  async entry(name: string): Promise<ModelLibraryEntry | null> {
    const paths = libraryPaths(this.folder, name);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(paths.model);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const record = await readRecord(paths.record);
    const read = await this.read(paths.model, st, record);
    return {
      path: paths.model,
      name,
      size_bytes: st.size,
      origin: record?.origin ?? 'found',
      source: record?.source ?? null,
      sha256: record !== null && record.size_bytes === st.size ? record.sha256 : null,
      added_ms: record?.added_ms ?? null,
      facts: read.facts,
      problem: read.problem,
    };
  }

  /** Copies a GGUF from disk into the library; answers its entry (the existing one when this very file is already there). */
  async import(file: string): Promise<ModelLibraryEntry> {
    const source = path.resolve(file);
    let st: { size: number };
    try {
      st = await checkRegularFile(file, 'model file');
    } catch (e) {
      throw new Error(`import: ${message(e)}`);
    }
    if (path.dirname(source) === this.folder && source.toLowerCase().endsWith(GGUF_EXT)) {
      const here = await this.entry(path.basename(source).slice(0, -GGUF_EXT.length));
      if (here !== null) return here;
    }
    let facts: ModelFacts;
    try {
      facts = await this.inspect(source);
    } catch (e) {
      throw new Error(`import: ${message(e)}; nothing was copied`);
    }
    const name = nameFrom(path.basename(source));
    const paths = libraryPaths(this.folder, name);
    if (await exists(paths.model)) return this.sameOrClash(name, source, st.size, null);
    await checkFreeSpace(this.statfs, this.folder, st.size, 'import');

    const temp = tempBeside(paths.model, 'import');
    try {
      const copied = await copyHashed(source, temp);
      if (copied.size !== st.size) throw new Error(`import: ${file}: it changed while it was copied (${st.size} bytes, then ${copied.size}); nothing was imported`);
      const tempStat = await fs.promises.stat(temp);
      try {
        await publishNoClobber(temp, paths.model);
      } catch (e) {
        if (e instanceof NameTaken) return await this.sameOrClash(name, source, copied.size, copied.sha256);
        throw e;
      }
      // After the publish, so a clash never overwrites another model's record; a crash
      // in between leaves a whole model that lists as "found".
      await writeRecord(
        paths.record,
        newRecord({ origin: 'imported', source, sha256: copied.sha256, added_ms: this.now(), size_bytes: copied.size, mtime_ms: tempStat.mtimeMs, facts }),
      );
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
    const entry = await this.entry(name);
    if (entry === null) throw new Error(`import: ${paths.model} vanished right after it was written`);
    return entry;
  }

  /** Records a model that arrived another way (a finished download), right after it was published. */
  async recordArrival(name: string, fields: { origin: ModelRecord['origin']; source: string; sha256: string; size: number; mtimeMs: number; facts: ModelFacts }): Promise<void> {
    await writeRecord(
      libraryPaths(this.folder, name).record,
      newRecord({ origin: fields.origin, source: fields.source, sha256: fields.sha256, added_ms: this.now(), size_bytes: fields.size, mtime_ms: fields.mtimeMs, facts: fields.facts }),
    );
  }

  /** models/<name>.gguf exists: the same bytes are the same model (answer it); anything else is a clash. */
  private async sameOrClash(name: string, source: string, size: number, sha256: string | null): Promise<ModelLibraryEntry> {
    const paths = libraryPaths(this.folder, name);
    const existing = await this.entry(name);
    if (existing !== null && existing.size_bytes === size) {
      const theirs = existing.sha256 ?? (await sha256File(paths.model));
      const ours = sha256 ?? (await sha256File(source));
      if (theirs === ours) return existing;
    }
    throw new Error(
      `import: ${paths.model} already exists and is a different file: rename ${path.basename(source)} (or remove the one in the library) and import again`,
    );
  }

  /** The record's facts when it still describes the file (its size and mtime), else the engine's reading. */
  private read(file: string, st: fs.Stats, record: ModelRecord | null): Promise<Reading> {
    const current = record !== null && record.size_bytes === st.size && record.mtime_ms === st.mtimeMs;
    return this.readings.read(file, st, current ? record.facts : null);
  }

}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
