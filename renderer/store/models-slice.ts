// The engine (what is loaded, on which backend) and the models to choose
// from. Selecting a model loads it, which can take seconds: the slice keeps
// which path is loading so the view can say so, and the host's engine events
// (loading, ready, error) keep the status itself current.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { EngineStatus, ModelEntry } from '../../common/contract/engine';
import { errorText } from './errors';
import type { UiState } from './store';

export interface ModelsSlice {
  engine: EngineStatus | null;
  models: ModelEntry[];
  modelsState: { listing: boolean; selecting: string | null; error: string | null };
  setEngine: (engine: EngineStatus) => void;
  setModels: (models: ModelEntry[]) => void;
  refreshModels: () => Promise<void>;
  selectModel: (path: string) => Promise<void>;
}

export const createModelsSlice =
  (host: HostApi): StateCreator<UiState, [], [], ModelsSlice> =>
  (set, get) => ({
    engine: null,
    models: [],
    modelsState: { listing: false, selecting: null, error: null },
    setEngine: (engine) => set({ engine }),
    setModels: (models) => set({ models }),
    refreshModels: async () => {
      set({ modelsState: { ...get().modelsState, listing: true, error: null } });
      try {
        const { models } = await host.request('models.list', {});
        set({ models, modelsState: { ...get().modelsState, listing: false } });
      } catch (e) {
        set({ modelsState: { ...get().modelsState, listing: false, error: errorText(e) } });
      }
    },
    selectModel: async (path) => {
      set({ modelsState: { ...get().modelsState, selecting: path, error: null } });
      try {
        const engine = await host.request('models.select', { path });
        set({ engine, modelsState: { ...get().modelsState, selecting: null } });
        // The selection is remembered in the settings; the list marks it.
        await get().refreshModels();
      } catch (e) {
        set({ modelsState: { ...get().modelsState, selecting: null, error: errorText(e) } });
      }
    },
  });
