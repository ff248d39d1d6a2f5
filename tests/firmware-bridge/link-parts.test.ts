// The pieces of the link that hold its rules, each on its own: the retransmission outbox
// (with mocked timers), the duplicate window, the clock offset estimate, the state table and
// the backoff.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffMs } from '../../common/units';
import { canTransition, LINK_STATES, TRANSITIONS } from '../../firmware-bridge/host/link-state';
import { ClockSync } from '../../firmware-bridge/link/clock-sync';
import { Outbox } from '../../firmware-bridge/link/outbox';
import { SeenWindow } from '../../firmware-bridge/link/seen-window';
import type { Message } from '../../firmware-bridge/protocol';

const status = (seq: number): Message => ({ type: 'status', seq, ackRequested: true, retransmit: false, led: 'thinking' });

test('outbox: retransmits with the same seq and the flag, then gives up after maxTries sends', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: Message[] = [];
  const gaveUp: string[] = [];
  const box = new Outbox({ ackTimeoutMs: 100, maxTries: 3, send: (m) => sent.push(m), onGiveUp: (m, why) => gaveUp.push(`${m.seq}:${why}`) });
  box.track(status(7));
  t.mock.timers.tick(99);
  assert.equal(sent.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, [{ ...status(7), retransmit: true }]);
  t.mock.timers.tick(100);
  assert.equal(sent.length, 2);
  t.mock.timers.tick(100);
  assert.equal(sent.length, 2, 'three sends in all: the first and two retransmissions');
  assert.deepEqual(gaveUp, ['7:no-ack']);
  assert.equal(box.size, 0);
  assert.equal(box.retransmits, 2);
  assert.equal(box.givenUp, 1);
});

test('outbox: an ACK stops retransmission; busy waits for the next try; other NACKs are final', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: Message[] = [];
  const acked: number[] = [];
  const gaveUp: string[] = [];
  const box = new Outbox({
    ackTimeoutMs: 100,
    maxTries: 4,
    send: (m) => sent.push(m),
    onAcked: (m) => acked.push(m.seq),
    onGiveUp: (m, why) => gaveUp.push(`${m.seq}:${why}`),
  });
  box.track(status(1));
  box.track(status(2));
  box.track(status(3));
  assert.equal(box.acknowledge(1), true);
  assert.equal(box.acknowledge(1), false, 'a second ACK finds nothing');
  box.reject(2, 'busy');
  box.reject(3, 'bad-payload');
  t.mock.timers.tick(100);
  assert.deepEqual(sent.map((m) => m.seq), [2]);
  assert.deepEqual(acked, [1]);
  assert.deepEqual(gaveUp, ['3:bad-payload']);
  box.clear();
  t.mock.timers.tick(1000);
  assert.equal(sent.length, 1, 'nothing after clear()');
});

test('outbox: cancel drops obsolete frames without giving them up', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: Message[] = [];
  const box = new Outbox({ ackTimeoutMs: 10, maxTries: 4, send: (m) => sent.push(m), onGiveUp: () => assert.fail('no give-up') });
  box.track(status(1));
  box.track({ type: 'key', seq: 2, ackRequested: true, retransmit: false, code: 1, state: 'down', tDeviceUs: 0 });
  box.cancel((m) => m.type === 'status');
  t.mock.timers.tick(10);
  assert.deepEqual(sent.map((m) => m.type), ['key']);
  assert.throws(() => box.track({ ...status(3), ackRequested: false }));
});

test('seen window: only retransmissions of remembered seqs are duplicates', () => {
  const w = new SeenWindow(4);
  const h = (seq: number, retransmit: boolean) => ({ seq, ackRequested: true, retransmit });
  w.remember(10);
  assert.equal(w.isDuplicate(h(10, true)), true);
  assert.equal(w.isDuplicate(h(10, false)), false, 'a fresh frame may reuse a seq after wrapping');
  for (const s of [11, 12, 13, 14]) w.remember(s);
  assert.equal(w.isDuplicate(h(10, true)), false, 'forgotten after the window moved on');
  assert.equal(w.isDuplicate(h(14, true)), true);
  w.clear();
  assert.equal(w.isDuplicate(h(14, true)), false);
});

test('clock sync: maps device time to host time within half the best round trip, across wraps', () => {
  const U32 = 2 ** 32;
  for (const offset of [0, 123_456_789, U32 - 5, 2 ** 31 + 17]) {
    const clock = new ClockSync();
    assert.equal(clock.deviceToHostUs(0, 0), undefined);
    let hostUs = 4_294_000_000; // the host clock crosses 2^32 during the test too
    const device = (h: number): number => (h + offset) % U32;
    for (const rtt of [900, 300, 5000]) {
      const token = ClockSync.token(hostUs);
      const answeredAt = hostUs + rtt / 3; // not at the midpoint: the estimate is off by < rtt/2
      hostUs += rtt;
      clock.addSample(token, device(answeredAt), hostUs);
    }
    assert.equal(clock.rttUs, 300);
    hostUs += 1_000_000;
    const edge = hostUs - 2500; // a key went down 2.5 ms ago
    const mapped = clock.deviceToHostUs(Math.floor(device(edge)), hostUs);
    assert.ok(mapped !== undefined && Math.abs(mapped - edge) <= 151, `offset ${offset}: ${mapped} vs ${edge}`);
  }
});

test('clock sync: a PONG with a token from the future is ignored', () => {
  const clock = new ClockSync();
  clock.addSample(1000, 5, 500);
  assert.equal(clock.synced, false);
});

test('state table: stop from anywhere, no dead ends, reconnect only through disconnected', () => {
  for (const s of LINK_STATES) {
    if (s !== 'stopped') assert.ok(canTransition(s, 'stopped'), `${s} -> stopped`);
    assert.ok(TRANSITIONS[s].length > 0, `${s} has a way out`);
    for (const to of TRANSITIONS[s]) assert.ok(LINK_STATES.includes(to));
  }
  assert.deepEqual(TRANSITIONS.disconnected, ['searching', 'stopped']);
  assert.ok(!canTransition('stopped', 'connected'));
  assert.ok(!canTransition('searching', 'connected'), 'no connection without a handshake');
  assert.ok(!canTransition('opening', 'connected'));
  // every state is reachable from stopped
  const seen = new Set<keyof typeof TRANSITIONS>(['stopped']);
  const todo: (keyof typeof TRANSITIONS)[] = ['stopped'];
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    for (const to of TRANSITIONS[s]) {
      if (!seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
    }
  }
  assert.equal(seen.size, LINK_STATES.length);
});

test('backoff doubles from the first delay up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, 100, 5000)), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal(backoffMs(0, 100, 5000), 100);
});
