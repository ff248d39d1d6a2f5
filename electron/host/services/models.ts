// The models the UI can choose from: every .gguf in the data folder's
// models/, plus the one in the settings and the one given on the command
// line, each listed once (by resolved path), largest choice of origin first.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ModelEntry } from '../../../common/contract';

export async function listModels(
  folder: string,
  fromSettings: string | null,
  fromCommandLine: string | null,
  selected: string | null,
): Promise<ModelEntry[]> {
  const found = new Map<string, ModelEntry['origin']>();
  if (fromCommandLine !== null) found.set(path.resolve(fromCommandLine), 'command-line');
  if (fromSettings !== null && !found.has(path.resolve(fromSettings))) found.set(path.resolve(fromSettings), 'settings');
  let names: string[] = [];
  try {
    names = await fs.promises.readdir(folder);
  } catch {
    // No models/ folder yet: nothing imported.
  }
  for (const n of names.filter((n) => n.toLowerCase().endsWith('.gguf')).sort()) {
    const p = path.resolve(folder, n);
    if (!found.has(p)) found.set(p, 'library');
  }
  const chosen = selected === null ? null : path.resolve(selected);
  const entries: ModelEntry[] = [];
  for (const [file, origin] of found) {
    let size: number;
    try {
      const st = await fs.promises.stat(file);
      if (!st.isFile()) continue;
      size = st.size;
    } catch {
      continue; // a settings entry whose file was removed: not a choice any more
    }
    entries.push({ path: file, name: path.basename(file).replace(/\.gguf$/i, ''), size_bytes: size, origin, selected: file === chosen });
  }
  return entries;
}
