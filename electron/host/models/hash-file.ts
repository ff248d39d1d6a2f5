// Streaming SHA-256 over a file (or its first `length` bytes), and a copy that
// hashes what it writes, so a file is read once whether it is checked,
// copied, or both.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';

const CHUNK = 1 << 20;
/** Never blocks on a path that turned into a pipe since it was checked (storage/regular-file.ts). */
const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/** Feeds the file's first `length` bytes (all of it when undefined) into `hash`; returns how many were read. */
export async function hashInto(hash: Hash, file: string, length?: number): Promise<number> {
  const handle = await fs.promises.open(file, READ_FLAGS);
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    for (;;) {
      const want = length === undefined ? CHUNK : Math.min(CHUNK, length - done);
      if (want <= 0) break;
      const { bytesRead } = await handle.read(buffer, 0, want, done);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
    return done;
  } finally {
    await handle.close();
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, file);
  return hash.digest('hex');
}

/** Copies `from` to a new file `to` (which must not exist), fsynced; returns the SHA-256 and size of what was written. */
export async function copyHashed(from: string, to: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const source = await fs.promises.open(from, READ_FLAGS);
  try {
    const target = await fs.promises.open(to, 'wx', 0o644);
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let size = 0;
      for (;;) {
        const { bytesRead } = await source.read(buffer, 0, CHUNK, size);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        await writeAll(target, chunk, size);
        size += bytesRead;
      }
      await target.sync();
      return { sha256: hash.digest('hex'), size };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Writes all of `data` at `position` (a write may take fewer bytes than asked). */
export async function writeAll(handle: fs.promises.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await handle.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}
