// Past replies (the host's history, newest first), for the Companion view's
// list under the current reply.
import type { StateCreator } from 'zustand/vanilla';

import type { HistoryEntry } from '../../common/contract/records';
import type { UiState } from './store';

export const MAX_HISTORY = 50;

export interface HistorySlice {
  history: HistoryEntry[];
  setHistory: (entries: HistoryEntry[]) => void;
  addHistory: (entry: HistoryEntry) => void;
}

export const createHistorySlice: StateCreator<UiState, [], [], HistorySlice> = (set, get) => ({
  history: [],
  setHistory: (entries) => set({ history: [...entries].sort((a, b) => b.t_ms - a.t_ms).slice(0, MAX_HISTORY) }),
  addHistory: (entry) => {
    const rest = get().history.filter((h) => h.press_id !== entry.press_id);
    set({ history: [entry, ...rest].sort((a, b) => b.t_ms - a.t_ms).slice(0, MAX_HISTORY) });
  },
});
