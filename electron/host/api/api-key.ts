// The API's key: made once (32 random bytes, "km-" + base64url), kept in
// <home>/api-key (mode 0600, written atomically) and read again at every
// start, so a client configured once keeps working. `renew` replaces it
// (keymate serve --new-api-key); deleting the file does the same at the next
// start. A person may also write a key of their own into the file.
//
// Two processes starting at once for the first time must not each print a
// key of their own with only one on disk: the new file is linked into place,
// which fails if the other got there first, and then the other's key is used.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { quoted } from '../../../common/printable';
import { syncFolder, writeFileAtomic } from '../storage/atomic-file';

export const API_KEY_FILE = 'api-key';
export const API_KEY_PREFIX = 'km-';
/** A key of one's own: printable ASCII without spaces, long enough not to be guessed. */
const KEY_SHAPE = /^[\x21-\x7e]{16,256}$/;

export function apiKeyFile(home: string): string {
  return path.join(home, API_KEY_FILE);
}

export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export interface ApiKey {
  key: string;
  file: string;
  /** Made (or renewed) by this call, rather than read. */
  created: boolean;
}

/** The key in `home`, made there first if there is none (or `renew`). */
export async function loadApiKey(home: string, options: { renew?: boolean } = {}): Promise<ApiKey> {
  const file = apiKeyFile(home);
  if (options.renew === true) {
    const key = newApiKey();
    await writeFileAtomic(file, key + '\n');
    return { key, file, created: true };
  }
  const existing = await readKey(file);
  if (existing !== null) return { key: existing, file, created: false };
  const key = newApiKey();
  if (await createOnce(file, key + '\n')) return { key, file, created: true };
  const theirs = await readKey(file);
  if (theirs === null) throw new Error(`api key: ${file} vanished while it was being made; start again`);
  return { key: theirs, file, created: false };
}

async function readKey(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`api key: ${file}: ${(e as Error).message}`);
  }
  const key = text.trim();
  if (!KEY_SHAPE.test(key)) {
    throw new Error(`api key: ${file} does not hold a key (16 to 256 printable characters without spaces, got ${quoted(key, 20)}); delete it and a new one is made`);
  }
  // A key others can read is no key: the file is made private again.
  const mode = (await fs.promises.stat(file)).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) await fs.promises.chmod(file, 0o600);
  return key;
}

/** Writes `file` only if it does not exist; false when another process made it first. */
async function createOnce(file: string, data: string): Promise<boolean> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.promises.open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.link(temp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: a plain rename (the race above is then possible, and harmless but for one stale key).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    await fs.promises.rename(temp, file);
    await syncFolder(dir);
    return true;
  } finally {
    await fs.promises.rm(temp, { force: true });
  }
  await syncFolder(dir);
  return true;
}
