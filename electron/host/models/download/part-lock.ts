// The lock that makes one process at a time the writer of a download's part:
// the app and `keymate models download` share models/ and may be asked for
// the same name at once, and two writers of one .part splice two transfers
// into one file. The lock is models/<name>.gguf.part.lock, created with
// O_EXCL (so creating it is the test and the claim in one step), holding who
// took it: pid, host, when, the process's start time where the OS tells it,
// and a random token. It is taken for as long as a download runs and for the
// short steps that change a part from outside a run (start over, cancel).
//
// A lock is stale when its process is gone (or its pid now names another
// process, by the start time); a stale lock is moved aside to a private name
// first and removed only if what was moved is the very lock judged stale, so
// two processes breaking it at once cannot remove a fresh one. A lock of
// another host cannot be judged and counts as held. Inside one process a
// registry tells this process's live locks from ones it leaked.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { z } from 'zod';

import { pidAlive, processStart } from '../../storage/process-alive';

const FORMAT = 'keymate-download-lock';
/** A lock file that cannot be read is being written (it is created empty) unless it is older than this. */
const UNREADABLE_GRACE_MS = 60_000;
/** Rounds of "exists, stale, moved aside" before giving up (each needs another process's race). */
const MAX_TRIES = 5;

const Holder = z.object({
  format: z.literal(FORMAT),
  pid: z.number().int().positive(),
  host: z.string(),
  started_ms: z.number(),
  proc_start: z.string().nullable(),
  token: z.string(),
});
type Holder = z.infer<typeof Holder>;

/** The part is another process's: the message is "already being downloaded by process N...". */
export class PartBusy extends Error {
  override readonly name = 'PartBusy';
  constructor(readonly pid: number | null, host: string | null) {
    const who = pid === null ? 'another process' : `process ${pid}${host !== null ? ` on ${host}` : ''}`;
    super(`already being downloaded by ${who}: let it finish, or stop it and resume here`);
  }
}

export interface PartLock {
  /** Removes the lock file if it is still this one; never throws. */
  release(): Promise<void>;
}

/** Lock file -> token of the locks this process holds. */
const held = new Map<string, string>();

/** Takes the lock `file` or throws PartBusy naming its holder. */
export async function lockPart(file: string): Promise<PartLock> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const mine: Holder = {
      format: FORMAT,
      pid: process.pid,
      host: os.hostname(),
      started_ms: Date.now(),
      proc_start: processStart(process.pid),
      token: randomBytes(8).toString('hex'),
    };
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const seen = await readHolder(file);
      if (seen === 'gone') continue;
      if (live(file, seen)) throw busy(seen);
      await breakStale(file, seen);
      continue;
    }
    held.set(file, mine.token);
    try {
      await handle.writeFile(JSON.stringify(mine) + '\n');
      await handle.sync();
    } catch (e) {
      held.delete(file);
      await handle.close().catch(() => undefined);
      await fs.promises.rm(file, { force: true });
      throw e;
    }
    await handle.close();
    return { release: () => release(file, mine.token) };
  }
  throw new PartBusy(null, null);
}

/** Who holds the lock `file` (this process too, when it does), or null when nobody live does. */
export async function lockHolder(file: string): Promise<PartBusy | null> {
  const seen = await readHolder(file);
  if (seen === 'gone') return null;
  return live(file, seen) ? busy(seen) : null;
}

async function release(file: string, token: string): Promise<void> {
  if (held.get(file) !== token) return;
  held.delete(file);
  const seen = await readHolder(file);
  if (seen !== 'gone' && seen !== 'unreadable' && seen.token === token) await fs.promises.rm(file, { force: true }).catch(() => undefined);
}

type Seen = Holder | 'unreadable' | 'gone';

async function readHolder(file: string): Promise<Seen> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return 'unreadable';
  }
  try {
    const r = Holder.safeParse(JSON.parse(text));
    return r.success ? r.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function live(file: string, seen: Holder | 'unreadable'): boolean {
  if (seen === 'unreadable') {
    // Created but not yet written (the writer is between open and write), or a crash right there.
    try {
      return Date.now() - fs.statSync(file).mtimeMs < UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (seen.host !== os.hostname()) return true;
  if (seen.pid === process.pid) return held.get(file) === seen.token;
  if (!pidAlive(seen.pid)) return false;
  const now = seen.proc_start === null ? null : processStart(seen.pid);
  return now === null || now === seen.proc_start;
}

function busy(seen: Holder | 'unreadable'): PartBusy {
  return seen === 'unreadable' ? new PartBusy(null, null) : new PartBusy(seen.pid, seen.host === os.hostname() ? null : seen.host);
}

/** Removes the stale lock `seen` unless another process replaced it meanwhile (then it is put back). */
async function breakStale(file: string, seen: Holder | 'unreadable'): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.promises.rename(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it
    throw e;
  }
  const moved = await readHolder(aside);
  const same = seen === 'unreadable' ? moved === 'unreadable' : moved !== 'gone' && moved !== 'unreadable' && moved.token === seen.token;
  if (!same) {
    // A fresh lock was taken between our read and the move: give it back (no clobber).
    await fs.promises.link(aside, file).catch(() => undefined);
  }
  await fs.promises.rm(aside, { force: true });
}
