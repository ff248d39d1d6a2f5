// EngineHandle.setPacing through the addon: decoded tokens are spaced by at
// least the pacing, a change while a generation runs takes effect at once,
// and out-of-range values are refused on the JS thread. (The engine side is
// tested in native/tests/engine_pacing.cpp.)
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { loadAddon } from '../../../../electron/host/engine/load-addon';
import type { NativeEngineHandle, NativeTokenEvent } from '../../../../electron/host/engine/native';
import { stories } from '../../../support/repo';

let handle: NativeEngineHandle;
before(async () => {
  handle = new (loadAddon().EngineHandle)();
  handle.setPacing(25);  // before load: kept for the model loaded next
  await handle.load(stories(), { backend: 'cpu', threads: 1, context: 64 });
});
after(() => handle.close());

const greedy = { prompt: 'Once upon a time', temperature: 0, maxTokens: 5 };

function gaps(events: NativeTokenEvent[]): number[] {
  return events.slice(1).map((e, i) => e.tMs - events[i]!.tMs);
}

test('each decoded token takes at least the pacing set before the model was loaded', async () => {
  const events: NativeTokenEvent[] = [];
  await handle.generate(greedy, (e) => events.push(e));
  assert.equal(events.length, 5);
  for (const g of gaps(events)) assert.ok(g >= 25, `gap ${g} ms`);
});

test('setPacing while a generation runs takes effect at once, even inside a wait', async () => {
  // Tokens reach JS after the engine made them, so the change is made from the first
  // token's callback while the engine waits a second for the next one: lifting the
  // pacing ends that wait, so the reply takes far less than 4 x 1 s.
  handle.setPacing(1000);
  const events: NativeTokenEvent[] = [];
  await handle.generate(greedy, (e) => {
    events.push(e);
    if (e.index === 0) handle.setPacing(0);
  });
  assert.equal(events.length, 5);
  const span = events[4]!.tMs - events[0]!.tMs;
  assert.ok(span < 2000, `the reply took ${span} ms after its first token`);
});

test('pacing outside [0, 60000] ms is refused', () => {
  assert.throws(() => handle.setPacing(-1), /^RangeError: setPacing: ms must be 0 \(off\) to 60000, got -1$/);
  assert.throws(() => handle.setPacing(Number.NaN), RangeError);
  assert.throws(() => handle.setPacing(60001), RangeError);
  assert.throws(() => (handle.setPacing as (ms: unknown) => void)('5'), TypeError);
});
