// Key-press latency over the keyboard link: from the moment the simulated keyboard takes a
// key edge to the moment the host link emits the 'key' event, over a real pseudo-terminal.
//   node dist/scripts/bench-keylink.js [--presses 1000]
// prints one JSON object: {presses, p50_ms, p99_ms, ...}.
//
// The keyboard runs in a child process, as a separate firmware would; its device clock is
// the machine's monotonic clock (process.hrtime, the same in every process), so latency is
// simply host hrtime at the event minus the event's device timestamp, with no estimate in
// between. The host's own clock-sync estimate is reported next to it, as a check on what
// the app shows. Presses are spaced by a few milliseconds so each is measured on a quiet
// link, as a human key press would be.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { KeyEvent } from '../firmware-bridge/host/events';
import { KeyboardLink } from '../firmware-bridge/host/keyboard-link';
import { SimulatedKeyboard, deviceClockUs } from '../firmware-bridge/sim/simulator';
import { round, summary } from './latency-stats';

type Command = { cmd: 'press' } | { cmd: 'release' } | { cmd: 'quit' };

async function simulatorChild(link: string): Promise<void> {
  const sim = new SimulatedKeyboard({ link });
  await sim.plug();
  process.on('message', (m: Command) => {
    if (m.cmd === 'press') sim.press();
    else if (m.cmd === 'release') sim.release();
    else void sim.close().then(() => process.exit(0));
  });
  process.send?.({ ready: true });
}

/** The summary with the units in its keys, as this benchmark's JSON has always named them. */
function summaryMs(samples: number[]): Record<string, number> {
  const s = summary(samples);
  return { p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99, max_ms: s.max, mean_ms: s.mean };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--sim') return simulatorChild(args[1] ?? '');
  const pressesArg = args.indexOf('--presses');
  const presses = pressesArg >= 0 ? Number(args[pressesArg + 1]) : 1000;
  if (!Number.isInteger(presses) || presses < 1) throw new Error(`bench-keylink: --presses must be a positive integer`);
  const warmup = 50;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keymate-bench-'));
  const link = path.join(dir, 'keyboard');
  const child = fork(__filename, ['--sim', link], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));

  const host = new KeyboardLink({ port: link });
  let waiting: ((e: KeyEvent, latencyMs: number) => void) | undefined;
  host.on('key', (e) => {
    // Taken first thing in the listener: this is when the app would learn of the press.
    const nowUs = deviceClockUs();
    const latencyMs = (((nowUs - e.tDeviceUs) % 2 ** 32) + 2 ** 32) % 2 ** 32 / 1000;
    waiting?.(e, latencyMs);
  });
  const connected = new Promise<void>((resolve) => host.on('status', (s) => s.state === 'connected' && resolve()));
  host.start();
  await connected;
  await new Promise((r) => setTimeout(r, 300)); // the keyboard has our HELLO, a PONG has synced the clocks

  const exact: number[] = [];
  const estimated: number[] = [];
  const edge = (cmd: 'press' | 'release'): Promise<[KeyEvent, number]> =>
    new Promise((resolve) => {
      waiting = (e, latency) => resolve([e, latency]);
      child.send({ cmd });
    });
  for (let i = 0; i < warmup + presses; i++) {
    const [down, latency] = await edge('press');
    if (i >= warmup) {
      exact.push(latency);
      if (down.latencyMs !== undefined) estimated.push(down.latencyMs);
    }
    await edge('release');
    await new Promise((r) => setTimeout(r, 2 + (i % 3)));
  }

  child.send({ cmd: 'quit' });
  await host.stop();
  await new Promise((r) => child.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });

  const result = {
    benchmark: 'keylink',
    transport: 'pty (simulated keyboard in a child process, host via serialport)',
    measured: "device key edge -> host 'key' event",
    presses,
    ...summaryMs(exact),
    estimate: estimated.length > 0 ? summaryMs(estimated) : null,
    malformed: host.stats.reader.malformed,
    retransmits: host.stats.retransmits,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    load_avg_1m: round(os.loadavg()[0] ?? NaN),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-keylink: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
