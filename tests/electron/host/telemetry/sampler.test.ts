// The sampler's schedule under a fake clock (no waiting, no timing flakes):
// 1 Hz idle, 10 Hz while generating, the switch takes effect at once, and the
// ring keeps the newest samples.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { ACTIVE_INTERVAL_MS, type Clock, IDLE_INTERVAL_MS, Sampler } from '../../../../electron/host/telemetry/sampler';

/** Time moves only when the test says; due timers fire in order. */
class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (due === null || e[1].at < due[1].at)) due = e;
      if (due === null) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function rig(capacity = 1000) {
  const clock = new FakeClock();
  const times: number[] = [];
  const sampler = new Sampler((t) => (times.push(t), t), clock, { capacity });
  return { clock, times, sampler };
}

test('1 Hz idle, 10 Hz while generating, 1 Hz again after', () => {
  const { clock, times, sampler } = rig();
  sampler.start();
  clock.advance(10_000);
  assert.equal(times.length, 11, 'a sample at start, then one a second');
  assert.ok(times.every((t, i) => t === i * IDLE_INTERVAL_MS));

  times.length = 0;
  clock.advance(300);
  sampler.setActive(true);
  assert.deepEqual(times, [10_300], 'going active samples at once');
  clock.advance(2_000);
  assert.equal(times.length, 1 + 2_000 / ACTIVE_INTERVAL_MS);
  assert.ok(times.every((t, i) => i === 0 || t - (times[i - 1] as number) === ACTIVE_INTERVAL_MS));

  times.length = 0;
  sampler.setActive(false);
  assert.deepEqual(times, [], 'going idle waits');
  clock.advance(5_000);
  assert.deepEqual(times, [13_300, 14_300, 15_300, 16_300, 17_300], 'a full idle interval after the last sample');
});

test('sampleNow takes one off schedule and the schedule goes on from it; stop stops', () => {
  const { clock, times, sampler } = rig();
  sampler.start();
  clock.advance(400);
  assert.equal(sampler.sampleNow(), 400);
  clock.advance(999);
  assert.deepEqual(times, [0, 400]);
  clock.advance(1);
  assert.deepEqual(times, [0, 400, 1400]);
  sampler.stop();
  assert.equal(clock.pending, 0);
  clock.advance(10_000);
  assert.equal(times.length, 3);
});

test('the ring keeps the newest samples, oldest first', () => {
  const { clock, sampler } = rig(5);
  sampler.start();
  sampler.setActive(true);
  clock.advance(1_000);
  assert.equal(sampler.ring.length, 5);
  assert.deepEqual(sampler.ring.toArray(), [600, 700, 800, 900, 1000]);
  assert.deepEqual(sampler.ring.toArray(2), [900, 1000]);
  assert.equal(sampler.ring.last(), 1000);
});
