// A reply's start is drawn with its first visible text, or one display frame
// after it arrived when no such text came by then (a long prefill). Drawn on
// its own, the start (the previous reply cleared, the prompt shown, the view's
// state) costs the page a frame of style, layout and paint, and the first
// token's message, queued behind that frame, reached the text 5-15 ms later
// (scripts/bench-press.ts, 2 cores). Held, both land in one task and one
// frame; a start that lasts less than a frame is never seen anyway.
// Tokens that show nothing (the space many tokenizers emit first, which the
// view strips; a character split across tokens) are held with the start for
// the same reason: applied alone they would start the reply and draw its
// frame, and the word after them would wait behind it. The host holds a
// press's key, session and LED changes by the same rule.
import type { ReplyStart, ReplyToken } from '../../common/contract/session';
import { showsText } from '../../common/thinking';

/** One display frame at 60 Hz. */
export const START_FRAME_MS = 16;


export class HeldStart {
  private held: ReplyStart | null = null;
  private tokens: ReplyToken[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `apply` draws a start, `applyToken` a token; `frameMs` is how long a start may wait for text. */
  constructor(
    private readonly apply: (start: ReplyStart) => void,
    private readonly applyToken: (token: ReplyToken) => void,
    private readonly frameMs = START_FRAME_MS,
  ) {}

  /** A reply started: drawn by the next flush() or visible token, or after a frame. An older start still held is drawn first. */
  hold(start: ReplyStart): void {
    this.flush();
    this.held = start;
    this.timer = setTimeout(() => this.flush(), this.frameMs);
  }

  /** A token: held with its reply's start while it shows nothing, else drawn at once (after the start). */
  token(token: ReplyToken): void {
    if (this.held !== null && this.held.press_id === token.press_id && !showsText(token.text, token.thinking)) {
      this.tokens.push(token);
      return;
    }
    this.flush();
    this.applyToken(token);
  }

  /** Draws the held start and its tokens now: call it before any other event of a reply (done, error). */
  flush(): void {
    const held = this.held;
    if (held === null) return;
    const tokens = this.tokens;
    this.held = null;
    this.tokens = [];
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.apply(held);
    for (const t of tokens) this.applyToken(t);
  }

  /** Forgets a held start (the window is going away). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.held = null;
    this.tokens = [];
  }
}
