// Frames sent with ACK requested wait here until the other side answers. Without an answer
// within ackTimeoutMs a frame is sent again, same seq, RETRANSMIT set, up to maxTries sends
// in all; then it is given up. A NACK 'busy' leaves it to the next retransmission; any other
// NACK reason is final. Used by both ends the TypeScript side plays: the host link and the
// simulated keyboard. The C device does the same with fixed slots (km_device.c).

import type { Message, NackReason } from '../protocol';

export interface OutboxOptions {
  ackTimeoutMs: number;
  maxTries: number;
  /** Writes a frame (the first send is the caller's; retransmissions come through here). */
  send(message: Message): void;
  onAcked?(message: Message): void;
  onGiveUp?(message: Message, why: 'no-ack' | NackReason): void;
}

interface Entry {
  message: Message;
  tries: number;
  timer: NodeJS.Timeout;
}

export class Outbox {
  private readonly entries = new Map<number, Entry>();
  retransmits = 0;
  givenUp = 0;

  constructor(private readonly options: OutboxOptions) {}

  /** Starts waiting for the ACK of a message that was just sent once. */
  track(message: Message): void {
    if (!message.ackRequested) throw new Error('outbox: only frames with ACK requested wait for an ACK');
    this.remove(message.seq);
    const entry: Entry = { message, tries: 1, timer: this.arm(message.seq) };
    this.entries.set(message.seq, entry);
  }

  /** An ACK arrived; false if nothing waited for it (late, or a duplicate ACK). */
  acknowledge(seq: number): boolean {
    const entry = this.remove(seq);
    if (entry) this.options.onAcked?.(entry.message);
    return entry !== undefined;
  }

  reject(seq: number, reason: NackReason): void {
    if (reason === 'busy' || !this.entries.has(seq)) return;
    const entry = this.remove(seq);
    if (entry) this.giveUp(entry.message, reason);
  }

  /** Drops waiting messages that `obsolete` says a newer one replaces (an older LED state). */
  cancel(obsolete: (m: Message) => boolean): void {
    for (const entry of [...this.entries.values()]) {
      if (obsolete(entry.message)) this.remove(entry.message.seq);
    }
  }

  /** Forgets everything (the session ended); nothing is given up or retransmitted. */
  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private arm(seq: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.expire(seq), this.options.ackTimeoutMs);
    timer.unref();
    return timer;
  }

  private expire(seq: number): void {
    const entry = this.entries.get(seq);
    if (!entry) return;
    if (entry.tries >= this.options.maxTries) {
      this.entries.delete(seq);
      this.giveUp(entry.message, 'no-ack');
      return;
    }
    entry.tries++;
    entry.message = { ...entry.message, retransmit: true };
    entry.timer = this.arm(seq);
    this.retransmits++;
    this.options.send(entry.message);
  }

  private remove(seq: number): Entry | undefined {
    const entry = this.entries.get(seq);
    if (entry) {
      clearTimeout(entry.timer);
      this.entries.delete(seq);
    }
    return entry;
  }

  private giveUp(message: Message, why: 'no-ack' | NackReason): void {
    this.givenUp++;
    this.options.onGiveUp?.(message, why);
  }
}
