// How the engine hands tokens to JavaScript (native/addon/generate_worker.cpp):
// each at once until the token callback returns a hold, then held tokens go
// together, and a token slower than the hold never waits. Tokens are spaced
// with the engine's pacing, so each takes a known time on any machine.
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { NativeEngine } from '../../../../electron/host/engine/native-engine';
import type { NativeTokenEvent } from '../../../../electron/host/engine/native';
import { stories } from '../../../support/repo';

const TOKENS = 16;
const TOKEN_MS = 5;

let engine: NativeEngine;
before(async () => {
  engine = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
  engine.setPacing(TOKEN_MS);
});
after(() => engine.close());

/**
 * One generation; `hold` answers each token. A hand-over is a run of
 * callbacks in one turn of the event loop: setImmediate cannot run inside a
 * synchronous run of them, so its reset marks where one ends.
 */
async function generate(hold: (e: NativeTokenEvent) => number | void): Promise<{ events: NativeTokenEvent[]; completion: string; handOvers: number }> {
  const events: NativeTokenEvent[] = [];
  let handOvers = 0;
  let inOne = false;
  const r = await engine.generate(
    { prompt: 'Once upon a time', temperature: 0, maxTokens: TOKENS },
    {
      onToken: (e) => {
        if (!inOne) {
          handOvers++;
          inOne = true;
          setImmediate(() => {
            inOne = false;
          });
        }
        events.push(e);
        return hold(e);
      },
    },
  );
  return { events, completion: r.completion, handOvers };
}

function assertWhole(run: { events: NativeTokenEvent[]; completion: string }): void {
  assert.deepEqual(
    run.events.map((e) => e.index),
    [...Array(TOKENS).keys()],
  );
  assert.equal(run.events.map((e) => e.text).join(''), run.completion);
}

test('without a hold, each token is handed over on its own', async () => {
  const run = await generate(() => undefined);
  assertWhole(run);
  // JS is idle here, so every token wakes it; a few may share a turn of the loop on a busy machine.
  assert.ok(run.handOvers >= TOKENS - 4, `${run.handOvers} hand-overs of ${TOKENS} tokens`);
});

test('a hold from the first token sends the rest together at the end, each once and in order', async () => {
  const run = await generate(() => 60_000);
  assertWhole(run);
  assert.ok(run.handOvers <= 2, `${run.handOvers} hand-overs: the first token, then the rest when the generation ended`);
});

test('a token slower than the hold never waits for it', async () => {
  const run = await generate(() => TOKEN_MS / 5);
  assertWhole(run);
  assert.ok(run.handOvers >= TOKENS - 4, `${run.handOvers} hand-overs of ${TOKENS} tokens`);
});

test('each generation starts without the last one\'s hold', async () => {
  const held = await generate((e) => (e.index >= 2 ? 60_000 : 0));
  assertWhole(held);
  assert.ok(held.handOvers <= 4, `${held.handOvers} hand-overs: tokens 0, 1 and 2 at once, then the rest at the end`);
  const next = await generate(() => undefined);
  assertWhole(next);
  assert.ok(next.handOvers >= TOKENS - 4, `${next.handOvers} hand-overs of ${TOKENS} tokens`);
});
