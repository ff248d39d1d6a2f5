// Crash safety of conversations (history survives a crash at any moment, so
// a killed app loses no turn it acknowledged): a real host asking question
// after question is killed with SIGKILL at random moments, 100 times, on the same
// data folder, most of them during a reply. After every kill the conversation
// must load as it is (never set aside), and every turn the host announced
// (conversation.turn: acknowledged, on disk) must be there, at its index,
// with its role, press and text.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

import { ConversationStore } from '../../../../electron/host/storage/conversation-store';
import { tempDir } from '../../../support/repo';
import { rng } from '../../../support/rng';
import { textHash } from './conversation-crash-child';

const KILLS = 100;
const CHILD = path.join(__dirname, 'conversation-crash-child.js');

interface Ack {
  index: number;
  role: string;
  press: string;
  length: number;
  hash: string;
}

function runAndKill(home: string, random: () => number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Killed a random while into its questions: a reply of 128 tokens takes a few ms, its turns' writes as long.
      if (timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), random() * 150);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`the host ended by itself (${String(signal ?? code)}): ${err}`));
        return;
      }
      const acks = [...out.matchAll(/^ack (\d+) (\w+) (\S+) (\d+) ([0-9a-f]+)$/gm)].map((m) => ({
        index: Number(m[1]),
        role: m[2]!,
        press: m[3]!,
        length: Number(m[4]),
        hash: m[5]!,
      }));
      resolve(acks);
    });
  });
}

test(`a conversation survives ${KILLS} SIGKILLs of the host during replies, losing no acknowledged turn`, { timeout: 600_000 }, async () => {
  const seed = Date.now() % 100_000;
  const random = rng(seed);
  const home = tempDir('keymate-conv-crash-');
  const acked = new Map<number, Ack>();
  let total = 0;
  for (let k = 0; k < KILLS; k++) {
    const run = await runAndKill(home, random);
    total += run.length;
    for (const a of run) acked.set(a.index, a);
    const where = `seed ${seed}, kill ${k + 1}`;
    const store = await ConversationStore.open(home);
    assert.deepEqual(store.problems, [], `${where}: a conversation was set aside`);
    const turns = store.current.turns;
    for (const a of acked.values()) {
      const t = turns[a.index];
      assert.ok(t !== undefined, `${where}: turn ${a.index} (${a.role} of ${a.press}) was acknowledged and is gone`);
      assert.deepEqual(
        [t.role, t.press_id, t.text.length, textHash(t.text)],
        [a.role, a.press, a.length, a.hash],
        `${where}: turn ${a.index} is not what was acknowledged`,
      );
    }
  }
  // The host must have been caught mid-conversation many times, or the test proves little.
  assert.ok(total >= KILLS, `only ${total} acknowledged turns in ${KILLS} runs`);
  assert.ok(acked.size >= 20, `the conversation grew to only ${acked.size} turns`);
});
