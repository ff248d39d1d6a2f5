// Wiring the host into the store: each event reaches its slice (and the
// telemetry series), the state snapshot fills every slice, and what cannot be
// loaded is said, not swallowed.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_SETTINGS } from '../../../common/contract';
import { TelemetrySeries } from '../../../renderer/charts/telemetry-series';
import { loadHostState, subscribeHostEvents } from '../../../renderer/store/connect';
import { START_FRAME_MS } from '../../../renderer/store/held-start';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, apiStatus, appState, deviceStatus, record, remoteStatus, timings } from '../fake-host';

const gpu = (t: number, power: number) => ({
  available: true as const,
  t_ms: t,
  gpu: 'RTX 4060 Laptop',
  power_w: power,
  power_limit_w: 80,
  temp_c: 55,
  fan_pct: null,
  sm_clock_mhz: 2100,
  mem_clock_mhz: 8000,
  mem_used_mb: 3000,
});

test('host events reach their slices; unsubscribing removes every listener', () => {
  const host = new FakeHost();
  const store = createUiStore(host);
  const series = new TelemetrySeries();
  const off = subscribeHostEvents(host, store, series);
  const s = store.getState;

  host.emit('session', { state: 'replying', press_id: 'p1', typed: '', message: null });
  host.emit('key', { down: true, source: 'keyboard', t_ms: 1 });
  host.emit('reply.start', { press_id: 'p1', source: 'keyboard', prompt: 'hi', t_ms: 1 });
  host.emit('reply.token', { press_id: 'p1', index: 0, text: 'Hello', t_ms: 3 });
  host.emit('reply.done', { press_id: 'p1', completion: 'Hello', thinking: '', stop: 'eos', timings: timings() });
  host.emit('device', deviceStatus({ state: 'disconnected', connected: false, device: null }));
  host.emit('settings', { ...DEFAULT_SETTINGS, persona: 'x' });
  host.emit('performance', record('p1', 5));
  host.emit('telemetry', gpu(1000, 30));
  host.emit('telemetry', gpu(2000, 40));
  host.emit('notice', { id: 1, t_ms: 1, level: 'error', code: 'history-corrupt', message: 'history was corrupt' });
  host.emit('engine', { state: 'loading', model: null, backend: null, message: 'loading x' });
  host.emit('remote', remoteStatus({ state: 'checking', url: 'http://gpu-box:8000/v1' }));
  host.emit('api', apiStatus({ state: 'listening', api_base: 'http://127.0.0.1:11435/v1' }));

  assert.equal(s().session.state, 'replying');
  assert.equal(s().key.down, true);
  assert.equal(s().reply?.text, 'Hello');
  assert.equal(s().reply?.done, true);
  assert.equal(s().device?.state, 'disconnected');
  assert.equal(s().settings?.persona, 'x');
  assert.equal(s().records[0]?.press_id, 'p1');
  assert.equal(s().telemetry?.t_ms, 2000);
  assert.deepEqual(series.data(['power_w']), [[1, 2], [30, 40]]);
  assert.equal(s().notices[0]?.message, 'history was corrupt');
  assert.equal(s().engine?.state, 'loading');
  assert.equal(s().remote?.state, 'checking');
  assert.equal(s().api?.api_base, 'http://127.0.0.1:11435/v1');

  assert.ok(host.listenerCount() >= 15);
  off();
  assert.equal(host.listenerCount(), 0);
});

test("a reply's start reaches the store with its first visible token, or a frame later; a snapshot's reply is not started again", async () => {
  const host = new FakeHost();
  const store = createUiStore(host);
  const off = subscribeHostEvents(host, store, new TelemetrySeries());
  const s = store.getState;

  host.emit('reply.start', { press_id: 'p1', source: 'keyboard', prompt: 'hi', t_ms: 1 });
  assert.equal(s().reply, null, 'held: drawn alone it would cost the first token a frame');
  host.emit('reply.token', { press_id: 'p1', index: 0, text: ' ', t_ms: 2 });
  assert.equal(s().reply, null, 'a space shows nothing: still held');
  host.emit('reply.token', { press_id: 'p1', index: 1, text: 'Hello', t_ms: 3 });
  assert.equal(s().reply?.pressId, 'p1');
  assert.equal(s().reply?.text, ' Hello');

  host.emit('reply.start', { press_id: 'p2', source: 'keyboard', prompt: 'slow', t_ms: 5 });
  assert.equal(s().reply?.pressId, 'p1');
  await new Promise((resolve) => setTimeout(resolve, START_FRAME_MS * 3));
  assert.equal(s().reply?.pressId, 'p2', 'a long prefill shows its start after a frame');
  assert.equal(s().reply?.text, '');

  host.emit('reply.start', { press_id: 'p3', source: 'keyboard', prompt: 'x', t_ms: 6 });
  host.emit('reply.error', { press_id: 'p3', message: 'engine: out of memory' });
  assert.equal(s().reply?.error, 'engine: out of memory', 'an error is never lost behind its held start');

  // A reconnect's snapshot already holds p4's text: its held start must not empty it.
  host.emit('reply.start', { press_id: 'p4', source: 'keyboard', prompt: 'y', t_ms: 7 });
  s().replySnapshot({ press_id: 'p4', source: 'keyboard', prompt: 'y', text: 'Once', thinking: '', done: false, stop: null, timings: null, error: null });
  host.emit('reply.token', { press_id: 'p4', index: 1, text: ' upon', t_ms: 8 });
  assert.equal(s().reply?.text, 'Once upon');
  off();
});

test('loadHostState fills every slice from the snapshot and the lists', async () => {
  const host = new FakeHost()
    .handle('state.get', () =>
      appState({
        version: '9.9.9',
        reply: { press_id: 'p7', source: 'gpio', prompt: 'q', text: 'part', thinking: 'hmm', done: false, stop: null, timings: null, error: null },
        notices: [{ id: 0, t_ms: 1, level: 'warning', code: 'settings-corrupt', message: 'kept aside' }],
        remote: remoteStatus({ state: 'ready', url: 'http://gpu-box:8000/v1', model: 'qwen3-32b', models: ['qwen3-32b'], key: 'saved' }),
        api: apiStatus({ state: 'error', message: 'port 11435 is taken by another program' }),
      }),
    )
    .handle('performance.list', () => ({ records: [record('p1', 1), record('p2', 2)] }))
    .handle('history.list', () => ({ entries: [] }))
    .handle('telemetry.recent', () => ({ samples: [gpu(1000, 20), gpu(2000, 25)] }))
    .handle('models.list', () => ({ models: [], downloads: [] }));
  const store = createUiStore(host);
  const series = new TelemetrySeries();
  await loadHostState(host, store, series);
  const s = store.getState();
  assert.equal(s.connection.version, '9.9.9');
  assert.equal(s.reply?.text, 'part');
  assert.equal(s.reply?.thinking, 'hmm', 'a window that joins late gets the thinking so far too');
  assert.equal(s.device?.state, 'connected');
  assert.deepEqual(s.records.map((r) => r.press_id), ['p2', 'p1']);
  assert.equal(series.buffer.length, 2);
  assert.equal(s.notices[0]?.message, 'kept aside');
  assert.equal(s.telemetry?.available, false);
  assert.equal(s.remote?.model, 'qwen3-32b');
  assert.equal(s.api?.message, 'port 11435 is taken by another program');
  assert.deepEqual(host.sent.find((r) => r.name === 'performance.list')?.payload, { limit: 200 });
});

test('loadHostState rejects without the state, and warns (not fails) without the lists', async () => {
  await assert.rejects(loadHostState(new FakeHost(), createUiStore(new FakeHost()), new TelemetrySeries()), /no handler for 'state.get'/);

  const host = new FakeHost().handle('state.get', () => appState());
  const store = createUiStore(host);
  await loadHostState(host, store, new TelemetrySeries());
  assert.equal(store.getState().device?.state, 'connected');
  const messages = store.getState().notices.map((n) => n.message);
  assert.ok(messages.some((m) => /Could not load everything from the host: fake host: no handler for 'performance.list'/.test(m)), messages.join('\n'));
});
