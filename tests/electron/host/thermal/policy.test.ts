// The thermal policy on traces (tests/fixtures/thermal/, made by make.py
// there): hysteresis holds (fan stop/start transitions counted), nothing
// oscillates (every change of rung is held DWELL_MS), the cap is what the
// user set, the hot action escalates and recovers, a game is noticed, and a
// missing sensor never leaves the fans stopped.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_THERMAL, PRESETS, type ThermalSettings, resolveThermal } from '../../../../common/contract/thermal';
import {
  CRITICAL_MARGIN_C,
  DWELL_MS,
  FAN_DWELL_MS,
  GAMER_RELEASE_MS,
  PACING_MS,
  SENSOR_STALE_MS,
  TARGET_HYSTERESIS_C,
  initialPolicyState,
  stepPolicy,
} from '../../../../electron/host/thermal/policy';
import { type Step, changes, runPolicy } from './traces';

const fans = (s: Step) => s.fans;
const level = (s: Step) => s.level;

test('warm-up under load: fans stop while idle, start at stop + hysteresis, then stay on; no hot action under the target', () => {
  const steps = runPolicy('warmup.csv');
  const flips = changes(steps, fans);
  assert.equal(steps[0]?.fans, 'stopped', 'idle at 40 °C: fans stopped from the first reading');
  assert.deepEqual(
    flips.map((s) => s.fans),
    ['auto'],
    'one start, when the load warms the GPU past 50 °C; never stopped again',
  );
  assert.ok((flips[0]?.row.temp_c ?? 0) >= 50, `started at ${flips[0]?.row.temp_c} °C`);
  assert.ok(steps.every((s) => s.level === 'normal'), 'the plateau (~74 °C) stays under the 80 °C target');
  assert.ok(steps.every((s) => s.actions.power_limit_w === 80 && s.actions.pacing_ms === 0 && s.actions.pause === null));
});

test('sawtooth inside the hysteresis band (42..48 °C): the fans stop once and never flap', () => {
  const steps = runPolicy('sawtooth.csv');
  assert.equal(steps[0]?.fans, 'stopped');
  assert.equal(changes(steps, fans).length, 0, 'never started again: 48 °C is under 45 + 5');
});

test('sawtooth across the band (41..53 °C): stops under 45, starts at 50 or more, and a start is held FAN_DWELL_MS', () => {
  const steps = runPolicy('sawtooth-wide.csv');
  const flips = changes(steps, fans);
  assert.ok(flips.length >= 10, `it does cycle: ${flips.length} transitions`);
  // A plain threshold at 45 °C would flip on every crossing: twice a period, 40 times in 10 minutes.
  assert.ok(flips.length <= 40);
  for (const [i, s] of flips.entries()) {
    const temp = s.row.temp_c ?? NaN;
    if (s.fans === 'stopped') {
      assert.ok(temp < 45, `stopped at ${temp} °C`);
      const start = flips[i - 1];
      if (start !== undefined) assert.ok(s.row.t_ms - start.row.t_ms >= FAN_DWELL_MS, `stopped ${s.row.t_ms - start.row.t_ms} ms after starting`);
    } else {
      assert.ok(temp >= 50, `started at ${temp} °C`);
    }
  }
});

for (const action of ['slow', 'pause', 'cpu'] as const) {
  test(`long hot plateau, hot action "${action}": escalates one rung at a time, holds each DWELL_MS, recovers after cooling`, () => {
    const steps = runPolicy('hot-plateau.csv', { hot_action: action });
    const moves = changes(steps, level);
    const top = action === 'slow' ? 'slower' : action;
    assert.deepEqual(
      moves.map((s) => s.level),
      ['slow', top, 'slow', 'normal'],
    );
    for (const [i, s] of moves.entries()) {
      const prev = moves[i - 1];
      if (prev !== undefined) assert.ok(s.row.t_ms - prev.row.t_ms >= DWELL_MS, `${prev.level} -> ${s.level} after ${s.row.t_ms - prev.row.t_ms} ms`);
      const temp = s.row.temp_c ?? NaN;
      if (i < 2) assert.ok(temp >= 80, `escalated at ${temp} °C`);
      else assert.ok(temp <= 80 - TARGET_HYSTERESIS_C, `recovered at ${temp} °C`);
    }
    const atTop = steps.filter((s) => s.level === top);
    assert.ok(atTop.length > 500, 'the top rung holds through the plateau');
    for (const s of atTop) {
      assert.equal(s.actions.pause !== null, action === 'pause');
      assert.equal(s.actions.cpu_fallback !== null, action === 'cpu');
      assert.equal(s.actions.pacing_ms, PACING_MS[top]);
      if ((s.row.temp_c ?? 0) >= 80) assert.match(s.reason, /above the 80 °C target/);
      else assert.match(s.reason, /cooling/);
    }
    assert.equal(steps.at(-1)?.level, 'normal');
    assert.ok(steps.every((s) => s.actions.power_limit_w === 80), 'the cap is the one set, whatever the heat');
  });
}

test('no oscillation: a temperature wobbling around the target moves the policy once', () => {
  let state = initialPolicyState();
  const seen: string[] = [];
  for (let i = 0; i < 300; i++) {
    // Three seconds at 80.5 °C, one at 79.5 °C, for five minutes.
    const d = stepPolicy(state, { t_ms: i * 1000, temp_c: i % 4 === 3 ? 79.5 : 80.5, other_processes: 0 }, DEFAULT_THERMAL);
    state = d.state;
    if (seen.at(-1) !== d.level) seen.push(d.level);
  }
  assert.deepEqual(seen, ['normal', 'slow'], 'hot long enough for the first rung; never hot for DWELL_MS in a row (no second), never 5 °C under (no recovery)');
  // A reading or two over the target is not enough for even the first rung.
  let quiet = initialPolicyState();
  for (let i = 0; i < 60; i++) quiet = stepPolicy(quiet, { t_ms: i * 1000, temp_c: i % 2 === 0 ? 80.5 : 79.5, other_processes: 0 }, DEFAULT_THERMAL).state;
  assert.equal(quiet.rung, 0);
});

test(`a critical temperature (target + ${CRITICAL_MARGIN_C} °C) goes to the top rung at once`, () => {
  const settings: ThermalSettings = { ...DEFAULT_THERMAL, hot_action: 'pause' };
  let state = initialPolicyState();
  state = stepPolicy(state, { t_ms: 0, temp_c: 60, other_processes: 0 }, settings).state;
  const d = stepPolicy(state, { t_ms: 1000, temp_c: 80 + CRITICAL_MARGIN_C, other_processes: 0 }, settings);
  assert.equal(d.level, 'pause');
  assert.match(d.actions.pause ?? '', /replies paused until the GPU is below 75 °C/);
});

test('a game on the GPU: paced (cap) or paused while it runs, released GAMER_RELEASE_MS after it quits', () => {
  const capped = runPolicy('game.csv', { gamer_mode: 'cap', gamer_pacing_ms: 60, preset: 'custom' });
  const on = capped.filter((s) => s.gamer);
  assert.equal(on[0]?.row.t_ms, 120_000, 'noticed at the first sample with the process');
  assert.equal(on.at(-1)?.row.t_ms, 419_000 + GAMER_RELEASE_MS - 1000, 'released GAMER_RELEASE_MS after the last sighting (419 s)');
  assert.ok(on.every((s) => s.actions.pacing_ms === 60 && s.actions.pause === null));
  assert.match(on[0]?.reason ?? '', /another process is using the GPU/);
  assert.ok(capped.filter((s) => !s.gamer).every((s) => s.actions.pacing_ms === 0));

  const paused = runPolicy('game.csv', { gamer_mode: 'pause', preset: 'custom' });
  assert.ok(paused.filter((s) => s.gamer).every((s) => s.actions.pause !== null));
  assert.ok(paused.filter((s) => !s.gamer).every((s) => s.actions.pause === null));
  assert.ok(runPolicy('game.csv', { gamer_mode: 'off', preset: 'custom' }).every((s) => !s.gamer && s.actions.pacing_ms === 0));
});

test('sensor dropouts: a short one holds; a long one gives the fans back to the driver; missing power changes nothing', () => {
  const steps = runPolicy('dropouts.csv');
  const at = (sec: number) => steps.find((s) => s.row.t_ms === sec * 1000) as Step;
  assert.equal(at(39).fans, 'stopped');
  assert.equal(at(41).fans, 'stopped', 'a 2 s gap holds the last decision');
  // The last reading before the gap is at 99 s.
  const stale = 99 + SENSOR_STALE_MS / 1000;
  assert.equal(at(stale - 1).fans, 'stopped');
  assert.equal(at(stale).fans, 'auto', `no reading for ${SENSOR_STALE_MS} ms: fans back to the driver`);
  assert.match(at(stale).reason, /no temperature reading for 5 s/);
  assert.equal(at(110).fans, 'auto', 'readings are back (109 s), but a start is held FAN_DWELL_MS');
  assert.equal(at(stale + FAN_DWELL_MS / 1000 - 1).fans, 'auto');
  assert.equal(at(stale + FAN_DWELL_MS / 1000).fans, 'stopped');
  assert.deepEqual(changes(steps.filter((s) => s.row.t_ms >= 145_000 && s.row.t_ms <= 160_000), fans), []);
});

test('presets: a named preset uses its own numbers whatever the file says; custom uses the file', () => {
  const edited: ThermalSettings = { ...DEFAULT_THERMAL, preset: 'quiet', power_cap_w: 300, target_c: 95 };
  assert.equal(resolveThermal(edited).power_cap_w, PRESETS.quiet.power_cap_w);
  assert.equal(resolveThermal(edited).target_c, PRESETS.quiet.target_c);
  assert.equal(resolveThermal({ ...edited, preset: 'custom' }).power_cap_w, 300);
  assert.equal(DEFAULT_THERMAL.power_cap_w, 80);
  assert.equal(DEFAULT_THERMAL.fan_stop_below_c, 45);
  assert.equal(DEFAULT_THERMAL.use_driver, false, 'changing the GPU is opt-in');
  // Performance: nothing capped, fans never stopped.
  const perf = runPolicy('warmup.csv', { preset: 'performance' });
  assert.ok(perf.every((s) => s.actions.power_limit_w === null && s.fans === 'auto'));
});
