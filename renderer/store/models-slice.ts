// The engine (what is loaded, on which backend), the models to choose from
// (one listing: the library's and those outside it), and what fills the
// library: imports, downloads and the recommended models with their fit to
// this machine. Selecting a model loads it, which
// can take seconds: the slice keeps which path is loading so the view can say
// so, and the host's engine events keep the status itself current.
// Getting a model is one flow wherever it starts: import (or a download
// finishing) -> the models are listed again -> the model is loaded when asked
// (`load`, the first-run screen always asks) -> once it is ready, the companion.
import type { StateCreator } from 'zustand/vanilla';

import type { DownloadState, EngineStatus, HostApi, ModelEntry, ModelLibraryEntry, RecommendedList, ResponseOf } from '../../common/contract';
import { errorText } from './errors';
import type { UiState } from './store';

export interface DownloadRequest {
  url: string;
  sha256?: string;
  name?: string;
}

export type ModelPlan = ResponseOf<'models.plan'>;

export interface LibraryState {
  /** Newest state of every download the host reported, in the order first seen. */
  downloads: DownloadState[];
  recommended: RecommendedList | null;
  /** The path being imported, while it is. */
  importing: string | null;
  /** The last failure of an import, a download start or a library request, in one line. */
  error: string | null;
  /** Download ids whose model is loaded as soon as they are done. */
  loadWhenDone: string[];
  /** The user chose to look around without a model. */
  firstRunSkipped: boolean;
  /** Memory plans asked for, by path: the plan, or why there is none. */
  plans: Record<string, { plan: ModelPlan } | { error: string }>;
}

export interface ModelsSlice {
  engine: EngineStatus | null;
  /** Every model the UI can load; null until the host has answered models.list once. */
  models: ModelEntry[] | null;
  modelsState: { listing: boolean; selecting: string | null; error: string | null };
  library: LibraryState;
  setEngine: (engine: EngineStatus) => void;
  setModels: (models: ModelEntry[]) => void;
  /** Lists the models and the library's downloads again. */
  refreshModels: () => Promise<void>;
  selectModel: (path: string) => Promise<void>;
  /** Loads `path` and, once it is ready, shows the companion. */
  loadAndShow: (path: string) => Promise<void>;
  refreshRecommended: () => Promise<void>;
  importModel: (path: string, options: { load: boolean }) => Promise<void>;
  /** The desktop app's file dialog (null: cancelled); rejects where there is none (the browser). */
  pickModelFile: () => Promise<string | null>;
  startDownload: (request: DownloadRequest, options: { load: boolean }) => Promise<void>;
  pauseDownload: (id: string) => Promise<void>;
  resumeDownload: (id: string) => Promise<void>;
  cancelDownload: (id: string) => Promise<void>;
  /** A 'models.download' event, or an answer carrying a download's state. */
  downloadChanged: (download: DownloadState) => void;
  skipFirstRun: () => void;
  /** Asks the host for the memory plan of `path` (once; again after a failure). */
  planModel: (path: string) => Promise<void>;
}

/**
 * No model anywhere and none loading: the first-run screen, in the companion's
 * place (the other views stay reachable), unless the user skipped it or a
 * remote server answers instead.
 */
export function needsFirstRun(s: UiState): boolean {
  if (s.view !== 'companion' || s.library.firstRunSkipped) return false;
  // A remote server answers (the settings', or the command line's --remote): no local model is needed.
  if (s.settings?.remote.enabled === true || (s.remote !== null && s.remote.state !== 'off')) return false;
  if (s.engine === null || s.engine.model !== null || s.models === null) return false;
  // While a model the user asked for is imported or loaded, the screen stays,
  // showing that (a --model loading at start is not the user's doing).
  if (s.library.importing !== null || s.modelsState.selecting !== null) return true;
  return s.models.length === 0;
}

/** Why downloads cannot reach the network (the host's word, or a download that failed for want of it); null when they can. */
export function offlineReason(s: UiState): string | null {
  const network = s.library.recommended?.network;
  if (network?.offline === true) return network.reason ?? 'no network';
  for (const d of s.library.downloads) if (d.state === 'failed' && d.offline) return d.error;
  return null;
}

export const createModelsSlice =
  (host: HostApi): StateCreator<UiState, [], [], ModelsSlice> =>
  (set, get) => {
    const patchLibrary = (patch: Partial<LibraryState>) => set({ library: { ...get().library, ...patch } });
    const fail = (e: unknown) => patchLibrary({ error: errorText(e) });

    return {
      engine: null,
      models: null,
      modelsState: { listing: false, selecting: null, error: null },
      library: { downloads: [], recommended: null, importing: null, error: null, loadWhenDone: [], firstRunSkipped: false, plans: {} },
      setEngine: (engine) => set({ engine }),
      setModels: (models) => set({ models }),
      refreshModels: async () => {
        set({ modelsState: { ...get().modelsState, listing: true, error: null } });
        try {
          const { models, downloads } = await host.request('models.list', {});
          const seen = new Set(downloads.map((d) => d.id));
          // Keep downloads this UI saw that the host no longer lists (a cancelled one), after the host's own.
          set({
            models,
            modelsState: { ...get().modelsState, listing: false },
            library: { ...get().library, downloads: [...downloads, ...get().library.downloads.filter((d) => !seen.has(d.id))] },
          });
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
      loadAndShow: async (path) => {
        await get().selectModel(path);
        const { engine, modelsState } = get();
        // Ready: the point of it all. Anything else: the Models view says why.
        get().setView(engine?.state === 'ready' && modelsState.error === null ? 'companion' : 'models');
      },
      refreshRecommended: async () => {
        try {
          patchLibrary({ recommended: await host.request('models.recommended', {}) });
        } catch (e) {
          fail(e);
        }
      },
      importModel: async (path, { load }) => {
        patchLibrary({ importing: path, error: null });
        let entry: ModelLibraryEntry;
        try {
          entry = await host.request('models.import', { path });
        } catch (e) {
          patchLibrary({ importing: null, error: errorText(e) });
          return;
        }
        await get().refreshModels();
        // `importing` stays until the load is over, so the first-run screen does not flicker away and back.
        if (load) await get().loadAndShow(entry.path);
        patchLibrary({ importing: null });
      },
      pickModelFile: async () => (await host.request('models.pick_file', {})).path,
      startDownload: async (request, { load }) => {
        patchLibrary({ error: null });
        try {
          const d = await host.request('models.download.start', {
            url: request.url,
            ...(request.sha256 !== undefined && request.sha256 !== '' ? { sha256: request.sha256 } : {}),
            ...(request.name !== undefined && request.name !== '' ? { name: request.name } : {}),
          });
          // Its events may have come before this answer (the host sends them as
          // it goes): they are newer than the state the answer carries.
          const known = get().library.downloads.find((x) => x.id === d.id);
          if (known?.state === 'done') {
            if (load) await get().loadAndShow(known.path);
            return;
          }
          if (load) patchLibrary({ loadWhenDone: [...get().library.loadWhenDone, d.id] });
          if (known === undefined) get().downloadChanged(d);
        } catch (e) {
          fail(e);
        }
      },
      pauseDownload: async (id) => {
        try {
          get().downloadChanged(await host.request('models.download.pause', { id }));
        } catch (e) {
          fail(e);
        }
      },
      resumeDownload: async (id) => {
        try {
          get().downloadChanged(await host.request('models.download.resume', { id }));
        } catch (e) {
          fail(e);
        }
      },
      cancelDownload: async (id) => {
        try {
          get().downloadChanged(await host.request('models.download.cancel', { id }));
        } catch (e) {
          fail(e);
        }
      },
      downloadChanged: (d) => {
        const list = get().library.downloads;
        const at = list.findIndex((x) => x.id === d.id);
        const downloads = at < 0 ? [...list, d] : list.map((x, i) => (i === at ? d : x));
        const wanted = get().library.loadWhenDone.includes(d.id);
        const finished = d.state === 'done' || d.state === 'failed' || d.state === 'cancelled';
        patchLibrary({ downloads, ...(finished && wanted ? { loadWhenDone: get().library.loadWhenDone.filter((x) => x !== d.id) } : {}) });
        if (d.state !== 'done' || (at >= 0 && list[at]?.state === 'done')) return;
        // A new model in the library: list the models again (and the recommended list's in_library), and load it if asked.
        // The load goes first: the first-run screen stays while it runs (selecting), then the lists follow.
        void (async () => {
          if (wanted) await get().loadAndShow(d.path);
          await get().refreshModels();
          await get().refreshRecommended();
        })();
      },
      skipFirstRun: () => patchLibrary({ firstRunSkipped: true }),
      planModel: async (path) => {
        const known = get().library.plans[path];
        if (known !== undefined && 'plan' in known) return;
        let entry: { plan: ModelPlan } | { error: string };
        try {
          entry = { plan: await host.request('models.plan', { path }) };
        } catch (e) {
          entry = { error: errorText(e) };
        }
        patchLibrary({ plans: { ...get().library.plans, [path]: entry } });
      },
    };
  };
