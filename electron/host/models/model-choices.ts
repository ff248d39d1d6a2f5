// The models the UI can load (models.list): the library's (models/ in the data
// folder, as ModelLibrary lists them, so the picker and the Models view show
// one list), and the command line's and the settings' model where each lies
// outside the library, those first, each listed once by resolved path, with
// what the engine read from it like any library model.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ModelEntry, ModelLibraryEntry } from '../../../common/contract';
import type { Readings } from './inspect';

export async function listModels(
  library: readonly ModelLibraryEntry[],
  fromSettings: string | null,
  fromCommandLine: string | null,
  selected: string | null,
  readings: Readings,
): Promise<ModelEntry[]> {
  const chosen = selected === null ? null : path.resolve(selected);
  const seen = new Set(library.map((m) => m.path));
  const outside: ModelEntry[] = [];
  const add = async (file: string, origin: 'command-line' | 'settings'): Promise<void> => {
    const p = path.resolve(file);
    if (seen.has(p)) return;
    seen.add(p);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch {
      return; // a settings entry whose file was removed: not a choice any more
    }
    if (!st.isFile()) return;
    const name = path.basename(p).replace(/\.gguf$/i, '');
    outside.push({ path: p, name, size_bytes: st.size, origin, source: null, sha256: null, added_ms: null, ...(await readings.read(p, st)), selected: p === chosen });
  };
  if (fromCommandLine !== null) await add(fromCommandLine, 'command-line');
  if (fromSettings !== null) await add(fromSettings, 'settings');
  // The library's paths are absolute already (its folder is resolved).
  return [...outside, ...library.map((m) => ({ ...m, selected: m.path === chosen }))];
}
