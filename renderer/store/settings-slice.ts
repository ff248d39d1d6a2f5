// The settings in force (the host's; it validates, migrates and saves them)
// and the state of a save. The Settings view edits a draft of its own and
// sends only what changed; the host answers with the settings now in force,
// which replace ours, so the UI never shows a value the host refused.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { Settings, SettingsPatch } from '../../common/contract/settings';
import { errorText } from './errors';
import type { UiState } from './store';

export interface SettingsSlice {
  /** null until the host has sent them. */
  settings: Settings | null;
  settingsSave: { saving: boolean; error: string | null };
  setSettings: (settings: Settings) => void;
  /** Resolves true when the host took the change. */
  saveSettings: (patch: SettingsPatch) => Promise<boolean>;
}

export const createSettingsSlice =
  (host: HostApi): StateCreator<UiState, [], [], SettingsSlice> =>
  (set) => ({
    settings: null,
    settingsSave: { saving: false, error: null },
    setSettings: (settings) => set({ settings }),
    saveSettings: async (patch) => {
      set({ settingsSave: { saving: true, error: null } });
      try {
        const settings = await host.request('settings.set', { patch });
        set({ settings, settingsSave: { saving: false, error: null } });
        return true;
      } catch (e) {
        set({ settingsSave: { saving: false, error: errorText(e) } });
        return false;
      }
    },
  });

/** The fields of draft that differ from current: the patch a save sends. An object field (thermal) is compared by value. */
export function settingsPatch(current: Settings, draft: Settings): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(draft) as (keyof Settings)[]) {
    const a = draft[key];
    const b = current[key];
    const same = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? JSON.stringify(a) === JSON.stringify(b) : a === b;
    if (!same) patch[key] = a;
  }
  return patch;
}
