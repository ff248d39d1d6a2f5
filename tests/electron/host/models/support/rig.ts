// A library folder, its downloads against a ModelServer, and the invariant
// every test checks after every event: any *.gguf in the folder is the whole,
// verified file (no half file ever looks complete).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

import type { DownloadState } from '../../../../../common/contract';
import { Downloads, type DownloadsOptions } from '../../../../../electron/host/models/download/downloads';
import { ModelLibrary } from '../../../../../electron/host/models/library';
import { tempDir } from '../../../../support/repo';
import { ModelServer } from './model-server';

export interface DownloadRig {
  folder: string;
  server: ModelServer;
  library: ModelLibrary;
  downloads: Downloads;
  events: DownloadState[];
  /** The waits the backoff asked for, in order. */
  sleeps: number[];
  /** Resolves with the first state (from now or already seen after `from`) that matches. */
  until: (match: (s: DownloadState) => boolean, from?: number) => Promise<DownloadState>;
}

export const plenty = (): Promise<{ bavail: number; bsize: number }> => Promise.resolve({ bavail: 1e9, bsize: 4096 });

/** Every .gguf in `folder` must equal `whole`; call after any step. */
export function assertNoFalseModel(folder: string, whole: Buffer): void {
  for (const n of fs.readdirSync(folder)) {
    if (!n.endsWith('.gguf')) continue;
    assert.ok(fs.readFileSync(path.join(folder, n)).equals(whole), `${n} is in the library but is not the whole, verified file`);
  }
}

export async function downloadRig(
  t: TestContext,
  body: Buffer,
  options: Partial<DownloadsOptions> = {},
  folder = tempDir('keymate-dl-'),
  whole: Buffer = body,
): Promise<DownloadRig> {
  const server = await ModelServer.start(body);
  t.after(() => server.stop());
  const library = await ModelLibrary.open({ folder, statfs: plenty });
  const events: DownloadState[] = [];
  const waiters = new Set<() => void>();
  const sleeps: number[] = [];
  const downloads = await Downloads.open({
    library,
    statfs: plenty,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    idleTimeoutMs: 5000,
    checkpointBytes: 64 * 1024,
    emit: (s) => {
      events.push(s);
      assertNoFalseModel(folder, whole);
      for (const w of [...waiters]) w();
    },
    ...options,
  });
  t.after(() => downloads.close());
  const until = (match: (s: DownloadState) => boolean, from = 0): Promise<DownloadState> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching download state; last: ${JSON.stringify(events[events.length - 1])}`));
      }, 20_000);
      const check = (): void => {
        const hit = events.slice(from).find(match);
        if (hit !== undefined) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        }
      };
      waiters.add(check);
      check();
    });
  return { folder, server, library, downloads, events, sleeps, until };
}

export const finished = (s: DownloadState): boolean => s.state === 'done' || s.state === 'failed' || s.state === 'cancelled';
