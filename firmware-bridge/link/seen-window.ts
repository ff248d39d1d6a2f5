// Remembers the seqs of the last few frames delivered with ACK requested, so that a
// retransmission whose original did arrive (only the ACK was lost) is acknowledged again but
// not acted on twice. Only frames flagged RETRANSMIT are checked: a fresh frame may reuse a
// seq after the u16 counter wraps, a retransmission never does.

import type { FrameHeader } from '../protocol';

export const SEEN_WINDOW = 16;

export class SeenWindow {
  private readonly seqs: number[] = [];

  constructor(private readonly size = SEEN_WINDOW) {}

  isDuplicate(header: FrameHeader): boolean {
    return header.retransmit && this.seqs.includes(header.seq);
  }

  remember(seq: number): void {
    this.seqs.push(seq);
    if (this.seqs.length > this.size) this.seqs.shift();
  }

  clear(): void {
    this.seqs.length = 0;
  }
}
