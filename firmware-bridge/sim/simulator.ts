// A keyboard that exists only in software: a real pseudo-terminal whose slave end appears at
// a path of your choice (a symlink), so the host opens it exactly as it opens a USB port.
// Unplugging closes the master and removes the symlink: the host's reads fail (hang-up), its
// port closes, and reopening finds nothing, as after a real unplug. Replugging makes a fresh
// pty and points the same path at it; the keyboard restarts from power-on, as firmware would.
//
// The device clock is the machine's monotonic clock in µs (u32), the clock process.hrtime
// reads in every process: a host on the same machine can take latency as its own
// hrtime minus the key event's timestamp, with no clock estimate in between.

import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as tty from 'node:tty';

import { AI_KEY, type LedState, type Message, type ReplyMessage } from '../protocol';
import { DeviceSession, type DeviceIdentity, type EventResult } from './device-session';
import { openPseudoTerminal, type PseudoTerminal } from './pty';

export interface SimulatorOptions {
  /** Where the port appears (a symlink to the pty slave); replaced if it is a stale symlink. */
  link: string;
  identity?: DeviceIdentity;
  ackTimeoutMs?: number;
  maxTries?: number;
  hostTimeoutMs?: number;
  /** Every valid frame the host sends. */
  onHostMessage?(m: Message): void;
  /** Things a person watching should know (the CLI prints them on stderr). */
  onNotice?(text: string): void;
  onHost?(present: boolean): void;
}

/** The device clock: monotonic µs since boot, truncated to u32 (see the note above). */
export function deviceClockUs(): number {
  return Number((process.hrtime.bigint() / 1000n) % 0x1_0000_0000n);
}

export type SimResult = EventResult | 'unplugged';

export class SimulatedKeyboard {
  private pty: PseudoTerminal | undefined;
  private stream: tty.ReadStream | undefined;
  private session: DeviceSession | undefined;
  private keyDown = false;
  /** What the host last asked the LED to show, and the display's text. */
  led: LedState = 'idle';
  display = '';
  /** Fault injection: the firmware hangs (ignores everything the host sends). */
  hung = false;
  /** Fault injection: lose this many of the host's next ACKs. */
  lostAcks = 0;

  constructor(private readonly options: SimulatorOptions) {}

  get plugged(): boolean {
    return this.session !== undefined;
  }

  get hostPresent(): boolean {
    return this.session?.hostPresent ?? false;
  }

  get slavePath(): string | undefined {
    return this.pty?.slavePath;
  }

  /** The current session's counters (reset by each replug, like a power cycle). */
  get counters(): DeviceSession['counters'] | undefined {
    return this.session?.counters;
  }

  get retransmits(): number {
    return this.session?.retransmits ?? 0;
  }

  async plug(): Promise<void> {
    if (this.plugged) return;
    const pty = await openPseudoTerminal();
    try {
      placeLink(this.options.link, pty.slavePath);
    } catch (e) {
      fs.closeSync(pty.keeperFd);
      fs.closeSync(pty.masterFd);
      throw e;
    }
    const stream = new tty.ReadStream(pty.masterFd);
    const session = new DeviceSession({
      ...(this.options.identity ? { identity: this.options.identity } : {}),
      write: (bytes) => {
        if (this.stream === stream && !stream.destroyed) stream.write(bytes);
      },
      nowUs: deviceClockUs,
      ...(this.options.ackTimeoutMs !== undefined ? { ackTimeoutMs: this.options.ackTimeoutMs } : {}),
      ...(this.options.maxTries !== undefined ? { maxTries: this.options.maxTries } : {}),
      ...(this.options.hostTimeoutMs !== undefined ? { hostTimeoutMs: this.options.hostTimeoutMs } : {}),
      onHostMessage: (m) => this.options.onHostMessage?.(m),
      accept: (m) => {
        if (this.hung) return false;
        if (m.type === 'ack' && this.lostAcks > 0) {
          this.lostAcks--;
          return false;
        }
        return true;
      },
      onHost: (present) => {
        this.options.onNotice?.(present ? 'host connected' : 'host gone (no frame for a while)');
        this.options.onHost?.(present);
      },
      onStatus: (led) => {
        this.led = led;
      },
      onReply: (m: ReplyMessage) => {
        this.display = m.first ? m.text : this.display + m.text;
      },
    });
    stream.on('data', (chunk: Buffer) => session.receive(chunk));
    stream.on('error', (e: Error) => this.options.onNotice?.(`pty error: ${e.message}`));
    this.pty = pty;
    this.stream = stream;
    this.session = session;
    this.keyDown = false;
    this.options.onNotice?.(`plugged in: ${this.options.link} -> ${pty.slavePath}`);
  }

  /** Pulls the cable: the port disappears and the keyboard loses power. */
  async unplug(): Promise<void> {
    const { stream, pty, session } = this;
    if (!session || !pty || !stream) return;
    this.stream = undefined;
    this.pty = undefined;
    this.session = undefined;
    session.close();
    removeLink(this.options.link, pty.slavePath);
    // Closing the master hangs up the slave: the host's next read or write fails.
    await new Promise<void>((resolve) => {
      // Bounded: a close stuck behind unflushed output must not hang the simulator.
      const timer = setTimeout(resolve, 2000);
      stream.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.destroy();
    });
    fs.closeSync(pty.keeperFd);
    this.options.onNotice?.('unplugged');
  }

  async replug(): Promise<void> {
    await this.unplug();
    await this.plug();
  }

  press(code = AI_KEY): SimResult {
    this.keyDown = true;
    return this.session ? this.session.key(code, true) : 'unplugged';
  }

  release(code = AI_KEY): SimResult {
    this.keyDown = false;
    return this.session ? this.session.key(code, false) : 'unplugged';
  }

  get aiKeyDown(): boolean {
    return this.keyDown;
  }

  gpio(line: number, level: 0 | 1): SimResult {
    return this.session ? this.session.gpio(line, level) : 'unplugged';
  }

  type(text: string): SimResult {
    return this.session ? this.session.text(text) : 'unplugged';
  }

  /**
   * Line noise: n random bytes (or the given ones), then one 0x00, so the noise ends as a
   * frame of its own, as a careful firmware ends a line after an error. Returns what was
   * written, the 0x00 included, or undefined when unplugged.
   */
  garbage(n: number, bytes: Uint8Array = randomBytes(n)): Uint8Array | undefined {
    const stream = this.stream;
    if (!stream || stream.destroyed) return undefined;
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    stream.write(out);
    return out;
  }

  async close(): Promise<void> {
    await this.unplug();
  }
}

/** Points `link` at `target`, atomically (a host never sees the path missing during a replug). */
function placeLink(link: string, target: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(link);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isSymbolicLink()) {
    throw new Error(`simulate: ${link} exists and is not a symlink; refusing to replace it`);
  }
  const tmp = `${link}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
}

/** Removes the link if it still points at our pty (someone may have replaced it). */
function removeLink(link: string, target: string): void {
  try {
    if (fs.readlinkSync(link) === target) fs.unlinkSync(link);
  } catch {
    // already gone
  }
}
