// How components reach the store and the chart series: one React context
// made in main.tsx, and a typed selector hook over zustand's useStore.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';

import type { TelemetrySeries } from '../charts/telemetry-series';
import type { UiState, UiStore } from '../store/store';

export interface UiContext {
  store: UiStore;
  series: TelemetrySeries;
}

export const Ui = createContext<UiContext | null>(null);

function useUiContext(): UiContext {
  const ctx = useContext(Ui);
  if (ctx === null) throw new Error('useUi: no <Ui.Provider> above this component');
  return ctx;
}

/** A slice of the store; re-renders when the selected value changes (Object.is). */
export function useUi<T>(selector: (s: UiState) => T): T {
  return useStore(useUiContext().store, selector);
}

/** The store itself, for a component that draws from it outside React's renders (ReplyText). */
export function useUiStore(): UiStore {
  return useUiContext().store;
}

export function useSeries(): TelemetrySeries {
  return useUiContext().series;
}
