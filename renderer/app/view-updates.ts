// React hears of the store's changes one task after they happen. A host
// message changes the store in its own task, and the reply's text is drawn
// there, outside React (ReplyText.tsx). Told at once, React would render the
// views the same change touches (the numbers, the Stop button, the reply's
// frame) in that task's microtasks, so the text reached the DOM only after
// them (a page profile on 2 cores put that render at 2.0 ms of the first
// token's task, profiler included). Told one task later, the text goes first,
// a frame that is due can paint it, and React renders what changed next:
// bench-press's page -> text p50 went from 1.1-1.2 to 0.9-1.0 ms. Several
// changes within a task make one notice, so React renders them in one pass,
// as it batches them anyway.
import type { UiStore } from '../store/store';

/** Runs `fn` in a task of its own, after the current one (and its microtasks). */
export type PostTask = (fn: () => void) => void;

/** A MessageChannel's message is a task of its own without setTimeout's clamping. */
export function postTask(): PostTask {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  return (fn) => {
    queue.push(fn);
    channel.port2.postMessage(null);
  };
}

export class ViewUpdates {
  private readonly listeners = new Set<() => void>();
  private posted = false;

  constructor(store: UiStore, post: PostTask = postTask()) {
    store.subscribe(() => {
      if (this.posted) return;
      this.posted = true;
      post(() => {
        this.posted = false;
        for (const l of [...this.listeners]) l();
      });
    });
  }

  /** For useSyncExternalStore: `listener` hears, a task late, that the store changed. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };
}
