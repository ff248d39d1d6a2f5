// The free-space check done before any byte is copied or downloaded: the
// library never starts a transfer that would fill the disk halfway through.
// statfs is injected so tests can play a full disk.
import * as fs from 'node:fs';

import { bytes } from '../../../common/units';

export type StatFs = (folder: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export const defaultStatFs: StatFs = (folder) => fs.promises.statfs(folder);

/** Room kept free beyond the file itself: the OS, settings and history need to keep working. */
export const SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/** Throws one line when `folder`'s file system has less than `need` bytes (plus the margin) free. */
export async function checkFreeSpace(statfs: StatFs, folder: string, need: number, what: string): Promise<void> {
  const st = await statfs(folder);
  const free = Number(st.bavail) * Number(st.bsize);
  if (free < need + SPACE_MARGIN_BYTES) {
    throw new Error(
      `${what}: not enough free space in ${folder}: needs ${bytes(need)} (+${bytes(SPACE_MARGIN_BYTES)} to spare), ${bytes(free)} free; free some space and try again`,
    );
  }
}

