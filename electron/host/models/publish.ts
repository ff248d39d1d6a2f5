// The last step of every way into the library: a finished, fsynced temp file
// in models/ becomes models/<name>.gguf in one step, and never over another
// file. A hard link fails with EEXIST when the name is taken, which makes the
// check and the move one atomic operation; on a file system without hard links
// it falls back to a check and a rename (a race there needs two writers of the
// same name in the same millisecond, and the library has one).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { removeIfStale, syncFolder } from '../storage/atomic-file';

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

/** Removes the dot temp files of crashed writers from `folder` (the app and the CLI share it); a live writer's stay. */
export async function removeStaleTemps(folder: string, now: number = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await fs.promises.readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names.filter((n) => n.startsWith('.') && n.includes('.gguf') && n.endsWith('.tmp'))) if (await removeIfStale(folder, n, now)) removed++;
  return removed;
}
