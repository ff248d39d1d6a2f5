// Saves that never overlap and never go backwards. Callers change the state
// in memory and call save(); at most one write runs at a time, and saves
// asked for while it runs are coalesced into the next one, which writes the
// state as it is then. A save() resolves once a write that started after it
// was asked for has reached the disk: when it resolves, the change is
// acknowledged (it survives a crash).
export class SerialWriter {
  private requested = 0;
  private written = 0;
  private running = false;
  private waiters: { ticket: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  /** `write` persists the state as it is when called (it takes its own snapshot). */
  constructor(private readonly write: () => Promise<void>) {}

  save(): Promise<void> {
    const ticket = ++this.requested;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ ticket, resolve, reject }));
    if (!this.running) void this.run();
    return done;
  }

  /** Resolves when every save asked for so far has settled. */
  async flush(): Promise<void> {
    if (this.requested === this.written && !this.running) return;
    await this.save().catch(() => undefined);
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.written < this.requested) {
      const upTo = this.requested;
      try {
        await this.write();
        this.written = upTo;
        this.settle(upTo, undefined);
      } catch (e) {
        // The saves this write covered failed; later ones get a fresh try.
        this.written = upTo;
        this.settle(upTo, e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.running = false;
  }

  private settle(upTo: number, error: Error | undefined): void {
    const done = this.waiters.filter((w) => w.ticket <= upTo);
    this.waiters = this.waiters.filter((w) => w.ticket > upTo);
    for (const w of done) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }
}
