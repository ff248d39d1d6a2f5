// The key Keymate sends to a remote engine. KEYMATE_REMOTE_API_KEY wins (a
// person who runs keymate serve from a script keeps secrets out of files);
// otherwise the one saved from Settings, in <home>/remote-api-key (mode
// 0600, written atomically). It is never in settings.json, which the UI
// reads whole: a key the user typed is not shown back.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { RemoteStatus } from '../../../common/contract';
import { writeFileAtomic } from '../storage/atomic-file';

export const REMOTE_KEY_FILE = 'remote-api-key';
export const REMOTE_KEY_ENV = 'KEYMATE_REMOTE_API_KEY';

/** KEYMATE_REMOTE_API_KEY, or null when it is unset or blank. */
export function remoteKeyFromEnv(env: NodeJS.ProcessEnv): string | null {
  const key = env['KEYMATE_REMOTE_API_KEY']?.trim() ?? '';
  return key !== '' ? key : null;
}

export class RemoteKey {
  private saved: string | null;

  private constructor(
    private readonly file: string,
    private readonly fromEnv: string | null,
    saved: string | null,
  ) {
    this.saved = saved;
  }

  static async open(home: string, env: NodeJS.ProcessEnv): Promise<RemoteKey> {
    const file = path.join(home, REMOTE_KEY_FILE);
    let saved: string | null = null;
    try {
      saved = (await fs.promises.readFile(file, 'utf8')).trim() || null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`remote api key: ${file}: ${(e as Error).message}`);
    }
    return new RemoteKey(file, remoteKeyFromEnv(env), saved);
  }

  /** The environment's key alone: the saved one could not be read (the notice says why). */
  static none(home: string, env: NodeJS.ProcessEnv): RemoteKey {
    return new RemoteKey(path.join(home, REMOTE_KEY_FILE), remoteKeyFromEnv(env), null);
  }

  get key(): string | null {
    return this.fromEnv ?? this.saved;
  }

  get source(): RemoteStatus['key'] {
    return this.fromEnv !== null ? 'environment' : this.saved !== null ? 'saved' : 'none';
  }

  /** Saves `key` ('' removes the saved one). */
  async set(key: string): Promise<void> {
    const k = key.trim();
    // A key goes in an HTTP header: printable ASCII only (fetch would refuse anything else, and say so badly).
    if (!/^[\x21-\x7e]*$/.test(k)) throw new Error('remote api key: a key is printable ASCII without spaces');
    if (k === '') await fs.promises.rm(this.file, { force: true });
    else await writeFileAtomic(this.file, k + '\n');
    this.saved = k === '' ? null : k;
  }
}
