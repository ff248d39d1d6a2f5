// The `stop` sequences of a request, applied to the reply as it streams: the
// text is let through as soon as it cannot be the start of a stop sequence,
// the tail that still could be ("\n\nUs" of "\n\nUser:") is held until the
// next token settles it, and at the first complete sequence the reply ends,
// the sequence itself never sent. A token that ends inside one sequence and
// a next one that completes it stop the reply exactly as one token holding
// the whole sequence would, so a streamed reply and a whole one are the same
// text.

export class StopScanner {
  private held = '';
  private done = false;
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** True once a stop sequence has been seen: the reply is over. */
  get stopped(): boolean {
    return this.done;
  }

  /** The next piece of the reply: what may be sent now ('' once stopped). */
  push(text: string): string {
    if (this.done) return '';
    if (this.stops.length === 0) return text;
    const s = this.held + text;
    const at = this.firstStop(s);
    const keep = this.partialAtEnd(s);
    // A complete sequence ends the reply, unless a longer one that starts
    // before it may still complete ("U:b" over ":" in "U:" + "b"): then all
    // from that start is held until the next piece, or the end, settles it.
    if (at >= 0 && (keep === 0 || s.length - keep >= at)) {
      this.done = true;
      this.held = '';
      return s.slice(0, at);
    }
    this.held = s.slice(s.length - keep);
    return s.slice(0, s.length - keep);
  }

  /** The reply ended on its own: what was held back was text after all, up to a sequence it holds complete. */
  end(): string {
    const rest = this.held;
    this.held = '';
    if (this.done) return '';
    const at = this.firstStop(rest);
    if (at < 0) return rest;
    this.done = true;
    return rest.slice(0, at);
  }

  /** Where the first complete stop sequence in `s` starts, or -1. */
  private firstStop(s: string): number {
    let at = -1;
    for (const stop of this.stops) {
      const i = s.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  }

  /** How many characters at the end of `s` begin some stop sequence (the longest such tail). */
  private partialAtEnd(s: string): number {
    for (let n = Math.min(this.longest - 1, s.length); n > 0; n--) {
      const tail = s.slice(s.length - n);
      if (this.stops.some((stop) => stop.startsWith(tail))) {
        // Never split a surrogate pair between what is sent and what is held.
        const first = s.charCodeAt(s.length - n);
        return first >= 0xdc00 && first <= 0xdfff && n < s.length ? n + 1 : n;
      }
    }
    return 0;
  }
}
