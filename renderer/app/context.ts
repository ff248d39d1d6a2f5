// How components reach the store and the chart series: one React context
// made in main.tsx, and a typed selector hook that renders the store's
// changes a task after they happen (view-updates.ts says why).
import { createContext, useContext, useSyncExternalStore } from 'react';

import type { TelemetrySeries } from '../charts/telemetry-series';
import type { UiState, UiStore } from '../store/store';
import type { ViewUpdates } from './view-updates';

export interface UiContext {
  store: UiStore;
  series: TelemetrySeries;
  /** The store's changes, told a task late: what useUi re-renders on. */
  views: ViewUpdates;
}

export const Ui = createContext<UiContext | null>(null);

function useUiContext(): UiContext {
  const ctx = useContext(Ui);
  if (ctx === null) throw new Error('useUi: no <Ui.Provider> above this component');
  return ctx;
}

/** A slice of the store; re-renders when the selected value changes (Object.is), a task after the change. */
export function useUi<T>(selector: (s: UiState) => T): T {
  const { store, views } = useUiContext();
  const get = () => selector(store.getState());
  return useSyncExternalStore(views.subscribe, get, get);
}

/** The store itself, for a component that draws from it outside React's renders (ReplyText). */
export function useUiStore(): UiStore {
  return useUiContext().store;
}

export function useSeries(): TelemetrySeries {
  return useUiContext().series;
}
