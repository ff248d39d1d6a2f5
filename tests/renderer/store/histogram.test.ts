// Histogram bins with nice widths, and percentiles by nearest rank.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { histogram, niceStep, percentiles } from '../../../renderer/store/histogram';

test('niceStep rounds up to 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(0.3), 0.5);
  assert.equal(niceStep(1), 1);
  assert.equal(niceStep(1.2), 2);
  assert.equal(niceStep(3), 5);
  assert.equal(niceStep(7), 10);
  assert.equal(niceStep(120), 200);
  assert.throws(() => niceStep(0), /expected a positive finite number, got 0/);
});

test('every value lands in the bin that covers it, within maxBins', () => {
  const values = [3.2, 4.1, 4.9, 5.0, 12.7, 8.8, 6.1, 3.3];
  const h = histogram(values, 10);
  assert.ok(h !== null);
  assert.ok(h.counts.length <= 10);
  assert.equal(
    h.counts.reduce((a, b) => a + b, 0),
    values.length,
  );
  for (const v of values) {
    const i = Math.floor((v - h.start) / h.width);
    assert.ok(i >= 0 && i < h.counts.length, `${v} outside the bins`);
  }
  assert.ok(h.start <= 3.2 && h.start + h.counts.length * h.width > 12.7);
  assert.equal(h.width, 1);
});

test('one value, equal values, nothing, and junk', () => {
  assert.deepEqual(histogram([30]), { start: 30, width: 0.5, counts: [1] });
  assert.deepEqual(histogram([2, 2, 2])?.counts, [3]);
  assert.equal(histogram([]), null);
  assert.equal(histogram([NaN, -1, Infinity]), null);
  assert.throws(() => histogram([1], 0), /maxBins must be a positive integer/);
});

test('histograms of many random samples stay within maxBins and count everything', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let run = 0; run < 200; run++) {
    const n = 1 + Math.floor(rand() * 50);
    const scale = 10 ** Math.floor(rand() * 6 - 2);
    const values = Array.from({ length: n }, () => rand() * scale + rand() * scale * 3);
    const maxBins = 1 + Math.floor(rand() * 20);
    const h = histogram(values, maxBins);
    assert.ok(h !== null);
    assert.ok(h.counts.length <= maxBins, `${h.counts.length} bins > ${maxBins}`);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      n,
    );
  }
});

test('percentiles by nearest rank', () => {
  assert.deepEqual(percentiles([5, 1, 3, 2, 4, 6, 7, 8, 9, 10]), { median: 5, p90: 9 });
  assert.deepEqual(percentiles([7]), { median: 7, p90: 7 });
  assert.equal(percentiles([]), null);
});
