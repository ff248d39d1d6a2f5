// The host's end of the keyboard link: finds the port, opens it, says HELLO, keeps the link
// alive with PINGs, turns frames into events, and when anything breaks (unplug, I/O error,
// silence) closes, waits with exponential backoff and starts over. The LED state is kept
// here and sent again after every handshake, so a keyboard that was unplugged shows the right
// colour when it comes back. Nothing that arrives on the wire can throw out of this class:
// malformed frames are counted and dropped, and every failure becomes a 'disconnected' status
// with a reason.
//
// Each connection attempt has a generation number; callbacks from an older attempt (a late
// close, a write error after unplug) see a different number and do nothing.

import { EventEmitter } from 'node:events';

import { ClockSync } from '../link/clock-sync';
import { Outbox } from '../link/outbox';
import { SeenWindow } from '../link/seen-window';
import {
  ALL_CAPABILITIES,
  Capability,
  FrameReader,
  MAX_REPLY_TEXT,
  PROTOCOL_VERSION,
  chunkUtf8,
  encodeFrame,
  type DecodeResult,
  type GpioMessage,
  type HelloMessage,
  type KeyMessage,
  type LedState,
  type Message,
  type MessageBody,
  type NackReason,
  type ReaderStats,
  type TextMessage,
} from '../protocol';
import { discoverPort, type PortLister, type UsbMatch } from './discovery';
import type { LinkEvents } from './events';
import { backoffMs } from '../../common/units';
import { canTransition, type DeviceInfo, type LinkState, type LinkStatus } from './link-state';
import { openSerialPort, type PortConnection, type PortOpener } from './serial-port';

export interface LinkTiming {
  /** Wait for the keyboard's HELLO this long before asking again... */
  handshakeTimeoutMs: number;
  /** ...and give up on the port after this many HELLOs. */
  handshakeTries: number;
  heartbeatIntervalMs: number;
  /** No frame at all from the keyboard for this long means it is gone. */
  heartbeatTimeoutMs: number;
  ackTimeoutMs: number;
  /** Sends of one frame in all, the first included. */
  maxTries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_TIMING: LinkTiming = {
  handshakeTimeoutMs: 500,
  handshakeTries: 4,
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 3000,
  ackTimeoutMs: 250,
  maxTries: 4,
  backoffInitialMs: 100,
  backoffMaxMs: 5000,
};

export interface KeyboardLinkOptions {
  /** The port to use; without it the port is found by USB id (see discovery.ts). */
  port?: string;
  usb?: UsbMatch;
  baudRate?: number;
  /** What the host calls itself in its HELLO. */
  hostId?: string;
  hostVersion?: string;
  timing?: Partial<LinkTiming>;
  /** For tests: how ports are opened and listed. */
  openPort?: PortOpener;
  listPorts?: PortLister;
  listSysfs?: PortLister;
}

/** One reply on the keyboard's display, sent as it is written (KeyboardLink.openReply). */
export interface ReplyStream {
  /** More text; false when the stream has stopped (keyboard gone, a chunk dropped, ended). */
  append(text: string): boolean;
  /** The rest of the text, and the reply is complete. */
  end(text?: string): boolean;
}

export interface LinkStats {
  reader: ReaderStats;
  retransmits: number;
  givenUp: number;
  /** The best recent PING round trip, µs; undefined until the session's first PONG. */
  clockRttUs: number | undefined;
  /** Keyboard retransmissions of events already delivered (their ACK was lost). */
  duplicates: number;
  nacksSent: number;
  connects: number;
  disconnects: number;
}

const now = (): number => performance.now();
const epochMs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;

export class KeyboardLink extends EventEmitter<LinkEvents> {
  readonly timing: LinkTiming;
  private state: LinkState = 'stopped';
  private current: LinkStatus = { state: 'stopped', attempt: 0 };
  private generation = 0;
  private conn: PortConnection | undefined;
  private port: string | undefined;
  private device: DeviceInfo | undefined;
  private readonly reader = new FrameReader();
  private readonly seen = new SeenWindow();
  private readonly clock = new ClockSync();
  private readonly outbox: Outbox;
  private nextSeq = 0;
  private attempt = 0;
  private helloPending = false;
  private hellosSent = 0;
  private lastRxMs = 0;
  private led: LedState | undefined;
  private replyQueue: MessageBody[] = [];
  private replyInFlight: number | undefined;
  private nextReplyId = 0;
  /** Bumped when a session with the keyboard starts or ends: streams of an older one stop. */
  private replySession = 0;
  /** Replies of this session whose chunk the keyboard never took. */
  private droppedReplies = new Set<number>();
  private handshakeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private counters = { duplicates: 0, nacksSent: 0, connects: 0, disconnects: 0 };

  constructor(private readonly options: KeyboardLinkOptions = {}) {
    super();
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.outbox = new Outbox({
      ackTimeoutMs: this.timing.ackTimeoutMs,
      maxTries: this.timing.maxTries,
      send: (m) => this.write(m),
      onAcked: (m) => {
        if (m.seq === this.replyInFlight) this.pumpReply();
      },
      onGiveUp: (m, why) => {
        this.emit('warning', `the keyboard did not take ${m.type} seq ${m.seq}: ${why === 'no-ack' ? 'no ACK' : why}`);
        if (m.seq === this.replyInFlight && m.type === 'reply') {
          // The rest of that reply would be shown with a hole in it: drop it, and what its stream sends later.
          this.replyQueue = this.replyQueue.filter((b) => b.type !== 'reply' || b.replyId !== m.replyId);
          this.droppedReplies.add(m.replyId);
          this.pumpReply();
        }
      },
    });
  }

  get status(): LinkStatus {
    return { ...this.current };
  }

  get stats(): LinkStats {
    return {
      reader: this.reader.stats,
      retransmits: this.outbox.retransmits,
      givenUp: this.outbox.givenUp,
      clockRttUs: this.clock.rttUs,
      ...this.counters,
    };
  }

  /** Starts connecting, and keeps reconnecting until stop(). */
  start(): void {
    if (this.state !== 'stopped') return;
    this.attempt = 0;
    void this.connect();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.generation++;
    this.endSession();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    this.setState('stopped', { reason: 'stopped' });
    await conn?.close().catch(() => undefined);
  }

  /** The LED state to show; kept and sent again after every reconnect. */
  setLed(led: LedState): void {
    this.led = led;
    if (this.state === 'connected' && this.device?.capabilities.led === true) this.sendStatus(led);
  }

  get ledState(): LedState | undefined {
    return this.led;
  }

  /**
   * Sends a whole reply to the keyboard's display (it replaces what the display shows). False
   * if there is no connected keyboard with a display.
   */
  sendReply(text: string): boolean {
    return this.openReply()?.end(text) ?? false;
  }

  /**
   * A reply streamed to the keyboard's display while it is written, as one reply id: the first
   * chunk clears the display, every later one appends, the last one says it is complete. Each
   * update sends only its new text. Chunks go one at a time, each after the previous one was
   * acknowledged, so a display never shows them out of order. Null without a connected keyboard
   * with a display. A stream stops taking text (false) when the keyboard goes away or drops one
   * of its chunks: the rest would be shown with a hole in it.
   */
  openReply(): ReplyStream | null {
    if (this.state !== 'connected' || this.device?.capabilities.display !== true) return null;
    const replyId = this.nextReplyId;
    this.nextReplyId = (this.nextReplyId + 1) & 0xffff;
    this.droppedReplies.delete(replyId); // ids wrap: an old reply's fate is not this one's
    const session = this.replySession;
    let started = false;
    let ended = false;
    const push = (text: string, last: boolean): boolean => {
      if (ended || session !== this.replySession || this.droppedReplies.has(replyId)) return false;
      ended = last;
      const chunks = chunkUtf8(text, MAX_REPLY_TEXT);
      chunks.forEach((chunk, i) => {
        this.replyQueue.push({ type: 'reply', replyId, first: !started, last: last && i === chunks.length - 1, text: chunk });
        started = true;
      });
      if (this.replyInFlight === undefined) this.pumpReply();
      return true;
    };
    return { append: (text) => text === '' || push(text, false), end: (text = '') => push(text, true) };
  }

  // ---- connecting ----

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.setState('searching', { reason: this.options.port !== undefined ? `using ${this.options.port}` : 'looking for the keyboard' });
    const discoveryOptions: Parameters<typeof discoverPort>[0] = {};
    if (this.options.port !== undefined) discoveryOptions.port = this.options.port;
    if (this.options.usb !== undefined) discoveryOptions.usb = this.options.usb;
    if (this.options.listPorts !== undefined) discoveryOptions.list = this.options.listPorts;
    if (this.options.listSysfs !== undefined) discoveryOptions.listSysfs = this.options.listSysfs;
    const found = await discoverPort(discoveryOptions);
    if (gen !== this.generation) return;
    if (!found.ok) {
      this.fail(found.reason);
      return;
    }
    this.port = found.path;
    this.setState('opening', { reason: `opening ${found.path}` });

    const open = this.options.openPort ?? ((p, h) => openSerialPort(p, h, this.options.baudRate));
    let conn: PortConnection;
    try {
      conn = await open(found.path, {
        onData: (bytes) => {
          if (gen === this.generation) this.onBytes(bytes);
        },
        onClose: (error) => {
          if (gen === this.generation) this.fail(closeReason(found.path, error));
        },
      });
    } catch (e) {
      if (gen === this.generation) this.fail(`cannot open ${found.path}: ${errorText(e)}`);
      return;
    }
    if (gen !== this.generation) {
      await conn.close().catch(() => undefined);
      return;
    }
    this.conn = conn;
    this.reader.reset();
    this.beginHandshake('waiting for the keyboard to answer HELLO');
  }

  private beginHandshake(reason: string): void {
    this.setState('handshaking', { reason });
    this.seen.clear();
    this.clock.reset();
    this.outbox.clear();
    this.dropReplies();
    this.helloPending = true;
    this.hellosSent = 0;
    this.lastRxMs = now();
    this.sendHello();
  }

  private sendHello(): void {
    clearTimeout(this.handshakeTimer);
    if (this.hellosSent >= this.timing.handshakeTries) {
      this.fail(`no HELLO from ${this.port ?? 'the port'} after ${this.hellosSent} tries: is a Keymate keyboard on it?`);
      return;
    }
    this.hellosSent++;
    this.send(
      {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        firmware: this.options.hostVersion ?? '0.1.0',
        capabilities: ALL_CAPABILITIES,
        deviceId: this.options.hostId ?? 'keymate',
      },
      false,
    );
    // The first clock sample: the keyboard answers a PING at once, session or not (PROTOCOL.md),
    // so its PONG comes back beside its HELLO and a key edge right after the handshake already
    // has its latency. Sent after the connection instead, it raced the first press.
    this.sendPing();
    this.handshakeTimer = setTimeout(() => this.sendHello(), this.timing.handshakeTimeoutMs);
  }

  private onDeviceHello(m: HelloMessage): void {
    if (this.state === 'connected' && !this.helloPending) {
      // The keyboard lost our session (it restarted without a USB reset): start a new one.
      this.beginHandshake('the keyboard asked for a new handshake');
      return;
    }
    if (this.state !== 'handshaking' || !this.helloPending) return;
    clearTimeout(this.handshakeTimer);
    this.helloPending = false;
    this.device = deviceInfo(m);
    this.attempt = 0;
    this.counters.connects++;
    this.setState('connected', { reason: `connected to ${m.deviceId} (firmware ${m.firmware})` });
    this.startHeartbeat();
    if (this.led !== undefined && this.device.capabilities.led) this.sendStatus(this.led);
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      const silentMs = now() - this.lastRxMs;
      if (silentMs > this.timing.heartbeatTimeoutMs) {
        this.fail(`no answer from the keyboard for ${Math.round(silentMs)} ms`);
        return;
      }
      this.sendPing();
    }, this.timing.heartbeatIntervalMs);
  }

  /** Ends the connection attempt or session with a reason, and schedules the next attempt. */
  private fail(reason: string): void {
    if (this.state === 'stopped' || this.state === 'disconnected') return;
    this.generation++;
    if (this.state === 'connected') this.counters.disconnects++;
    this.endSession();
    const conn = this.conn;
    this.conn = undefined;
    void conn?.close().catch(() => undefined);
    this.attempt++;
    const delay = backoffMs(this.attempt, this.timing.backoffInitialMs, this.timing.backoffMaxMs);
    this.setState('disconnected', { reason, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private endSession(): void {
    clearTimeout(this.handshakeTimer);
    clearInterval(this.heartbeatTimer);
    this.handshakeTimer = undefined;
    this.heartbeatTimer = undefined;
    this.outbox.clear();
    this.dropReplies();
    this.helloPending = false;
    this.device = undefined;
  }

  private setState(state: LinkState, extra: { reason?: string; retryInMs?: number }): void {
    if (state !== this.state && !canTransition(this.state, state)) {
      throw new Error(`keyboard link: no transition from ${this.state} to ${state}`);
    }
    this.state = state;
    const status: LinkStatus = { state, attempt: this.attempt };
    if (extra.reason !== undefined) status.reason = extra.reason;
    if (this.port !== undefined) status.port = this.port;
    if (this.device !== undefined && state === 'connected') status.device = this.device;
    if (extra.retryInMs !== undefined) status.retryInMs = extra.retryInMs;
    this.current = status;
    this.emit('status', { ...status });
  }

  // ---- receiving ----

  private onBytes(bytes: Uint8Array): void {
    for (const result of this.reader.push(bytes)) this.onFrame(result);
  }

  private onFrame(r: DecodeResult): void {
    if (!r.ok) {
      this.emit('malformed', r.error);
      // The CRC held, so the seq is real: tell a waiting sender not to bother retrying.
      if (r.header?.ackRequested === true && (r.error === 'type' || r.error === 'payload' || r.error === 'utf8')) {
        this.sendNack(r.header.seq, r.error === 'type' ? 'unsupported-type' : 'bad-payload');
      }
      return;
    }
    const m = r.message;
    this.lastRxMs = now();
    switch (m.type) {
      case 'hello':
        this.onDeviceHello(m);
        return;
      case 'ping':
        this.send({ type: 'pong', token: m.token, clockUs: ClockSync.token(now() * 1000) }, false);
        return;
      case 'pong': {
        const first = !this.clock.synced;
        this.clock.addSample(m.token, m.clockUs, now() * 1000);
        if (first && this.clock.synced) this.emit('clock');
        return;
      }
      case 'ack':
        this.outbox.acknowledge(m.ackSeq);
        return;
      case 'nack':
        this.outbox.reject(m.ackSeq, m.reason);
        return;
      case 'key':
      case 'gpio':
      case 'text':
        this.onEvent(m);
        return;
      default:
        // STATUS and REPLY go to the keyboard, not from it.
        if (m.ackRequested) this.sendNack(m.seq, 'unsupported-type');
    }
  }

  private onEvent(m: KeyMessage | GpioMessage | TextMessage): void {
    if (this.state !== 'connected') {
      if (m.ackRequested) this.sendNack(m.seq, 'not-ready');
      return;
    }
    if (this.seen.isDuplicate(m)) {
      this.counters.duplicates++;
      if (m.ackRequested) this.sendAck(m.seq);
      return;
    }
    if (m.ackRequested) this.seen.remember(m.seq);
    // The event goes out before the ACK, and the ACK after the microtasks the event queued: a
    // release's engine call and reply.start go first (KeySession.sending), the serial write
    // after them. The keyboard waits 200 ms for an ACK; this costs it well under one.
    try {
      this.deliver(m);
    } finally {
      if (m.ackRequested) queueMicrotask(() => this.sendAck(m.seq));
    }
  }

  private deliver(m: KeyMessage | GpioMessage | TextMessage): void {
    const tHostMs = epochMs();
    if (m.type === 'text') {
      this.emit('text', { type: 'text', text: m.text, seq: m.seq, tHostMs });
      return;
    }
    const nowUs = now() * 1000;
    const edgeUs = this.clock.deviceToHostUs(m.tDeviceUs, nowUs);
    const timed = { seq: m.seq, tDeviceUs: m.tDeviceUs, tHostMs, ...(edgeUs !== undefined ? { latencyMs: (nowUs - edgeUs) / 1000 } : {}) };
    if (m.type === 'key') this.emit('key', { type: 'key', code: m.code, state: m.state, ...timed });
    else this.emit('gpio', { type: 'gpio', line: m.line, level: m.level, ...timed });
  }

  // ---- sending ----

  private send(body: MessageBody, ackRequested: boolean): Message {
    const message = { ...body, seq: this.nextSeq, ackRequested, retransmit: false } as Message;
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    this.write(message);
    if (ackRequested) this.outbox.track(message);
    return message;
  }

  private write(m: Message): void {
    const conn = this.conn;
    if (!conn) return;
    const gen = this.generation;
    conn.write(encodeFrame(m)).catch((e: unknown) => {
      if (gen === this.generation) this.fail(`cannot write to the keyboard: ${errorText(e)}`);
    });
  }

  private sendStatus(led: LedState): void {
    // A newer LED state makes an unacknowledged older one moot: never let it arrive late.
    this.outbox.cancel((m) => m.type === 'status');
    this.send({ type: 'status', led }, true);
  }

  private sendPing(): void {
    this.send({ type: 'ping', token: ClockSync.token(now() * 1000) }, false);
  }

  private sendAck(seq: number): void {
    this.send({ type: 'ack', ackSeq: seq }, false);
  }

  private sendNack(seq: number, reason: NackReason): void {
    this.counters.nacksSent++;
    this.send({ type: 'nack', ackSeq: seq, reason }, false);
  }

  private dropReplies(): void {
    this.replyQueue = [];
    this.replyInFlight = undefined;
    this.replySession++;
    this.droppedReplies.clear();
  }

  private pumpReply(): void {
    const next = this.replyQueue.shift();
    this.replyInFlight = next ? this.send(next, true).seq : undefined;
  }
}

function deviceInfo(m: HelloMessage): DeviceInfo {
  const has = (bit: number): boolean => (m.capabilities & bit) !== 0;
  return {
    deviceId: m.deviceId,
    firmware: m.firmware,
    protocol: m.protocol,
    capabilities: {
      key: has(Capability.key),
      gpio: has(Capability.gpio),
      text: has(Capability.text),
      led: has(Capability.led),
      display: has(Capability.display),
    },
  };
}

function closeReason(path: string, error: Error | undefined): string {
  return `lost the keyboard at ${path} (${error ? errorText(error) : 'the port closed'})`;
}

/** serialport's messages start with "Error: "; the reason reads better without it. */
function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Error: /, '');
}
