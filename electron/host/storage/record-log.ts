// A capped list of records (history entries, performance records) kept in
// one versioned JSON file, newest last on disk, newest first when listed.
// Each append is acknowledged once the file holding it is on disk; the list
// is rewritten whole (atomically), which at a few hundred small records costs
// less than a millisecond of work and keeps the file trivially loadable.
import * as path from 'node:path';
import { z } from 'zod';

import { SerialWriter } from './serial-writer';
import { type Loaded, type Migration, type VersionedFormat, loadVersioned, saveVersioned } from './versioned-file';

export interface RecordLogOptions<T> {
  kind: string;
  version: number;
  record: z.ZodType<T>;
  migrations?: readonly Migration[];
  /** Keep at most this many, dropping the oldest. */
  cap: number;
}

export function recordLogFormat<T>(o: RecordLogOptions<T>): VersionedFormat<{ records: T[] }> {
  return {
    kind: o.kind,
    version: o.version,
    schema: z.strictObject({ records: z.array(o.record) }),
    migrations: o.migrations ?? [],
    defaults: () => ({ records: [] }),
  };
}

export class RecordLog<T> {
  private readonly writer: SerialWriter;

  private constructor(
    readonly file: string,
    private records: T[],
    private readonly format: VersionedFormat<{ records: T[] }>,
    private readonly cap: number,
  ) {
    this.writer = new SerialWriter(() => saveVersioned(this.file, this.format, { records: this.records }));
  }

  static async open<T>(file: string, options: RecordLogOptions<T>): Promise<{ log: RecordLog<T>; loaded: Loaded<{ records: T[] }> }> {
    const format = recordLogFormat(options);
    const loaded = await loadVersioned(file, format);
    const log = new RecordLog(file, loaded.data.records.slice(-options.cap), format, options.cap);
    if (loaded.status === 'migrated') await log.writer.save();
    return { log, loaded };
  }

  static fileIn(home: string, name: string): string {
    return path.join(home, name);
  }

  get size(): number {
    return this.records.length;
  }

  /** Resolves once the record is on disk. */
  append(record: T): Promise<void> {
    this.records.push(record);
    if (this.records.length > this.cap) this.records.splice(0, this.records.length - this.cap);
    return this.writer.save();
  }

  /** Newest first. */
  list(limit = 100): T[] {
    return this.records.slice(-limit).reverse();
  }

  async clear(): Promise<number> {
    const removed = this.records.length;
    this.records = [];
    await this.writer.save();
    return removed;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
