// The key-press session: the host's session state (idle, listening, thinking,
// replying, error), the AI key as the host saw it last, and the on-screen
// key's own pressed state. The on-screen key shows "down" from the moment the
// pointer or keyboard presses it, before the host answers, so the button
// never lags the finger; the host's KeyState is the truth for every other
// source (the keyboard, GPIO, the global shortcut). What a second press while
// replying means (cancel) is the host's policy, not the UI's.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { KeyState, SessionStatus } from '../../common/contract/session';
import { errorText } from './errors';
import type { UiState } from './store';

export type UiKeySource = 'screen' | 'shortcut';

export interface SessionSlice {
  session: SessionStatus;
  key: KeyState;
  /** The on-screen key is held by this window (pointer, Space or Enter). */
  screenKeyHeld: boolean;
  /** The last key request the host refused, in words; cleared by the next press. */
  keyError: string | null;
  setSession: (status: SessionStatus) => void;
  setKey: (key: KeyState) => void;
  pressKey: (source: UiKeySource) => Promise<void>;
  releaseKey: (source: UiKeySource) => Promise<void>;
}

export const IDLE_SESSION: SessionStatus = { state: 'idle', press_id: null, typed: '', message: null };
export const KEY_UP: KeyState = { down: false, source: null, t_ms: 0 };

export const createSessionSlice =
  (host: HostApi): StateCreator<UiState, [], [], SessionSlice> =>
  (set, get) => {
    const send = async (name: 'key.press' | 'key.release', source: UiKeySource): Promise<void> => {
      try {
        set({ session: await host.request(name, { source }) });
      } catch (e) {
        set({ keyError: errorText(e) });
      }
    };
    return {
      session: IDLE_SESSION,
      key: KEY_UP,
      screenKeyHeld: false,
      keyError: null,
      setSession: (session) => set({ session }),
      setKey: (key) => set({ key }),
      pressKey: async (source) => {
        // Auto-repeat of a held Space/Enter must not become a second press (which would cancel).
        if (get().screenKeyHeld) return;
        set({ screenKeyHeld: true, keyError: null });
        await send('key.press', source);
      },
      releaseKey: async (source) => {
        if (!get().screenKeyHeld) return;
        set({ screenKeyHeld: false });
        await send('key.release', source);
      },
    };
  };

/** What the AI key shows: down while this window holds it or the host says it is down. */
export function aiKeyState(s: Pick<SessionSlice, 'key' | 'screenKeyHeld'>): 'down' | 'up' {
  return s.screenKeyHeld || s.key.down ? 'down' : 'up';
}
