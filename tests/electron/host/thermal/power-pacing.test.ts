// Holding a power cap by pacing: more pacing while a reply draws over the
// cap, less well under it, none without a cap, and idle power changes nothing.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { POWER_PACING_MAX_MS, nextPowerPacing } from '../../../../electron/host/thermal/power-pacing';

test('over the cap: pacing grows to its ceiling; under: it falls back to none', () => {
  let ms = 0;
  const up: number[] = [];
  for (let i = 0; i < 30; i++) up.push((ms = nextPowerPacing(ms, 95, 80, true)));
  assert.ok(up.every((v, i) => i === 0 || v >= (up[i - 1] as number)), 'monotonic');
  assert.equal(up.at(-1), POWER_PACING_MAX_MS);
  assert.equal(nextPowerPacing(ms, 79, 80, true), ms, 'inside the band: held');
  for (let i = 0; i < 40 && ms > 0; i++) ms = nextPowerPacing(ms, 50, 80, true);
  assert.equal(ms, 0);
});

test('idle power, a missing reading or no cap', () => {
  assert.equal(nextPowerPacing(40, 200, 80, false), 40);
  assert.equal(nextPowerPacing(40, null, 80, true), 40);
  assert.equal(nextPowerPacing(40, 200, null, true), 0);
});
