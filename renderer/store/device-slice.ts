// The keyboard link's status as the host reports it. Before the first report
// the UI says "unknown" rather than guessing "disconnected".
import type { StateCreator } from 'zustand/vanilla';

import type { DeviceStatus } from '../../common/contract/device';
import type { UiState } from './store';

export interface DeviceSlice {
  device: DeviceStatus | null;
  setDevice: (status: DeviceStatus) => void;
}

export const createDeviceSlice: StateCreator<UiState, [], [], DeviceSlice> = (set) => ({
  device: null,
  setDevice: (device) => set({ device }),
});

/** The word the device-status hook shows: the link state, or "unknown" before the host said. */
export function deviceWord(s: Pick<DeviceSlice, 'device'>): string {
  return s.device === null ? 'unknown' : s.device.state;
}
