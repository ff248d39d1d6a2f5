// The window itself: which view is shown, and the link to the host (the
// transport's state, the app's version). "closed" is a state the UI must show
// plainly: everything else on screen is then the last thing the host said.
import type { StateCreator } from 'zustand/vanilla';

import type { UiState } from './store';

export const VIEWS = ['companion', 'performance', 'telemetry', 'settings', 'device', 'models', 'chats'] as const;
export type ViewId = (typeof VIEWS)[number];

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface AppSlice {
  view: ViewId;
  connection: { state: ConnectionState; message: string | null; transport: 'ipc' | 'websocket' | null; version: string | null };
  setView: (view: ViewId) => void;
  setConnection: (patch: Partial<AppSlice['connection']>) => void;
}

export const createAppSlice: StateCreator<UiState, [], [], AppSlice> = (set, get) => ({
  view: 'companion',
  connection: { state: 'connecting', message: null, transport: null, version: null },
  setView: (view) => set({ view }),
  setConnection: (patch) => set({ connection: { ...get().connection, ...patch } }),
});
