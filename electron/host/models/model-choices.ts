// The models the UI can choose from (models.list): the library's (models/ in the data
// folder, as ModelLibrary lists them, so the picker and the Models view
// always agree), plus the one in the settings and the one given on the
// command line, each listed once (by resolved path), the command line's first.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ModelEntry, ModelLibraryEntry } from '../../../common/contract';

type LibraryModel = Pick<ModelLibraryEntry, 'path' | 'name' | 'size_bytes'>;

export async function listModels(
  library: readonly LibraryModel[],
  fromSettings: string | null,
  fromCommandLine: string | null,
  selected: string | null,
): Promise<ModelEntry[]> {
  const chosen = selected === null ? null : path.resolve(selected);
  const entries: ModelEntry[] = [];
  const seen = new Set<string>();
  const outside = async (file: string, origin: 'command-line' | 'settings'): Promise<void> => {
    const p = path.resolve(file);
    if (seen.has(p)) return;
    seen.add(p);
    try {
      const st = await fs.promises.stat(p);
      if (st.isFile()) entries.push({ path: p, name: path.basename(p).replace(/\.gguf$/i, ''), size_bytes: st.size, origin, selected: p === chosen });
    } catch {
      // a settings entry whose file was removed: not a choice any more
    }
  };
  if (fromCommandLine !== null) await outside(fromCommandLine, 'command-line');
  if (fromSettings !== null) await outside(fromSettings, 'settings');
  for (const m of library) {
    const p = path.resolve(m.path);
    if (seen.has(p)) continue;
    seen.add(p);
    entries.push({ path: p, name: m.name, size_bytes: m.size_bytes, origin: 'library', selected: p === chosen });
  }
  return entries;
}
