// The last step of every way into the library: a finished, fsynced temp file
// in models/ becomes models/<name>.gguf in one step, and never over another
// file. A hard link fails with EEXIST when the name is taken, which makes the
// check and the move one atomic operation; on a file system without hard links
// it falls back to a check and a rename (a race there needs two writers of the
// same name in the same millisecond, and the library has one).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { syncFolder } from '../storage/atomic-file';
import { pidAlive } from './process-alive';

export class NameTaken extends Error {
  override readonly name = 'NameTaken';
}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** A temp path beside `dest` that no listing mistakes for a model: a dot file ending in .tmp. */
export function tempBeside(dest: string, what: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${what}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Moves `temp` to `dest` unless `dest` exists (then NameTaken, and `temp` stays for the caller to remove). */
export async function publishNoClobber(temp: string, dest: string): Promise<void> {
  try {
    await fs.promises.link(temp, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw new NameTaken(`${dest} already exists`);
    if (!NO_LINKS.has(code)) throw e;
    if (await exists(dest)) throw new NameTaken(`${dest} already exists`);
    await fs.promises.rename(temp, dest);
    await syncFolder(path.dirname(dest));
    return;
  }
  await fs.promises.unlink(temp);
  await syncFolder(path.dirname(dest));
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.lstat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * A temp file in models/ left by a writer that is gone. The app and the CLI
 * open the same folder while the other may be writing (an import, a record),
 * so "any temp at open" is not stale: only one whose owner (the pid in its
 * name, from tempBeside or writeFileAtomic) no longer runs, or that nobody
 * has written for STALE_TEMP_AGE_MS (a writer writes without pause from
 * create to rename, so a day of silence means its pid was reused, or the name
 * carries none).
 */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

/** The pid in a temp file's name ".<file>.[<what>-]<pid>-<8 hex>.tmp", or null. */
export function tempOwner(name: string): number | null {
  const m = /[.-](\d+)-[0-9a-f]{8}\.tmp$/.exec(name);
  return m === null ? null : Number(m[1]);
}

/** Removes the dot temp files of crashed writers from `folder` (see STALE_TEMP_AGE_MS); a live writer's stay. */
export async function removeStaleTemps(folder: string, now: number = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await fs.promises.readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names.filter((n) => n.startsWith('.') && n.includes('.gguf') && n.endsWith('.tmp'))) {
    const file = path.join(folder, n);
    let mtimeMs: number;
    try {
      mtimeMs = (await fs.promises.lstat(file)).mtimeMs;
    } catch {
      continue; // its writer renamed or removed it meanwhile
    }
    const owner = tempOwner(n);
    if (now - mtimeMs < STALE_TEMP_AGE_MS && (owner === null || pidAlive(owner))) continue;
    await fs.promises.rm(file, { force: true });
    removed++;
  }
  return removed;
}
