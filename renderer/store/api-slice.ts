// The app's own OpenAI-compatible API on loopback: whether it listens, at
// which base URL, and the key clients send. Its status is the host's (the
// 'api' event); the slice adds renewing the key, after which every client
// needs the new one (the view asks first).
import type { StateCreator } from 'zustand/vanilla';

import type { ApiServerStatus, HostApi } from '../../common/contract';
import { errorText } from './errors';
import type { UiState } from './store';

export interface ApiSlice {
  /** null until the host has sent it. */
  api: ApiServerStatus | null;
  apiRequest: { renewing: boolean; error: string | null };
  setApi: (status: ApiServerStatus) => void;
  /** Replaces the key; resolves true when the host did. */
  renewApiKey: () => Promise<boolean>;
}

export const createApiSlice =
  (host: HostApi): StateCreator<UiState, [], [], ApiSlice> =>
  (set) => ({
    api: null,
    apiRequest: { renewing: false, error: null },
    setApi: (api) => set({ api }),
    renewApiKey: async () => {
      set({ apiRequest: { renewing: true, error: null } });
      try {
        const api = await host.request('api.key.renew', {});
        set({ api, apiRequest: { renewing: false, error: null } });
        return true;
      } catch (e) {
        set({ apiRequest: { renewing: false, error: errorText(e) } });
        return false;
      }
    },
  });
