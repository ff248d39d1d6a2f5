// The performance slice: records newest first, one per press, capped; the
// bench runs once at a time and keeps its failure in words.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { BenchSummary } from '../../../common/contract';
import { MAX_RECORDS, lastRecord } from '../../../renderer/store/performance-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, record } from '../fake-host';

const bench: BenchSummary = {
  backend: 'cpu',
  device: 'x86-64 AVX2, 2 threads',
  prompt_tokens: 128,
  gen_tokens: 32,
  ttft_ms: { min: 3, median: 3.5, p90: 4 },
  prefill_tok_s: 9000,
  decode_tok_s: 800,
  decode_ms_per_token: 1.25,
  stages_ms: { qkv: 0.2, attention: 0.3, ffn: 0.5, logits: 0.2, sampling: 0.05 },
  bound_ms: 0.1,
  bandwidth_gb_s: 12,
};

test('records are kept newest first, one per press, and capped', () => {
  const store = createUiStore(new FakeHost());
  const s = store.getState;
  s().setRecords([record('a', 1), record('c', 3), record('b', 2)]);
  assert.deepEqual(s().records.map((r) => r.press_id), ['c', 'b', 'a']);
  s().addRecord(record('d', 4, { ttft_ms: 9 }));
  s().addRecord(record('d', 4, { ttft_ms: 8 }));
  assert.deepEqual(s().records.map((r) => r.press_id), ['d', 'c', 'b', 'a']);
  assert.equal(lastRecord(s())?.timings.ttft_ms, 8);
  s().setRecords(Array.from({ length: MAX_RECORDS + 20 }, (_, i) => record(`p${i}`, i)));
  assert.equal(s().records.length, MAX_RECORDS);
  assert.equal(s().records[0]?.press_id, `p${MAX_RECORDS + 19}`);
});

test('runBench keeps the summary; a second call while running sends nothing more', async () => {
  let release: (b: BenchSummary) => void = () => undefined;
  const h = new FakeHost().handle('performance.bench', () => new Promise<BenchSummary>((r) => (release = r)));
  const store = createUiStore(h);
  const first = store.getState().runBench();
  assert.equal(store.getState().benchState.running, true);
  await store.getState().runBench();
  release(bench);
  await first;
  assert.deepEqual(h.names(), ['performance.bench']);
  assert.deepEqual(store.getState().bench, bench);
  assert.deepEqual(store.getState().benchState, { running: false, error: null });
});

test('a failed bench says why and keeps the last summary', async () => {
  const store = createUiStore(
    new FakeHost().handle('performance.bench', () => {
      throw new Error('bench: no model loaded');
    }),
  );
  store.getState().setBench(bench);
  await store.getState().runBench();
  assert.deepEqual(store.getState().benchState, { running: false, error: 'bench: no model loaded' });
  assert.deepEqual(store.getState().bench, bench);
});
