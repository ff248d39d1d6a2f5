// Writing a file so that a crash at any moment leaves either the old content
// or the new one, never a mix: write a temp file beside it, fsync it, rename
// it over the target (atomic on POSIX and NTFS), then fsync the folder so the
// rename itself survives a power cut. Temp names carry the pid and a random
// part, so two processes never write the same temp file; a crash leaves a
// temp file behind, which removeStaleTemps() clears at the next start (but
// never a live writer's: the app and the CLI share the data folder).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { pidAlive } from './process-alive';

const TEMP_SUFFIX = '.tmp';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = tempName(file);
  const handle = await fs.promises.open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (e) {
    await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncFolder(dir);
}

/** Makes a rename or a create in `dir` durable. Windows cannot open a folder for fsync, and NTFS journals the rename. */
export async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A temp file is stale when its owner (the pid in its name) no longer runs,
 * or nobody has written it for STALE_TEMP_AGE_MS: a writer writes without
 * pause from create to rename, so a day of silence means its pid was reused
 * or the name carries none.
 */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

/** The pid in a temp file's name ".<file>.[<what>-]<pid>-<8 hex>.tmp", or null. */
export function tempOwner(name: string): number | null {
  const m = /[.-](\d+)-[0-9a-f]{8}\.tmp$/.exec(name);
  return m === null ? null : Number(m[1]);
}

/** Removes `dir`/`name` if it is a stale temp file (see STALE_TEMP_AGE_MS); true if it did. */
export async function removeIfStale(dir: string, name: string, now: number = Date.now()): Promise<boolean> {
  const file = path.join(dir, name);
  let mtimeMs: number;
  try {
    mtimeMs = (await fs.promises.lstat(file)).mtimeMs;
  } catch {
    return false; // its writer renamed or removed it meanwhile
  }
  const owner = tempOwner(name);
  if (now - mtimeMs < STALE_TEMP_AGE_MS && (owner === null || pidAlive(owner))) return false;
  await fs.promises.rm(file, { force: true });
  return true;
}

/** Removes the temp files crashed writers of `file` left behind; a live writer's stay. */
export async function removeStaleTemps(file: string, now: number = Date.now()): Promise<number> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names.filter((n) => n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX))) if (await removeIfStale(dir, n, now)) removed++;
  return removed;
}
