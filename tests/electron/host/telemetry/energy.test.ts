// Energy per reply: the driver's energy counter when readings of it bracket
// the reply, else power integrated over the samples (trapezoids, clipped and
// interpolated at the edges), gaps standing in at the covered mean; J/token.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { type PowerPoint, energyBetween, joulesPerToken } from '../../../../electron/host/telemetry/energy';

const close = (a: number | undefined, b: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test('constant power over a span: P x t, whatever the sample grid', () => {
  const points: PowerPoint[] = [0, 100, 200, 300, 400].map((t) => ({ t_ms: t, power_w: 50, energy_mj: null }));
  const e = energyBetween(points, 50, 350);
  close(e?.joules, 50 * 0.3, 'joules');
  assert.equal(e?.source, 'power');
  assert.equal(e?.coverage, 1);
});

test('a ramp is integrated as trapezoids, interpolated at the edges', () => {
  // 0 W at 0 ms to 100 W at 1000 ms: from 250 to 750 ms the mean is 50 W.
  const points: PowerPoint[] = [
    { t_ms: 0, power_w: 0, energy_mj: null },
    { t_ms: 1000, power_w: 100, energy_mj: null },
  ];
  close(energyBetween(points, 250, 750)?.joules, 50 * 0.5, 'joules');
});

test('the energy counter wins when it brackets the span; a counter that did not move does not', () => {
  const points: PowerPoint[] = [
    { t_ms: 0, power_w: 40, energy_mj: 1_000_000 },
    { t_ms: 100, power_w: 40, energy_mj: 1_004_100 },
    { t_ms: 200, power_w: 40, energy_mj: 1_008_200 },
  ];
  const e = energyBetween(points, 0, 200);
  assert.equal(e?.source, 'counter');
  close(e?.joules, 8.2, 'joules from the counter');
  const flat = points.map((p) => ({ ...p, energy_mj: 5 }));
  assert.equal(energyBetween(flat, 0, 200)?.source, 'power');
  close(energyBetween(flat, 0, 200)?.joules, 8, 'integrated instead');
  // Counter readings too far outside the span do not bracket it.
  assert.equal(energyBetween(points, 60, 140)?.source, 'power');
});

test('a gap in the power readings: the covered mean stands for it, and coverage says how much was seen', () => {
  const points: PowerPoint[] = [
    { t_ms: 0, power_w: 30, energy_mj: null },
    { t_ms: 100, power_w: 30, energy_mj: null },
    { t_ms: 200, power_w: null, energy_mj: null },
    { t_ms: 300, power_w: 30, energy_mj: null },
    { t_ms: 400, power_w: 30, energy_mj: null },
  ];
  const e = energyBetween(points, 0, 400);
  close(e?.joules, 30 * 0.4, 'joules');
  close(e?.coverage, 0.5, 'coverage');
  assert.equal(energyBetween(points.map((p) => ({ ...p, power_w: null })), 0, 400), null, 'no power at all: unknown, not zero');
});

test('joules per token', () => {
  assert.equal(joulesPerToken({ joules: 12, source: 'power', coverage: 1 }, 48), 0.25);
  assert.equal(joulesPerToken({ joules: 12, source: 'power', coverage: 1 }, 0), null);
  assert.equal(joulesPerToken(null, 10), null);
});
