// Acceptance tests over real pseudo-terminals: the simulated keyboard on a pty, the host link
// opening it through serialport exactly as it opens a USB port.
//   - a press becomes a host event;
//   - unplug -> the host shows disconnected -> replug -> events flow again, LED state resent;
//   - 10,000 random bytes mixed into the stream crash nothing, every valid frame around them
//     arrives, and the host's malformed-frame counter matches the noise exactly;
//   - a keyboard that hangs is dropped by the heartbeat and picked up again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';

import type { KeyEvent } from '../../firmware-bridge/host/events';
import { KeyboardLink } from '../../firmware-bridge/host/keyboard-link';
import { decodeFrame, type Message } from '../../firmware-bridge/protocol';
import { SimulatedKeyboard } from '../../firmware-bridge/sim/simulator';
import { tempDir } from '../support/repo';
import { reach, sleep, waitFor } from './helpers';

// Loose enough for a loaded CI machine, tight enough to keep the suite short.
const TIMING = {
  handshakeTimeoutMs: 300,
  handshakeTries: 4,
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 1000,
  ackTimeoutMs: 150,
  maxTries: 4,
  backoffInitialMs: 20,
  backoffMaxMs: 200,
};

interface Rig {
  sim: SimulatedKeyboard;
  link: KeyboardLink;
  keys: KeyEvent[];
  fromHost: Message[];
  linkPath: string;
}

async function rig(t: TestContext): Promise<Rig> {
  const linkPath = path.join(tempDir('keymate-pty-'), 'keyboard');
  const fromHost: Message[] = [];
  // A long ACK timeout on the keyboard: a retransmission then means a lost frame, not a slow host.
  const sim = new SimulatedKeyboard({ link: linkPath, onHostMessage: (m) => fromHost.push(m), hostTimeoutMs: 3000, ackTimeoutMs: 1000 });
  await sim.plug();
  const link = new KeyboardLink({ port: linkPath, timing: TIMING });
  const keys: KeyEvent[] = [];
  link.on('key', (e) => keys.push(e));
  t.after(async () => {
    await link.stop();
    await sim.close();
  });
  return { sim, link, keys, fromHost, linkPath };
}

test('pty: a key press on the keyboard becomes a host event', async (t) => {
  const { sim, link, keys, linkPath } = await rig(t);
  assert.ok(fs.lstatSync(linkPath).isSymbolicLink());
  assert.match(fs.readlinkSync(linkPath), /^\/dev\/pts\/\d+$/);
  link.start();
  const s = await reach(link, 'connected');
  assert.equal(s.device?.deviceId, 'KM-SIM-0001');
  await waitFor('the keyboard to see the host', () => sim.hostPresent);
  assert.equal(sim.press(), 'sent');
  assert.equal(sim.release(), 'sent');
  await waitFor('down and up', () => keys.length === 2);
  assert.deepEqual(
    keys.map((k) => [k.code, k.state]),
    [
      [1, 'down'],
      [1, 'up'],
    ],
  );
  assert.ok((keys[1]?.tDeviceUs ?? 0) !== (keys[0]?.tDeviceUs ?? 0));
  assert.equal(link.stats.reader.malformed, 0);
});

test('pty: unplug shows disconnected, replug brings events back and the LED state is resent', async (t) => {
  const { sim, link, keys, fromHost, linkPath } = await rig(t);
  link.setLed('thinking');
  link.start();
  await reach(link, 'connected');
  await waitFor('the LED state', () => sim.led === 'thinking');

  await sim.unplug();
  assert.equal(fs.existsSync(linkPath), false, 'the port is gone');
  const down = await reach(link, 'disconnected');
  assert.match(down.reason ?? '', /lost the keyboard|cannot (open|write)/);
  await waitFor('a failed reopen', () => link.status.attempt >= 2);
  assert.equal(sim.press(), 'unplugged');

  sim.led = 'idle'; // the replugged keyboard starts dark, as after a power cycle
  const statusesBefore = fromHost.filter((m) => m.type === 'status').length;
  await sim.plug();
  await reach(link, 'connected');
  await waitFor('the LED state resent', () => sim.led === 'thinking');
  assert.equal(fromHost.filter((m) => m.type === 'status').length, statusesBefore + 1);
  await waitFor('the keyboard to see the host', () => sim.hostPresent);
  sim.press();
  await waitFor('the press after replug', () => keys.length === 1);
  assert.equal(keys[0]?.state, 'down');
  assert.equal(link.stats.disconnects, 1);
});

/** xorshift32: the noise is the same on every run, so its expected error count is exact. */
function noise(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The frames a receiver sees in bytes ending in 0x00: the non-empty runs between zeros. */
function segments(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    if (i > start) out.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return out;
}

test('pty: 10,000 random bytes mixed into the stream: no crash, every frame arrives, errors counted exactly', async (t) => {
  const { sim, link, keys } = await rig(t);
  const malformedEvents: string[] = [];
  link.on('malformed', (e) => malformedEvents.push(e));
  link.start();
  await reach(link, 'connected');
  await waitFor('the keyboard to see the host', () => sim.hostPresent);

  let expectedErrors = 0;
  let sentNoise = 0;
  const presses = 20;
  for (let i = 0; i < presses; i++) {
    sim.press();
    const block = noise(0x9e3779b9 + i, 500); // 20 x 500 = 10,000 bytes
    const written = sim.garbage(block.length, block);
    assert.ok(written);
    sentNoise += block.length;
    for (const seg of segments(written)) {
      // With this seed no run of noise is a valid frame; were one to be, it would not be an error.
      assert.equal(decodeFrame(seg).ok, false);
      expectedErrors++;
    }
    sim.release();
  }
  assert.equal(sentNoise, 10_000);
  await waitFor('every press and release', () => keys.length === 2 * presses, 10_000);
  await sleep(200);
  assert.equal(keys.length, 2 * presses, 'nothing more, nothing less');
  assert.deepEqual(
    keys.map((k) => k.state),
    Array.from({ length: 2 * presses }, (_, i) => (i % 2 === 0 ? 'down' : 'up')),
  );
  const seqs = keys.map((k) => k.seq);
  assert.equal(new Set(seqs).size, seqs.length, 'each event once');
  assert.equal(link.stats.reader.malformed, expectedErrors);
  assert.equal(malformedEvents.length, expectedErrors);
  assert.equal(link.status.state, 'connected', 'the noise did not cost the session');
  assert.equal(sim.retransmits, 0, 'no frame was lost to the noise');
});

test('pty: a hung keyboard is dropped by the heartbeat and picked up again when it answers', async (t) => {
  const { sim, link, keys } = await rig(t);
  link.start();
  await reach(link, 'connected');
  sim.hung = true;
  const s = await reach(link, 'disconnected');
  assert.match(s.reason ?? '', /no answer from the keyboard for \d+ ms/);
  sim.hung = false;
  await reach(link, 'connected');
  await waitFor('the keyboard to see the host', () => sim.hostPresent);
  sim.press();
  await waitFor('a press', () => keys.length === 1);
});

test('pty: a second host cannot take a keyboard that is in use', async (t) => {
  const { link, linkPath } = await rig(t);
  link.start();
  await reach(link, 'connected');
  const other = new KeyboardLink({ port: linkPath, timing: TIMING });
  t.after(() => other.stop());
  other.start();
  const s = await reach(other, 'disconnected');
  assert.match(s.reason ?? '', /cannot open .*(lock|Resource temporarily unavailable)/i);
  assert.equal(link.status.state, 'connected');
});
