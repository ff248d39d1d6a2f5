// The host with a keyboard: the simulator on a real pseudo-terminal, the
// host's KeyboardLink on its path. Text typed while the AI key is held is the
// prompt, the LED follows the session, the reply reaches the display, a GPIO
// edge is a trigger, garbage on the line is counted, and unplug / replug show
// as device events (a press held through an unplug is dropped).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';

import { SimulatedKeyboard } from '../../../firmware-bridge/sim/simulator';
import type { Message } from '../../../firmware-bridge/protocol';
import { tempDir } from '../../support/repo';
import { startHost } from './support';

// Loose enough for a loaded machine, quick enough to keep the test short.
const TIMING = { handshakeTimeoutMs: 300, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1500, ackTimeoutMs: 200, backoffInitialMs: 20, backoffMaxMs: 200 };

test('key, text, LED, display, GPIO, frame errors, unplug and replug', { timeout: 60_000 }, async (t) => {
  const link = path.join(tempDir('keymate-kbd-'), 'keyboard');
  const fromHost: Message[] = [];
  const sim = new SimulatedKeyboard({ link, onHostMessage: (m) => fromHost.push(m), hostTimeoutMs: 3000, ackTimeoutMs: 1000 });
  await sim.plug();
  t.after(() => sim.close());
  const { host, next } = await startHost(t, { keyboard: true, device: link, linkOptions: { timing: TIMING } });

  const connected = await next('device', (d) => d.connected);
  assert.equal(connected.state, 'connected');
  // The first PING goes with the HELLO; its PONG times the keyboard's clock.
  const timed = connected.clock_rtt_ms !== null ? connected : await next('device', (d) => d.clock_rtt_ms !== null);
  assert.ok(timed.clock_rtt_ms !== null && timed.clock_rtt_ms >= 0 && timed.clock_rtt_ms < 1000, String(timed.clock_rtt_ms));
  assert.deepEqual(
    fromHost.slice(0, 2).map((m) => m.type),
    ['hello', 'ping'],
  );
  assert.equal(connected.port, link);
  assert.equal(connected.device?.firmware !== undefined && connected.device.firmware !== '', true);
  assert.equal(host.state().device.connected, true);

  // Hold, type, release: the typed text is the prompt.
  sim.press();
  await next('session', (s) => s.state === 'listening');
  sim.type('The bird');
  await next('session', (s) => s.typed === 'The bird');
  sim.release();
  const start = await next('reply.start');
  assert.equal(start.source, 'keyboard');
  assert.equal(start.prompt, 'The bird');
  const done = await next('reply.done');
  assert.ok(done.timings !== null);
  assert.equal(typeof done.timings.link_ms, 'number', 'the keyboard clock is synchronised: the link latency is known');

  // The LED followed the session, and the display shows the whole reply.
  const deadline = Date.now() + 5000;
  while ((sim.led !== 'idle' || sim.display !== done.completion) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const leds = fromHost.filter((m): m is Extract<Message, { type: 'status' }> => m.type === 'status').map((m) => m.led);
  assert.deepEqual(
    leds.filter((l, i) => l !== leds[i - 1]),
    ['listening', 'thinking', 'replying', 'idle'],
  );
  assert.equal(sim.display, done.completion);

  // A GPIO edge while idle sends the default prompt.
  sim.gpio(0, 1);
  const gpio = await next('reply.start');
  assert.equal(gpio.source, 'gpio');
  await next('reply.done');

  // Noise on the line is counted, not fatal.
  sim.garbage(40);
  const noisy = await next('device', (d) => d.frame_errors.total > 0);
  assert.equal(noisy.connected, true);

  // Unplugged with the key held: that press is dropped, not left listening for a release that cannot come.
  sim.press();
  await next('session', (s) => s.state === 'listening');
  await sim.unplug();
  const gone = await next('device', (d) => d.state === 'disconnected');
  assert.match(gone.reason ?? '', /\S/);
  assert.equal(host.state().session.state, 'idle');
  assert.equal(host.state().key.down, false);
  await sim.plug();
  await next('device', (d) => d.connected);
  assert.equal(host.state().device.state, 'connected');
});
