// Cuts a byte stream into frames at each 0x00 and decodes them. Whatever goes wrong stays
// inside one frame: a malformed frame is counted and dropped, and decoding starts afresh after
// the next 0x00. A run of bytes longer than any frame is not buffered: the reader discards
// until the next 0x00 and counts the run once, as 'overflow'. An empty frame (0x00 0x00) is
// idle line, not an error: a sender may send a lone 0x00 to mark a clean start.

import { FRAME_ERRORS, MAX_ENCODED, type FrameError } from './constants';
import { decodeFrame, type DecodeResult } from './frame';

export interface ReaderStats {
  bytes: number;
  frames: number;
  /** Frames dropped, all kinds together; equals the sum of `errors`. */
  malformed: number;
  errors: Record<FrameError, number>;
}

export function emptyReaderStats(): ReaderStats {
  const errors = Object.fromEntries(FRAME_ERRORS.map((e) => [e, 0])) as Record<FrameError, number>;
  return { bytes: 0, frames: 0, malformed: 0, errors };
}

export class FrameReader {
  private readonly buffer = new Uint8Array(MAX_ENCODED);
  private length = 0;
  private overflowing = false;
  private counters = emptyReaderStats();

  /** Feeds bytes; returns the frames they completed, valid and malformed, in order. */
  push(chunk: Uint8Array): DecodeResult[] {
    const results: DecodeResult[] = [];
    this.counters.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const zero = chunk.indexOf(0, start);
      const end = zero < 0 ? chunk.length : zero;
      this.append(chunk, start, end);
      if (zero < 0) break;
      const result = this.finishFrame();
      if (result) results.push(result);
      start = zero + 1;
    }
    return results;
  }

  /** Forgets a partial frame, e.g. when the port was closed in the middle of one. */
  reset(): void {
    this.length = 0;
    this.overflowing = false;
  }

  get stats(): ReaderStats {
    return { ...this.counters, errors: { ...this.counters.errors } };
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    if (this.overflowing || start === end) return;
    if (this.length + (end - start) > MAX_ENCODED) {
      this.overflowing = true;
      return;
    }
    this.buffer.set(chunk.subarray(start, end), this.length);
    this.length += end - start;
  }

  private finishFrame(): DecodeResult | null {
    const result: DecodeResult | null = this.overflowing
      ? { ok: false, error: 'overflow' }
      : this.length === 0
        ? null
        : decodeFrame(this.buffer.subarray(0, this.length));
    this.reset();
    if (result === null) return null;
    if (result.ok) {
      this.counters.frames++;
    } else {
      this.counters.malformed++;
      this.counters.errors[result.error]++;
    }
    return result;
  }
}
