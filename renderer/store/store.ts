// The one store of the UI (zustand, vanilla so tests need no React), built
// from typed slices, each with its own actions. Slices that talk to the host
// get the HostApi when the store is made; nothing else in the store knows
// which transport is behind it.
import { createStore, type StoreApi } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import { createApiSlice, type ApiSlice } from './api-slice';
import { createAppSlice, type AppSlice } from './app-slice';
import { createCharactersSlice, type CharactersSlice } from './characters-slice';
import { createClockSlice, type ClockSlice } from './clock-slice';
import { createConversationSlice, type ConversationSlice } from './conversation-slice';
import { createDeviceSlice, type DeviceSlice } from './device-slice';
import { createModelsSlice, type ModelsSlice } from './models-slice';
import { createNoticesSlice, type NoticesSlice } from './notices-slice';
import { createPerformanceSlice, type PerformanceSlice } from './performance-slice';
import { createRemoteSlice, type RemoteSlice } from './remote-slice';
import { createReplySlice, type ReplySlice } from './reply-slice';
import { createSessionSlice, type SessionSlice } from './session-slice';
import { createSettingsSlice, type SettingsSlice } from './settings-slice';
import { createTelemetrySlice, type TelemetrySlice } from './telemetry-slice';

export type UiState = AppSlice &
  ClockSlice &
  SessionSlice &
  ReplySlice &
  PerformanceSlice &
  TelemetrySlice &
  DeviceSlice &
  SettingsSlice &
  ModelsSlice &
  RemoteSlice &
  ApiSlice &
  ConversationSlice &
  CharactersSlice &
  NoticesSlice;

export type UiStore = StoreApi<UiState>;

export function createUiStore(host: HostApi): UiStore {
  return createStore<UiState>()((...a) => ({
    ...createAppSlice(...a),
    ...createClockSlice(host)(...a),
    ...createSessionSlice(host)(...a),
    ...createReplySlice(host)(...a),
    ...createPerformanceSlice(host)(...a),
    ...createTelemetrySlice(...a),
    ...createDeviceSlice(...a),
    ...createSettingsSlice(host)(...a),
    ...createModelsSlice(host)(...a),
    ...createRemoteSlice(host)(...a),
    ...createApiSlice(host)(...a),
    ...createConversationSlice(host)(...a),
    ...createCharactersSlice(host)(...a),
    ...createNoticesSlice(...a),
  }));
}
