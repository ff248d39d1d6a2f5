// Crash safety of settings and history: a writer process is killed
// with SIGKILL at random moments, 200 times, while it writes both files as
// fast as it can. After every kill both files must load as they are (never
// set aside as corrupt), and every write the writer saw acknowledged must be
// there: the settings at least as new as the last acknowledged update, and
// every acknowledged history entry present, in order, without gaps.
//
// Two lanes run side by side (each its own folder, 100 kills each) to keep
// the test near 30 s on two cores; one kill in ten lands before the writer
// is ready, so crashes while loading (and clearing stale temp files) are
// covered too.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { HISTORY_CAP } from '../../../../electron/host/storage/stores';
import { tempDir } from '../../../support/repo';
import { rng } from '../../../support/rng';
import { entry, openStores } from './crash-child';

const KILLS = 200;
const LANES = 2;
const CHILD = path.join(__dirname, 'crash-child.js');

interface Run {
  acked: number[];
  ready: boolean;
}

function runAndKill(dir: string, random: () => number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { acked: [], ready: false };
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    const early = random() < 0.1;
    if (early) timer = setTimeout(kill, random() * 250);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!run.ready && out.includes('ready ')) {
        run.ready = true;
        if (!early) timer = setTimeout(kill, random() * 60);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`the writer ended by itself (${String(signal ?? _code)}): ${err}`));
        return;
      }
      for (const m of out.matchAll(/^ack (\d+)$/gm)) run.acked.push(Number(m[1]));
      resolve(run);
    });
  });
}

async function lane(dir: string, kills: number, seed: number): Promise<number> {
  const random = rng(seed);
  let lastAcked = -1;
  let acks = 0;
  for (let k = 0; k < kills; k++) {
    const run = await runAndKill(dir, random);
    acks += run.acked.length;
    if (run.acked.length > 0) lastAcked = run.acked.at(-1) ?? lastAcked;
    const where = `lane seed ${seed}, kill ${k + 1}`;

    const { store, log, settingsLoaded, historyLoaded } = await openStores(dir);
    assert.notEqual(settingsLoaded.status, 'kept-aside', `${where}: settings set aside: ${settingsLoaded.problem ?? ''}`);
    assert.notEqual(historyLoaded.status, 'kept-aside', `${where}: history set aside: ${historyLoaded.problem ?? ''}`);
    if (lastAcked < 0) continue;

    // Settings: at least as new as the last acknowledged update (a later, unacknowledged one may have landed).
    const persona = Number(/^persona (\d+)$/.exec(store.get().persona)?.[1] ?? -1);
    assert.ok(persona >= lastAcked, `${where}: settings went back to ${persona}, ${lastAcked} was acknowledged`);

    // History: oldest first, consecutive numbers, every acknowledged one still there (or pushed out by the cap).
    const numbers = log.list(HISTORY_CAP).reverse().map((e) => Number(e.press_id.slice(1)));
    for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], (numbers[i - 1] ?? 0) + 1, `${where}: history has a gap`);
    const newest = numbers.at(-1) ?? -1;
    assert.ok(newest >= lastAcked, `${where}: history ends at ${newest}, ${lastAcked} was acknowledged`);
    assert.ok(numbers.length === Math.min(HISTORY_CAP, newest + 1), `${where}: history holds ${numbers.length} of ${newest + 1} entries`);
    assert.deepEqual(log.list(1)[0], entry(newest), `${where}: the newest entry is not what was written`);
  }
  // No temp file piles up: each start clears what the killed writer left.
  await openStores(dir);
  const leftovers = fs.readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('.corrupt-'));
  assert.deepEqual(leftovers, []);
  return acks;
}

test(`settings and history survive ${KILLS} SIGKILLs at random moments, losing nothing acknowledged`, { timeout: 180_000 }, async () => {
  const seed = Date.now() % 100_000;
  const perLane = KILLS / LANES;
  const acks = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(tempDir(`keymate-crash-${i}-`), perLane, seed + i)));
  // The writer must have been caught mid-work many times, or the test proves little
  // (a write pair takes a few ms with its fsyncs; a loaded machine makes fewer).
  const total = acks.reduce((a, b) => a + b, 0);
  assert.ok(total >= KILLS / 4, `only ${total} acknowledged writes in ${KILLS} runs`);
});
