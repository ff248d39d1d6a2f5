// `keymate device simulate` and `keymate device monitor` as a user runs them: two processes,
// commands on stdin, JSON lines on stdout, talking over a real pseudo-terminal.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { test } from 'node:test';

import { tempDir } from '../support/repo';

// The compiled CLI next to this compiled test (dist/electron/cli/main.js), whatever dist is.
const cliMain = path.resolve(__dirname, '..', '..', 'electron', 'cli', 'main.js');

type Line = Record<string, unknown>;

class Proc {
  readonly lines: Line[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Line); // every stdout line must be JSON
      this.waiters.forEach((w) => w());
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  send(command: string): void {
    this.child.stdin.write(command + '\n');
  }

  /** The first line from index `from` on that matches, waiting for it if need be. */
  async waitLine(what: string, match: (l: Line) => boolean, from = 0, timeoutMs = 8000): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }
}

function keymate(...args: string[]): Proc {
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(cliMain)}).run(process.argv.slice(1))`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Proc(child);
}

test('device simulate + device monitor: press, LED, unplug/replug, noise, quit', { timeout: 60_000 }, async () => {
  const link = path.join(tempDir('keymate-cli-'), 'kb');
  const sim = keymate('device', 'simulate', '--link', link);
  const mon = keymate('device', 'monitor', '--port', link, '--json');
  try {
    await mon.waitLine('connected', (l) => l['type'] === 'link' && l['state'] === 'connected');
    // The host's HELLO, as the keyboard saw it, in snake_case.
    const hello = await sim.waitLine('the host HELLO', (l) => l['type'] === 'hello');
    assert.equal(hello['device_id'], 'keymate');
    assert.equal(hello['ack_requested'], false);

    let mark = mon.lines.length;
    await sim.waitLine('a PING (the keyboard knows the host)', (l) => l['type'] === 'ping');
    sim.send('press');
    const key = await mon.waitLine('the key event', (l) => l['type'] === 'key', mark);
    for (const field of ['type', 'key', 'state', 'seq', 't_device_us', 't_host_ms']) assert.ok(field in key, field);
    assert.equal(key['key'], 1);
    assert.equal(key['state'], 'down');
    assert.equal(typeof key['t_device_us'], 'number');

    let simMark = sim.lines.length;
    mon.send('led thinking');
    const status = await sim.waitLine('STATUS thinking', (l) => l['type'] === 'status', simMark);
    assert.equal(status['led'], 'thinking');

    mark = mon.lines.length;
    sim.send('unplug');
    await mon.waitLine('disconnected', (l) => l['type'] === 'link' && l['state'] === 'disconnected', mark);
    simMark = sim.lines.length;
    sim.send('replug');
    await mon.waitLine('connected again', (l) => l['type'] === 'link' && l['state'] === 'connected', mark);
    const resent = await sim.waitLine('the LED state resent', (l) => l['type'] === 'status', simMark);
    assert.equal(resent['led'], 'thinking');

    mark = mon.lines.length;
    await sim.waitLine('a PING after replug', (l) => l['type'] === 'ping', simMark);
    sim.send('garbage 10000');
    sim.send('gpio 3 1');
    sim.send('type héllo 🎹');
    sim.send('release');
    await mon.waitLine('some noise counted', (l) => l['type'] === 'malformed', mark);
    const gpio = await mon.waitLine('the GPIO event', (l) => l['type'] === 'gpio', mark);
    assert.deepEqual([gpio['line'], gpio['level']], [3, 1]);
    const text = await mon.waitLine('the text', (l) => l['type'] === 'text', mark);
    assert.equal(text['text'], 'héllo 🎹');
    const up = await mon.waitLine('the release', (l) => l['type'] === 'key' && l['state'] === 'up', mark);
    assert.equal(up['key'], 1);

    sim.send('bogus');
    sim.send('quit');
    assert.equal(await sim.exited, 0);
    assert.match(sim.stderr, /unknown command 'bogus'/);
    assert.equal(fs.existsSync(link), false, 'the simulator removes its link when it quits');
    mon.send('quit');
    assert.equal(await mon.exited, 0);
    assert.match(mon.stderr, /\d+ frames, [1-9]\d* malformed/);
  } finally {
    sim.child.kill();
    mon.child.kill();
  }
});

test('device: bad usage exits 2 with the usage line', async () => {
  const none = keymate('device');
  assert.equal(await none.exited, 2);
  assert.match(none.stderr, /say simulate or monitor[\s\S]*usage: keymate device simulate --link PATH/);
  const noLink = keymate('device', 'simulate');
  assert.equal(await noLink.exited, 2);
  assert.match(noLink.stderr, /--link is required/);
  const badUsb = keymate('device', 'monitor', '--usb', 'nope');
  assert.equal(await badUsb.exited, 2);
  assert.match(badUsb.stderr, /--usb must be VID:PID in hex/);
});

test('device simulate: a link path that is a real file is refused with one error line', async () => {
  const file = path.join(tempDir('keymate-cli-'), 'not-a-link');
  fs.writeFileSync(file, 'keep me');
  const sim = keymate('device', 'simulate', '--link', file);
  sim.child.stdin.end();
  assert.equal(await sim.exited, 1);
  assert.equal(sim.stderr.trim().split('\n').length, 1);
  assert.match(sim.stderr, /^keymate: simulate: .* exists and is not a symlink; refusing to replace it\n$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
});
