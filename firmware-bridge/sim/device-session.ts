// The keyboard's side of the protocol in TypeScript, for the simulator: the same rules as the
// C device (device/km_device.c), so that what the simulator does is what firmware does.
//   - No host until a host HELLO arrives; the answer is our HELLO. A host that sends anything
//     else first gets NACK not-ready (if it wants an ACK) and an invitation HELLO, at most
//     every helloIntervalMs.
//   - Silence from the host for hostTimeoutMs means it is gone.
//   - KEY, GPIO and TEXT go out with ACK requested and are retransmitted until acknowledged;
//     while no host is present they are dropped, not queued.
//   - STATUS and REPLY are acted on once, acknowledged every time.
// I/O is injected: write() puts bytes on the wire, nowUs() is the device clock.

import { Outbox } from '../link/outbox';
import { SeenWindow } from '../link/seen-window';
import {
  ALL_CAPABILITIES,
  FrameReader,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  chunkUtf8,
  encodeFrame,
  type DecodeResult,
  type LedState,
  type Message,
  type MessageBody,
  type NackReason,
  type ReaderStats,
  type ReplyMessage,
} from '../protocol';

export interface DeviceIdentity {
  deviceId: string;
  firmware: string;
  capabilities: number;
}

export const SIMULATOR_IDENTITY: DeviceIdentity = {
  deviceId: 'KM-SIM-0001',
  firmware: '1.0.0',
  capabilities: ALL_CAPABILITIES,
};

export interface DeviceSessionOptions {
  identity?: DeviceIdentity;
  write(bytes: Uint8Array): void;
  /** The device clock, µs; wraps at 2^32. */
  nowUs(): number;
  ackTimeoutMs?: number;
  maxTries?: number;
  hostTimeoutMs?: number;
  helloIntervalMs?: number;
  /** Every valid frame from the host, before it is acted on. */
  onHostMessage?(m: Message): void;
  /** Fault injection: return false to lose a frame as if it never arrived. */
  accept?(m: Message): boolean;
  onMalformed?(r: Extract<DecodeResult, { ok: false }>): void;
  onHost?(present: boolean): void;
  onStatus?(led: LedState): void;
  onReply?(m: ReplyMessage): void;
}

export type EventResult = 'sent' | 'no-host';

export class DeviceSession {
  private readonly reader = new FrameReader();
  private readonly seen = new SeenWindow();
  private readonly outbox: Outbox;
  private present = false;
  private seq = 0;
  private lastInviteMs = -Infinity;
  private hostTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly counters = { eventsSent: 0, eventsDropped: 0, duplicates: 0, nacksReceived: 0 };

  constructor(private readonly o: DeviceSessionOptions) {
    this.outbox = new Outbox({
      ackTimeoutMs: o.ackTimeoutMs ?? 200,
      maxTries: o.maxTries ?? 4,
      send: (m) => this.o.write(encodeFrame(m)),
    });
  }

  get hostPresent(): boolean {
    return this.present;
  }

  get readerStats(): ReaderStats {
    return this.reader.stats;
  }

  get retransmits(): number {
    return this.outbox.retransmits;
  }

  get givenUp(): number {
    return this.outbox.givenUp;
  }

  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    for (const r of this.reader.push(bytes)) this.onFrame(r);
  }

  key(code: number, down: boolean, tDeviceUs = this.o.nowUs()): EventResult {
    return this.event({ type: 'key', code, state: down ? 'down' : 'up', tDeviceUs });
  }

  gpio(line: number, level: 0 | 1, tDeviceUs = this.o.nowUs()): EventResult {
    return this.event({ type: 'gpio', line, level, tDeviceUs });
  }

  /** Typed text, split into frames of at most 240 bytes between characters. */
  text(text: string): EventResult {
    if (!this.present || this.closed) {
      this.counters.eventsDropped++;
      return 'no-host';
    }
    for (const chunk of chunkUtf8(text, MAX_PAYLOAD)) this.event({ type: 'text', text: chunk });
    return 'sent';
  }

  /** Ends the session for good (the simulated keyboard lost power). */
  close(): void {
    this.closed = true;
    clearTimeout(this.hostTimer);
    this.outbox.clear();
    this.present = false;
  }

  private event(body: MessageBody): EventResult {
    if (!this.present || this.closed) {
      this.counters.eventsDropped++;
      return 'no-host';
    }
    const m = this.send(body, true);
    this.outbox.track(m);
    this.counters.eventsSent++;
    return 'sent';
  }

  private send(body: MessageBody, ackRequested: boolean): Message {
    const m = { ...body, seq: this.seq, ackRequested, retransmit: false } as Message;
    this.seq = (this.seq + 1) & 0xffff;
    this.o.write(encodeFrame(m));
    return m;
  }

  private sendHello(): void {
    const id = this.o.identity ?? SIMULATOR_IDENTITY;
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION, firmware: id.firmware, capabilities: id.capabilities, deviceId: id.deviceId }, false);
  }

  private nack(seq: number, reason: NackReason): void {
    this.send({ type: 'nack', ackSeq: seq, reason }, false);
  }

  private setPresent(present: boolean): void {
    if (this.present === present) return;
    this.present = present;
    if (!present) {
      clearTimeout(this.hostTimer);
      this.outbox.clear(); // stale events are not replayed to the next host
    }
    this.o.onHost?.(present);
  }

  private armHostTimeout(): void {
    clearTimeout(this.hostTimer);
    this.hostTimer = setTimeout(() => this.setPresent(false), this.o.hostTimeoutMs ?? 3000);
    this.hostTimer.unref();
  }

  private onFrame(r: DecodeResult): void {
    if (!r.ok) {
      this.o.onMalformed?.(r);
      if (r.header?.ackRequested === true && (r.error === 'type' || r.error === 'payload' || r.error === 'utf8')) {
        this.nack(r.header.seq, r.error === 'type' ? 'unsupported-type' : 'bad-payload');
      }
      return;
    }
    const m = r.message;
    this.o.onHostMessage?.(m);
    if (this.o.accept?.(m) === false) return;
    if (m.type === 'hello') {
      this.seen.clear();
      this.outbox.clear();
      this.sendHello();
      this.setPresent(true);
      this.armHostTimeout();
      return;
    }
    if (m.type === 'ping') this.send({ type: 'pong', token: m.token, clockUs: this.o.nowUs() }, false);
    if (!this.present) {
      if (m.ackRequested) this.nack(m.seq, 'not-ready');
      const t = performance.now();
      if (t - this.lastInviteMs >= (this.o.helloIntervalMs ?? 500)) {
        this.lastInviteMs = t;
        this.sendHello();
      }
      return;
    }
    this.armHostTimeout();
    switch (m.type) {
      case 'status':
      case 'reply':
        if (this.seen.isDuplicate(m)) {
          this.counters.duplicates++;
        } else {
          if (m.ackRequested) this.seen.remember(m.seq);
          if (m.type === 'status') this.o.onStatus?.(m.led);
          else this.o.onReply?.(m);
        }
        if (m.ackRequested) this.send({ type: 'ack', ackSeq: m.seq }, false);
        return;
      case 'ack':
        this.outbox.acknowledge(m.ackSeq);
        return;
      case 'nack':
        this.counters.nacksReceived++;
        this.outbox.reject(m.ackSeq, m.reason);
        return;
      case 'ping':
      case 'pong':
        return;
      default:
        if (m.ackRequested) this.nack(m.seq, 'unsupported-type');
    }
  }
}
