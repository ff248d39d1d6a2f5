// Names in the model library: a model named N is the file models/N.gguf, its
// record models/N.gguf.json, and while it downloads models/N.gguf.part with
// models/N.gguf.part.json (and models/N.gguf.part.lock while a process writes
// the part). A name is one plain path segment, so no name can
// reach outside the folder or hide as a dot file.
import * as path from 'node:path';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

export const GGUF_EXT = '.gguf';
export const RECORD_EXT = '.gguf.json';
export const PART_EXT = '.gguf.part';
export const PART_RECORD_EXT = '.gguf.part.json';
export const PART_LOCK_EXT = '.gguf.part.lock';

/** Throws one line when `name` cannot be a library name. */
export function checkName(name: string): string {
  const bare = stripGguf(name);
  if (!NAME.test(bare)) {
    throw new Error(`models: name '${name.slice(0, 80)}' is not usable: use letters, digits, '.', '_', '+' or '-' (at most 200), starting with a letter or digit`);
  }
  return bare;
}

/** A usable name made from a file name or a URL's last segment ("Qwen2.5 0.5B.gguf" -> "Qwen2.5-0.5B"). */
export function nameFrom(fileName: string): string {
  const cleaned = stripGguf(fileName)
    .replace(/[^A-Za-z0-9._+-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200);
  return cleaned === '' ? 'model' : cleaned;
}

/** The name a URL's file gets: its last path segment, decoded. */
export function nameFromUrl(url: URL): string {
  const last = url.pathname.split('/').filter((s) => s !== '').pop() ?? '';
  let decoded = last;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    // a malformed escape: the raw segment is still a fine source for a name
  }
  return nameFrom(decoded);
}

export function stripGguf(name: string): string {
  return name.toLowerCase().endsWith(GGUF_EXT) ? name.slice(0, -GGUF_EXT.length) : name;
}

export interface LibraryPaths {
  model: string;
  record: string;
  part: string;
  partRecord: string;
  /** Held by the one process writing the part (download/part-lock.ts). */
  partLock: string;
}

export function libraryPaths(folder: string, name: string): LibraryPaths {
  const base = path.join(folder, name);
  return { model: base + GGUF_EXT, record: base + RECORD_EXT, part: base + PART_EXT, partRecord: base + PART_RECORD_EXT, partLock: base + PART_LOCK_EXT };
}
