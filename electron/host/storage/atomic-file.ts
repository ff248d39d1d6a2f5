// Writing a file so that a crash at any moment leaves either the old content
// or the new one, never a mix: write a temp file beside it, fsync it, rename
// it over the target (atomic on POSIX and NTFS), then fsync the folder so the
// rename itself survives a power cut. Temp names carry the pid and a random
// part, so two processes never write the same temp file; a crash leaves a
// temp file behind, which removeStaleTemps() clears at the next start.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** Removes temp files a crashed writer of `file` left behind. */
export async function removeStaleTemps(file: string): Promise<number> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return 0;
  }
  const stale = names.filter((n) => n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((n) => fs.promises.rm(path.join(dir, n), { force: true })));
  return stale.length;
}
