// The host's events, checked against the contract before anyone hears them
// (the host's end of "validated at both ends"). Transports subscribe once and
// forward every event; a listener that throws is reported, never allowed to
// stop the others or the code that emitted.
import { type EventName, type EventOf, checkEvent } from '../../common/contract';

export type EventListener = (name: EventName, payload: unknown) => void;

export class HostEvents {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => undefined) {}

  /** Throws ContractError when the host itself breaks the contract: a bug to fix, not to hide. */
  emit<E extends EventName>(name: E, payload: EventOf<E>): void {
    const checked = checkEvent(name, payload);
    for (const listener of this.listeners) {
      try {
        listener(name, checked);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
