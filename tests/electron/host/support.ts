// Helpers for the host's tests: a Host on a fresh data folder with the real
// stories260K model, and waiting for its events.
import type { TestContext } from 'node:test';

import type { EventName, EventOf, Settings } from '../../../common/contract';
import { Host, type HostOptions } from '../../../electron/host/host';
import { SettingsStore } from '../../../electron/host/storage/settings-store';
import { stories, tempDir } from '../../support/repo';

export interface Seen {
  name: EventName;
  payload: unknown;
}

export interface Rig {
  host: Host;
  home: string;
  events: Seen[];
  /** The payloads of one event, in order. */
  of: <E extends EventName>(name: E) => EventOf<E>[];
  /**
   * Resolves with the next event of that name that matches: the first one
   * after the last that next() returned for that name, whether it has already
   * happened (handlers emit synchronously) or is still to come.
   */
  next: <E extends EventName>(name: E, match?: (p: EventOf<E>) => boolean, timeoutMs?: number) => Promise<EventOf<E>>;
}

/** Small, quick replies: greedy, 16 tokens, a short persona. */
export const QUICK: Partial<Settings> = { max_tokens: 16, temperature: 0, persona: 'Tell a story.', threads: 1 };

export async function startHost(t: TestContext, options: Partial<HostOptions> = {}, settings: Partial<Settings> = QUICK): Promise<Rig> {
  const home = options.home ?? tempDir('keymate-host-');
  // Settings written before the start, as a returning user's would be: the model loads once, with them.
  if (Object.keys(settings).length > 0) await (await SettingsStore.open(home)).store.update(settings);
  const host = await Host.start({ home, transport: 'websocket', model: stories(), keyboard: false, log: () => undefined, ...options });
  t.after(() => host.stop());
  const events: Seen[] = [];
  const waiters = new Set<() => void>();
  const cursor = new Map<EventName, number>();
  host.subscribe((name, payload) => {
    events.push({ name, payload });
    for (const w of [...waiters]) w();
  });
  const rig: Rig = {
    host,
    home,
    events,
    of: <E extends EventName>(name: E) => events.filter((e) => e.name === name).map((e) => e.payload as EventOf<E>),
    next: <E extends EventName>(name: E, match: (p: EventOf<E>) => boolean = () => true, timeoutMs = 20_000) => {
      return new Promise<EventOf<E>>((resolve, reject) => {
        let from = cursor.get(name) ?? 0;
        const check = (): void => {
          for (; from < events.length; from++) {
            const e = events[from];
            if (e !== undefined && e.name === name && match(e.payload as EventOf<E>)) {
              cursor.set(name, from + 1);
              waiters.delete(check);
              clearTimeout(timer);
              resolve(e.payload as EventOf<E>);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for event '${name}'`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  // The model loads in the background from the start; tests begin with it ready.
  if (options.model !== null && host.state().engine.state !== 'ready') await rig.next('engine', (s) => s.state === 'ready' || s.state === 'error');
  return rig;
}
