// Things the user must be told that are not the answer to a click: the
// host's notices (a corrupt settings file kept aside, a keyboard warning) and
// the UI's own (a message from the host that broke the contract). Each stays
// until dismissed; the host's are keyed by their id, so a notice that arrives
// both in the state snapshot and as an event shows once.
import type { StateCreator } from 'zustand/vanilla';

import type { Notice } from '../../common/contract/notice';
import type { UiState } from './store';

export interface UiNotice {
  key: string;
  level: Notice['level'];
  message: string;
  t_ms: number;
}

/** The most notices shown at once; older ones are dropped first. */
export const MAX_NOTICES = 20;

export interface NoticesSlice {
  notices: UiNotice[];
  /** Host notices already shown (and maybe dismissed): a snapshot must not bring them back. */
  seenNotices: ReadonlySet<string>;
  addHostNotice: (notice: Notice) => void;
  addUiNotice: (level: Notice['level'], message: string) => void;
  dismissNotice: (key: string) => void;
}

export const createNoticesSlice: StateCreator<UiState, [], [], NoticesSlice> = (set, get) => {
  let uiCount = 0;
  const add = (n: UiNotice): void => {
    const seen = new Set(get().seenNotices);
    seen.add(n.key);
    set({ notices: [...get().notices, n].slice(-MAX_NOTICES), seenNotices: seen });
  };
  return {
    notices: [],
    seenNotices: new Set(),
    addHostNotice: (notice) => {
      const key = `host-${notice.id}`;
      if (get().seenNotices.has(key)) return;
      add({ key, level: notice.level, message: notice.message, t_ms: notice.t_ms });
    },
    addUiNotice: (level, message) => {
      // The same problem repeated (a host that keeps sending a bad message) shows once.
      if (get().notices.some((n) => n.key.startsWith('ui-') && n.message === message)) return;
      add({ key: `ui-${++uiCount}`, level, message, t_ms: Date.now() });
    },
    dismissNotice: (key) => set({ notices: get().notices.filter((n) => n.key !== key) }),
  };
};
