// The API's requests in line for the engine: one runs at a time, up to
// `maxWaiting` more wait in order of arrival, and one more is refused at once
// (429) rather than kept waiting without end. A request whose client goes
// away while it waits leaves the line.
//
// The line is the API's own, in front of the engine's queue (EngineService,
// which also serializes the key presses): only the running request is in the
// engine's queue, so a key press waits for at most that one, never for the
// whole line.

/** Requests that may wait while one runs; the next is answered 429. */
export const MAX_WAITING_REQUESTS = 16;

export class QueueFull extends Error {
  override readonly name = 'QueueFull';
  constructor(readonly waiting: number) {
    super(`${waiting} requests are already waiting`);
  }
}

export class LeftTheQueue extends Error {
  override readonly name = 'LeftTheQueue';
  constructor() {
    super('the client went away while its request waited');
  }
}

interface Waiter {
  start: () => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class RequestQueue {
  private running = false;
  private readonly line: Waiter[] = [];

  constructor(readonly maxWaiting = MAX_WAITING_REQUESTS) {}

  get waiting(): number {
    return this.line.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Whether one more request would be refused now. */
  get full(): boolean {
    return this.running && this.line.length >= this.maxWaiting;
  }

  /** Runs `work` when its turn comes; QueueFull at once when the line is full, LeftTheQueue if `signal` aborts first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) throw new LeftTheQueue();
    if (this.running) {
      if (this.line.length >= this.maxWaiting) throw new QueueFull(this.line.length);
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          start: resolve,
          signal,
          onAbort: () => {
            const i = this.line.indexOf(waiter);
            if (i >= 0) this.line.splice(i, 1);
            reject(new LeftTheQueue());
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        this.line.push(waiter);
      });
    }
    // The turn is this request's: `running` stays true from the one before (see next()).
    this.running = true;
    try {
      return await work();
    } finally {
      this.next();
    }
  }

  private next(): void {
    const waiter = this.line.shift();
    if (waiter === undefined) {
      this.running = false;
      return;
    }
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.start();
  }
}
