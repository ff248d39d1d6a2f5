// What the host link tells its users: keyboard events with both clocks, and its own state.

import type { FrameError } from '../protocol';
import type { LinkStatus } from './link-state';

interface Timed {
  seq: number;
  /** When the host received it: Unix epoch ms, µs resolution (performance.timeOrigin + now()). */
  tHostMs: number;
}

export interface KeyEvent extends Timed {
  type: 'key';
  code: number;
  state: 'down' | 'up';
  /** The keyboard's clock at the edge, µs, u32 wrapping. */
  tDeviceUs: number;
  /** Edge to host receipt, ms, once the clocks are synchronised (after the first PONG). */
  latencyMs?: number;
}

export interface GpioEvent extends Timed {
  type: 'gpio';
  line: number;
  level: 0 | 1;
  tDeviceUs: number;
  latencyMs?: number;
}

export interface TextEvent extends Timed {
  type: 'text';
  text: string;
}

export type KeyboardEvent = KeyEvent | GpioEvent | TextEvent;

export interface LinkEvents {
  status: [LinkStatus];
  key: [KeyEvent];
  gpio: [GpioEvent];
  text: [TextEvent];
  /** A frame was dropped; the counters are in KeyboardLink.stats. */
  malformed: [FrameError];
  /** Something went wrong that did not end the link (a STATUS never acknowledged, ...). */
  warning: [string];
  /** The keyboard's clock is known again (the first PONG of a session): key latencies from now on. */
  clock: [];
}
