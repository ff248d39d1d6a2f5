// Tokens on their way to the UI, handed over at most once per display frame.
// The first token that shows something goes at once (a reply's first
// visible word is the latency a user waits for), and so does a token that
// comes after a quiet frame; tokens that come faster wait for the frame's end
// and go together as one reply.token event. What shows nothing before the
// first visible word (models often begin with a space or a newline) waits for
// that word and goes with it: sent alone it cost each window a message, a
// parse and a render just before the word, on the cores the word then
// waited for. A reasoning model's thinking travels beside its answer (each
// token's text split by common/thinking.ts), and counts as shown.
// A screen shows no more than a frame's worth anyway, and every event costs
// the host a contract check, a serialisation and a write, and each window a
// parse and a render: at a few hundred tokens a second that work competed
// with the engine for the same cores. flush() sends what waits at once (the
// reply is over).
import type { ReplyToken } from '../../../common/contract';
import { showsText } from '../../../common/thinking';

/** A 60 Hz frame. */
export const TOKEN_FRAME_MS = 16;
/**
 * How long the engine may hold tokens once the reply shows text: a quarter
 * frame, so tokens still reach the batcher several times a frame, while a
 * model whose token takes tens of microseconds wakes the host a few times a
 * reply instead of once a token (see native/addon/generate_worker.cpp).
 */
export const ENGINE_HOLD_MS = TOKEN_FRAME_MS / 4;
/** Reply length that adds a millisecond to the frame (see above). */
export const REPLY_CHARS_PER_MS = 128;

export interface BatchedToken {
  index: number;
  /** The answer's part of the token's text. */
  text: string;
  /** The thinking's part; absent when none. */
  thinking?: string;
  tMs: number;
}

export class TokenBatcher {
  private pending: { index: number; count: number; text: string; thinking: string; tMs: number } | null = null;
  private lastSentAt = -Infinity;
  /** Whether the text sent so far shows anything. */
  private visible = false;
  private sentChars = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly pressId: string,
    private readonly send: (token: ReplyToken) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly frameMs = TOKEN_FRAME_MS,
  ) {}

  push(t: BatchedToken): void {
    if (this.pending === null) this.pending = { index: t.index, count: 0, text: '', thinking: '', tMs: t.tMs };
    this.pending.count++;
    this.pending.text += t.text;
    if (t.thinking !== undefined) this.pending.thinking += t.thinking;
    this.pending.tMs = t.tMs;
    if (!this.visible) {
      if (showsText(this.pending.text, this.pending.thinking)) this.flush();
      return;
    }
    const frame = Math.max(this.frameMs, this.sentChars / REPLY_CHARS_PER_MS);
    const wait = this.lastSentAt + frame - this.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.lastSentAt = this.now();
    this.visible ||= showsText(p.text, p.thinking);
    this.sentChars += p.text.length + p.thinking.length;
    const token: ReplyToken = { press_id: this.pressId, index: p.index, text: p.text, t_ms: p.tMs };
    if (p.count > 1) token.count = p.count;
    if (p.thinking !== '') token.thinking = p.thinking;
    this.send(token);
  }
}
