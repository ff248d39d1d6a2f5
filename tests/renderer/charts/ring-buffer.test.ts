// The ring buffer behind the live charts and the telemetry series on it.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { RingBuffer } from '../../../renderer/charts/ring-buffer';
import { TELEMETRY_CAPACITY, TelemetrySeries } from '../../../renderer/charts/telemetry-series';

test('rows come out oldest first; the oldest is dropped when full; null round-trips', () => {
  const rb = new RingBuffer(3, 2);
  assert.deepEqual(rb.columns(), [[], []]);
  assert.equal(rb.last(0), null);
  rb.push([1, 10]);
  rb.push([2, null]);
  assert.deepEqual(rb.columns(), [
    [1, 2],
    [10, null],
  ]);
  rb.push([3, 30]);
  rb.push([4, 40]);
  rb.push([5, 50]);
  assert.equal(rb.length, 3);
  assert.deepEqual(rb.columns(), [
    [3, 4, 5],
    [30, 40, 50],
  ]);
  assert.equal(rb.last(1), 50);
  rb.clear();
  assert.equal(rb.length, 0);
});

test('a row of the wrong width and a bad shape are refused', () => {
  assert.throws(() => new RingBuffer(0, 1), /capacity must be a positive integer, got 0/);
  assert.throws(() => new RingBuffer(2, 1.5), /width must be a positive integer/);
  assert.throws(() => new RingBuffer(2, 2).push([1]), /a row has 2 values, got 1/);
});

test('the series keeps available samples in time order and tells its subscribers', () => {
  const series = new TelemetrySeries();
  let calls = 0;
  const off = series.subscribe(() => calls++);
  const sample = (t: number, temp: number | null) => ({
    available: true as const,
    t_ms: t,
    gpu: 'g',
    power_w: 10,
    power_limit_w: null,
    temp_c: temp,
    fan_pct: null,
    sm_clock_mhz: null,
    mem_clock_mhz: null,
    mem_used_mb: null,
  });
  assert.equal(series.push({ available: false, t_ms: 1, reason: 'no NVML' }), false);
  assert.equal(series.push(sample(2000, 50)), true);
  assert.equal(series.push(sample(1000, 40)), false, 'older than the last one');
  assert.equal(series.push(sample(3000, null)), true);
  assert.deepEqual(series.data(['temp_c', 'power_limit_w']), [
    [2, 3],
    [50, null],
    [null, null],
  ]);
  assert.equal(calls, 2);
  off();
  for (let i = 0; i < TELEMETRY_CAPACITY + 10; i++) series.push(sample(4000 + i, i));
  assert.equal(calls, 2);
  assert.equal(series.buffer.length, TELEMETRY_CAPACITY);
});
