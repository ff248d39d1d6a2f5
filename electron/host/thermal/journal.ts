// The restore journal: what Keymate changed on the GPU, written (atomically,
// in the data folder) BEFORE the change is made, so that the GPU's own
// settings come back on exit and, after a crash, at the next start. It holds
// the power limit as it was before the first change (the user's own, not
// necessarily the driver's default) and the fans that were taken off the
// driver's automatic curve. No file = nothing to restore.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

import { syncFolder } from '../storage/atomic-file';
import { type Loaded, type VersionedFormat, loadVersioned, saveVersioned } from '../storage/versioned-file';

export const JOURNAL_FILE = 'thermal-restore.json';

export const JournalEntry = z.strictObject({
  /** The GPU by its UUID: indexes can change between runs. */
  uuid: z.string(),
  index: z.number().int().nonnegative(),
  /** The limit to put back; null = the power limit was not changed. */
  power_limit_w: z.number().positive().nullable(),
  /** Fans to give back to the driver's automatic curve. */
  fans: z.array(z.number().int().nonnegative()),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

const format: VersionedFormat<{ gpu: JournalEntry | null }> = {
  kind: 'thermal-restore',
  version: 1,
  schema: z.strictObject({ gpu: JournalEntry.nullable() }),
  migrations: [],
  defaults: () => ({ gpu: null }),
};

export class RestoreJournal {
  readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, JOURNAL_FILE);
  }

  /** What a previous run left to restore (null: nothing); a corrupt journal is set aside like any other file. */
  async read(): Promise<{ entry: JournalEntry | null; loaded: Loaded<{ gpu: JournalEntry | null }> }> {
    const loaded = await loadVersioned(this.file, format);
    return { entry: loaded.data.gpu, loaded };
  }

  /** Resolves once the entry is on disk; null removes the file (everything is restored). */
  async write(entry: JournalEntry | null): Promise<void> {
    if (entry === null || (entry.power_limit_w === null && entry.fans.length === 0)) {
      await fs.promises.rm(this.file, { force: true });
      await syncFolder(path.dirname(this.file));
      return;
    }
    await saveVersioned(this.file, format, { gpu: JournalEntry.parse(entry) });
  }
}
