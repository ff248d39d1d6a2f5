// The reply on the keyboard's display, while it streams. The link sends a
// reply as REPLY frames in chunks, each acknowledged before the next; a new
// reply replaces what the display shows. So the display gets the text so far
// each time KEYBOARD_UPDATE_CHARS more characters have arrived, and the whole
// reply at the end: a handful of updates per reply, not one per token, which
// keeps a slow keyboard from falling behind.
export const KEYBOARD_UPDATE_CHARS = 64;

export class KeyboardReply {
  private text = '';
  private shownLength = -1;

  /** `show` sends the text to the display; false when there is no display. */
  constructor(private readonly show: (text: string) => boolean) {}

  append(piece: string): void {
    this.text += piece;
    if (this.text.length - Math.max(0, this.shownLength) >= KEYBOARD_UPDATE_CHARS) this.flush();
  }

  finish(): void {
    if (this.text !== '' && this.shownLength !== this.text.length) this.flush();
  }

  private flush(): void {
    this.show(this.text);
    this.shownLength = this.text.length;
  }
}
