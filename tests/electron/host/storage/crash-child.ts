// The writer that crash-safety.test.ts kills: opens the settings and the
// history in the folder it is given, and writes both as fast as it can,
// printing "ack N" once write N of both is acknowledged (its promises
// resolved). Each entry's number continues from what is already on disk, so
// the numbers grow across every run the test makes.
import * as fs from 'node:fs';

import type { HistoryEntry } from '../../../../common/contract';
import { SettingsStore } from '../../../../electron/host/storage/settings-store';
import { openHistory } from '../../../../electron/host/storage/stores';

export function entry(n: number): HistoryEntry {
  return { press_id: `n${n}`, t_ms: n, source: 'keyboard', prompt: `prompt ${n}`, completion: `reply ${n} `.repeat(20), stop: 'eos', model: 'm', ttft_ms: 1, tokens: 2 };
}

export async function openStores(dir: string) {
  const { store, loaded: settingsLoaded } = await SettingsStore.open(dir);
  const { log, loaded: historyLoaded } = await openHistory(dir);
  return { store, log, settingsLoaded, historyLoaded };
}

async function main(dir: string): Promise<void> {
  const { store, log } = await openStores(dir);
  const newest = log.list(1)[0];
  let n = newest === undefined ? 0 : Number(newest.press_id.slice(1)) + 1;
  fs.writeSync(1, `ready ${n}\n`);
  for (;;) {
    await Promise.all([store.update({ persona: `persona ${n}`, max_tokens: (n % 4096) + 1 }), log.append(entry(n))]);
    fs.writeSync(1, `ack ${n}\n`);
    n++;
  }
}

if (require.main === module) {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: crash-child DIR');
  void main(dir);
}
