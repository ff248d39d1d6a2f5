// The host link's behaviour against a simulated keyboard on an in-memory cable: handshake,
// events, ACKs and duplicates, LED resend, replies in order, heartbeat timeout, reconnect
// with backoff, write errors and protocol violations. The same link over real
// pseudo-terminals is in link-pty.test.ts.
import * as assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';

import { KeyboardLink } from '../../firmware-bridge/host/keyboard-link';
import type { KeyEvent } from '../../firmware-bridge/host/events';
import type { LinkStatus } from '../../firmware-bridge/host/link-state';
import { cobsEncode, crc16, encodeFrame, type Message } from '../../firmware-bridge/protocol';
import { FAST, MemoryKeyboard, reach, sleep, waitFor } from './helpers';

/** A well-formed v1 frame of type 0x0B (unknown to v1), ACK requested: what a newer host might send. */
function unknownType(seq: number): Uint8Array {
  const head = Uint8Array.of(1, 0x0b, seq & 0xff, seq >> 8, 0x01);
  const crc = crc16(head);
  return Uint8Array.from([...cobsEncode(Uint8Array.from([...head, crc & 0xff, crc >> 8])), 0]);
}

function setup(
  t: TestContext,
  kb = new MemoryKeyboard(),
): { kb: MemoryKeyboard; link: KeyboardLink; keys: KeyEvent[]; states: LinkStatus[] } {
  const link = new KeyboardLink({ port: '/dev/memory', openPort: kb.open, timing: FAST });
  t.after(() => link.stop()); // a failed test must not leave a link reconnecting forever
  const keys: KeyEvent[] = [];
  const states: LinkStatus[] = [];
  link.on('key', (e) => keys.push(e));
  link.on('status', (s) => states.push(s));
  return { kb, link, keys, states };
}

test('handshake, then a key press arrives once with both clocks and a latency', async (t) => {
  const { kb, link, keys, states } = setup(t);
  link.start();
  const connected = await reach(link, 'connected');
  assert.deepEqual(
    states.map((s) => s.state),
    ['searching', 'opening', 'handshaking', 'connected'],
  );
  assert.equal(connected.device?.deviceId, 'KM-SIM-0001');
  assert.equal(connected.device?.capabilities.led, true);
  assert.equal(kb.received[0]?.type, 'hello');
  await waitFor('a clock sample', () => kb.received.some((m) => m.type === 'ping'));
  await sleep(20);
  assert.equal(kb.session?.key(1, true), 'sent');
  await waitFor('the key event', () => keys.length === 1);
  const e = keys[0];
  assert.ok(e);
  assert.equal(e.state, 'down');
  assert.equal(e.code, 1);
  assert.ok(e.latencyMs !== undefined && e.latencyMs >= 0 && e.latencyMs < 1000, `latency ${e.latencyMs}`);
  assert.ok(Math.abs(e.tHostMs - Date.now()) < 1000);
  await waitFor('the ACK', () => kb.received.some((m) => m.type === 'ack' && m.ackSeq === e.seq));
  await link.stop();
  assert.equal(link.status.state, 'stopped');
});

test('a lost ACK: the keyboard retransmits, the host delivers once and ACKs again', async (t) => {
  let lose = 2;
  const kb = new MemoryKeyboard({ accept: (m: Message) => !(m.type === 'ack' && lose-- > 0) });
  const { link, keys } = setup(t, kb);
  link.start();
  await reach(link, 'connected');
  kb.session?.key(1, true);
  await waitFor('two retransmissions answered', () => link.stats.duplicates === 2);
  await sleep(100);
  assert.equal(keys.length, 1);
  assert.equal(kb.session?.retransmits, 2);
  await link.stop();
});

test('the LED state is sent on connect, after a reconnect, and a newer one replaces an unacknowledged older one', async (t) => {
  const { kb, link } = setup(t);
  link.setLed('listening');
  link.start();
  await reach(link, 'connected');
  await waitFor('listening', () => kb.statuses.includes('listening'));
  kb.unplug();
  const gone = await reach(link, 'disconnected');
  assert.match(gone.reason ?? '', /lost the keyboard at \/dev\/memory \(device disconnected\)/);
  link.setLed('thinking'); // while disconnected: kept for later
  const before = kb.statuses.length;
  kb.plugged = true;
  await reach(link, 'connected');
  await waitFor('thinking after replug', () => kb.statuses.at(-1) === 'thinking');
  await sleep(100);
  assert.deepEqual(kb.statuses.slice(before), ['thinking'], 'the new session sees only the current state');
  link.setLed('replying');
  link.setLed('error');
  await waitFor('error', () => kb.statuses.at(-1) === 'error');
  assert.ok(!kb.statuses.slice(before).includes('listening'));
  await link.stop();
});

test('replies arrive in order, one chunk at a time, however long', async (t) => {
  const { kb, link } = setup(t);
  link.start();
  await reach(link, 'connected');
  const text = 'Keymate ✓ 🎹 '.repeat(60); // ~1 KB of mixed-width characters
  assert.equal(link.sendReply(text), true);
  await waitFor('the whole reply', () => kb.display === text, 5000);
  const chunks = kb.received.filter((m) => m.type === 'reply');
  assert.ok(chunks.length >= 5);
  const flags = chunks.map((m) => (m.type === 'reply' ? `${m.first ? 'F' : '-'}${m.last ? 'L' : '-'}` : '?'));
  assert.deepEqual(flags, ['F-', ...Array<string>(chunks.length - 2).fill('--'), '-L']);
  assert.equal(new Set(chunks.map((m) => (m.type === 'reply' ? m.replyId : -1))).size, 1, 'one reply id');
  await link.stop();
  assert.equal(link.sendReply('nobody listens'), false);
});

test('a streamed reply is one reply id: the first chunk clears, updates carry only new text, a dropped chunk stops it', async (t) => {
  const { kb, link } = setup(t);
  link.start();
  await reach(link, 'connected');
  kb.display = 'the previous reply';
  const stream = link.openReply();
  assert.ok(stream !== null);
  const parts = ['Once upon a time ', 'there was a keyboard ', 'that could talk. ✓'];
  for (const p of parts.slice(0, -1)) assert.equal(stream.append(p), true);
  assert.equal(stream.end(parts.at(-1)), true);
  const whole = parts.join('');
  await waitFor('the streamed reply', () => kb.display === whole, 5000);
  const chunks = kb.received.flatMap((m) => (m.type === 'reply' ? [m] : []));
  assert.deepEqual(
    chunks.map((m) => m.text),
    parts,
    'each update sends its own text, never the text before it',
  );
  assert.deepEqual(
    chunks.map((m) => `${m.first ? 'F' : '-'}${m.last ? 'L' : '-'}`),
    ['F-', '--', '-L'],
  );
  assert.equal(new Set(chunks.map((m) => m.replyId)).size, 1, 'one reply id');
  assert.equal(stream.append('after the end'), false, 'an ended stream takes no more text');

  // The next stream is a new reply: its first chunk clears what this one showed.
  const next = link.openReply();
  assert.ok(next !== null);
  next.end('Hello.');
  await waitFor('the next reply', () => kb.display === 'Hello.', 5000);
  await link.stop();
  assert.equal(next.append('nobody listens'), false, 'a stream of a closed session stops');
  assert.equal(link.openReply(), null);
});

test('a hung keyboard is noticed by the heartbeat; the link keeps trying and recovers', async (t) => {
  let hung = false;
  const kb = new MemoryKeyboard({ accept: () => !hung });
  const { link } = setup(t, kb);
  link.start();
  await reach(link, 'connected');
  hung = true;
  const down = await reach(link, 'disconnected');
  assert.match(down.reason ?? '', /no answer from the keyboard for \d+ ms/);
  const refused = await reach(link, 'disconnected');
  assert.ok(refused.attempt >= 1);
  hung = false;
  await reach(link, 'connected');
  await link.stop();
});

test('a port that never answers HELLO is given up after the handshake tries', async (t) => {
  const kb = new MemoryKeyboard({ accept: () => false });
  const { link } = setup(t, kb);
  link.start();
  const s = await reach(link, 'disconnected');
  assert.match(s.reason ?? '', /no HELLO from \/dev\/memory after 3 tries: is a Keymate keyboard on it\?/);
  assert.equal(kb.received.filter((m) => m.type === 'hello').length, 3);
  await link.stop();
});

test('an absent port: disconnected with the reason, retried with growing delays, then connected', async (t) => {
  const kb = new MemoryKeyboard();
  kb.plugged = false;
  const { link, states } = setup(t, kb);
  link.start();
  await waitFor('three failed attempts', () => states.filter((s) => s.state === 'disconnected').length >= 3);
  const delays = states.filter((s) => s.state === 'disconnected').map((s) => s.retryInMs);
  assert.deepEqual(delays.slice(0, 3), [10, 20, 40]);
  assert.match(states.find((s) => s.state === 'disconnected')?.reason ?? '', /cannot open \/dev\/memory: No such file/);
  kb.plugged = true;
  const up = await reach(link, 'connected');
  assert.equal(up.attempt, 0);
  await link.stop();
});

test('a write error ends the session and the link reconnects', async (t) => {
  const { kb, link } = setup(t);
  link.start();
  await reach(link, 'connected');
  kb.failWrites = true;
  const s = await reach(link, 'disconnected'); // the next PING fails
  assert.match(s.reason ?? '', /cannot write to the keyboard: Input\/output error/);
  kb.failWrites = false;
  await reach(link, 'connected');
  assert.equal(link.stats.disconnects, 1);
  assert.equal(link.stats.connects, 2);
  await link.stop();
});

test('a keyboard HELLO in the middle of a session starts a new handshake', async (t) => {
  const { kb, link, states } = setup(t);
  link.start();
  await reach(link, 'connected');
  kb.inject(encodeFrame({ type: 'hello', seq: 999, ackRequested: false, retransmit: false, protocol: 1, firmware: '1.0.0', capabilities: 31, deviceId: 'KM-SIM-0001' }));
  await waitFor('a second connected', () => states.filter((s) => s.state === 'connected').length === 2);
  assert.deepEqual(states.slice(-2).map((s) => s.state), ['handshaking', 'connected']);
  await link.stop();
});

test('events before the handshake, frames of unknown type and wrong direction are refused with NACKs', async (t) => {
  const { kb, link, keys } = setup(t);
  // an event arriving before the host's HELLO was answered
  const early = encodeFrame({ type: 'key', seq: 40, ackRequested: true, retransmit: false, code: 1, state: 'down', tDeviceUs: 0 });
  link.start();
  await reach(link, 'handshaking');
  kb.inject(early);
  await reach(link, 'connected');
  // a STATUS from the keyboard (it only goes the other way) and a frame of type 0x0B
  kb.inject(encodeFrame({ type: 'status', seq: 41, ackRequested: true, retransmit: false, led: 'idle' }));
  kb.inject(unknownType(42));
  await waitFor('three NACKs', () => kb.received.filter((m) => m.type === 'nack').length === 3, 3000);
  const nacks = kb.received.filter((m) => m.type === 'nack');
  assert.deepEqual(
    nacks.map((m) => (m.type === 'nack' ? `${m.ackSeq}:${m.reason}` : '')),
    ['40:not-ready', '41:unsupported-type', '42:unsupported-type'],
  );
  assert.equal(keys.length, 0);
  assert.equal(link.stats.reader.errors.type, 1);
  await link.stop();
});

test('stop() in the middle of connecting leaves nothing running', async (t) => {
  const kb = new MemoryKeyboard({ accept: () => false });
  const { link, states } = setup(t, kb);
  link.start();
  await reach(link, 'handshaking');
  await link.stop();
  const n = states.length;
  await sleep(300);
  assert.equal(states.length, n, 'no status after stop');
  assert.equal(link.status.state, 'stopped');
  link.start(); // and it starts again
  await reach(link, 'handshaking');
  await link.stop();
});
