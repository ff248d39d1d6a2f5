// A reply's start is drawn with its first token, or one display frame after
// it arrived when no token came by then (a long prefill). Drawn on its own,
// the start (the previous reply cleared, the prompt shown, the view's state)
// costs the page a frame of style, layout and paint, and the first token's
// message, queued behind that frame, reached the text 5-15 ms later
// (scripts/bench-press.ts, 2 cores). Held, both land in one task and one
// frame; a start that lasts less than a frame is never seen anyway. The host
// holds a press's key, session and LED changes by the same rule.
import type { ReplyStart } from '../../common/contract/session';

/** One display frame at 60 Hz. */
export const START_FRAME_MS = 16;

export class HeldStart {
  private held: ReplyStart | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `apply` draws a start; `frameMs` is how long one may wait for its token. */
  constructor(
    private readonly apply: (start: ReplyStart) => void,
    private readonly frameMs = START_FRAME_MS,
  ) {}

  /** A reply started: drawn by the next flush(), or after a frame. An older start still held is drawn first. */
  hold(start: ReplyStart): void {
    this.flush();
    this.held = start;
    this.timer = setTimeout(() => this.flush(), this.frameMs);
  }

  /** Draws the held start now: call it before any other event of a reply (token, done, error). */
  flush(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.apply(held);
  }

  /** Forgets a held start (the window is going away). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.held = null;
  }
}
