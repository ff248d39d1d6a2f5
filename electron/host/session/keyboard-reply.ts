// The reply on the keyboard's display, while it streams. The link sends one
// reply as REPLY frames, each acknowledged before the next; the first clears
// the display and the rest append (KeyboardLink.openReply). So the display
// gets the new text each time KEYBOARD_UPDATE_CHARS more characters have
// arrived, and the rest at the end: a handful of updates per reply, not one
// per token, and each carries only its new text, so what a reply costs the
// link grows with its length, not with its length squared.
import type { ReplyStream } from '../../../firmware-bridge';

export const KEYBOARD_UPDATE_CHARS = 64;

export class KeyboardReply {
  private pending = '';
  /** Opened at the first update; null when there is no display. */
  private stream: ReplyStream | null | undefined;

  /** `open` starts a reply on the display; null when there is none. */
  constructor(private readonly open: () => ReplyStream | null) {}

  append(piece: string): void {
    this.pending += piece;
    if (this.pending.length >= KEYBOARD_UPDATE_CHARS) this.flush(false);
  }

  finish(): void {
    // A reply that showed nothing and has nothing to show leaves the display as it is.
    if (this.stream === undefined && this.pending === '') return;
    this.flush(true);
  }

  private flush(last: boolean): void {
    if (this.stream === undefined) this.stream = this.open();
    const text = this.pending;
    this.pending = '';
    if (this.stream === null) return;
    if (last) this.stream.end(text);
    else this.stream.append(text);
  }
}
