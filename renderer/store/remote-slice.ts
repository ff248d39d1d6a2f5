// The remote engine: an OpenAI-compatible server answering in place of the
// local engine when Settings.remote.enabled is on. Its status is the host's
// (the 'remote' event); the slice adds asking the server again and saving the
// key sent to it. The key is write-only: the host never sends it back, only
// where one comes from (RemoteStatus.key).
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi, RemoteStatus } from '../../common/contract';
import { errorText } from './errors';
import type { UiState } from './store';

export interface RemoteSlice {
  /** null until the host has sent it. */
  remote: RemoteStatus | null;
  /** A request in flight, and the last one's failure in one line (a check that reaches the host but not the server is a status, not this). */
  remoteRequest: { checking: boolean; savingKey: boolean; error: string | null };
  setRemote: (status: RemoteStatus) => void;
  /** Asks the server again what it serves. */
  checkRemote: () => Promise<void>;
  /** Saves the key sent to the server ('' removes it); resolves true when the host took it. */
  saveRemoteKey: (key: string) => Promise<boolean>;
}

export const createRemoteSlice =
  (host: HostApi): StateCreator<UiState, [], [], RemoteSlice> =>
  (set, get) => {
    const request = (patch: Partial<RemoteSlice['remoteRequest']>) => set({ remoteRequest: { ...get().remoteRequest, ...patch } });
    return {
      remote: null,
      remoteRequest: { checking: false, savingKey: false, error: null },
      setRemote: (remote) => set({ remote }),
      checkRemote: async () => {
        request({ checking: true, error: null });
        try {
          const remote = await host.request('remote.check', {});
          set({ remote });
          request({ checking: false });
        } catch (e) {
          request({ checking: false, error: errorText(e) });
        }
      },
      saveRemoteKey: async (key) => {
        request({ savingKey: true, error: null });
        try {
          const remote = await host.request('remote.key.set', { key });
          set({ remote });
          request({ savingKey: false });
          return true;
        } catch (e) {
          request({ savingKey: false, error: errorText(e) });
          return false;
        }
      },
    };
  };

/** Who answers when the remote is on: its model (null until known), the server's host:port, and its state; null when the local engine answers. */
export interface RemoteAnswer {
  model: string | null;
  host: string;
  state: RemoteStatus['state'];
  message: string | null;
}

/**
 * The remote answering, or null while the local engine answers. On when the
 * settings' switch is (the status may lag it by a check) or when the status is
 * not off (keymate serve --remote turns one on for a run, whatever the
 * settings say). A new object each call: select `settings` and `remote` from
 * the store and call it in the render.
 */
export function remoteAnswer(s: Pick<UiState, 'settings' | 'remote'>): RemoteAnswer | null {
  const status = s.remote !== null && s.remote.state !== 'off' ? s.remote : null;
  const chosen = s.settings?.remote.enabled === true ? s.settings.remote : null;
  if (status === null && chosen === null) return null;
  return {
    model: status?.model ?? (chosen !== null && chosen.model !== '' ? chosen.model : null),
    host: urlHost(status !== null && status.url !== '' ? status.url : (chosen?.url ?? '')),
    state: status?.state ?? 'checking',
    message: status?.message ?? null,
  };
}

/** "gpu-box:8000" from "http://gpu-box:8000/v1"; the text itself when it is not a URL. */
export function urlHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** Where the key sent to the server comes from, in words. */
export function remoteKeyWords(key: RemoteStatus['key']): string {
  return key === 'environment' ? 'key from KEYMATE_REMOTE_API_KEY' : key === 'saved' ? 'key saved' : 'no key';
}
