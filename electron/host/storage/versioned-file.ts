// One JSON document on disk with a format name and a version:
//   {"format": "keymate-settings", "version": 1, "data": {...}}
// Loading migrates an older version step by step (v1 -> v2 -> ...) and checks
// the result against the current schema. A file that cannot be understood
// (not JSON, another format, a failed migration or check, a version from a
// newer Keymate) is never reset silently: it is renamed aside to
// <name>.corrupt-<time> (or .newer-<time>), the defaults are used, and the
// caller gets a notice to show the user. A file that cannot be READ (no
// permission, I/O error) is not corrupt: that is thrown, so the caller can
// refuse to write over something it did not see.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';

import { removeStaleTemps, syncFolder, writeFileAtomic } from './atomic-file';

/** Turns data of version `from` into data of version `from + 1`. */
export interface Migration {
  readonly from: number;
  migrate(data: unknown): unknown;
}

export interface VersionedFormat<T> {
  /** "settings" -> format "keymate-settings". */
  readonly kind: string;
  readonly version: number;
  readonly schema: z.ZodType<T>;
  readonly migrations: readonly Migration[];
  defaults(): T;
}

export type LoadStatus = 'loaded' | 'created' | 'migrated' | 'kept-aside';

export interface Loaded<T> {
  data: T;
  status: LoadStatus;
  /** kept-aside: where the unreadable file went, and why it was set aside. */
  keptAs?: string;
  problem?: string;
}

class Unusable extends Error {
  constructor(
    message: string,
    readonly suffix: 'corrupt' | 'newer' = 'corrupt',
  ) {
    super(message);
  }
}

export function formatName(kind: string): string {
  return `keymate-${kind}`;
}

export function serialize<T>(format: VersionedFormat<T>, data: T): string {
  return JSON.stringify({ format: formatName(format.kind), version: format.version, data }, null, 1) + '\n';
}

export async function loadVersioned<T>(file: string, format: VersionedFormat<T>, now: () => Date = () => new Date()): Promise<Loaded<T>> {
  await removeStaleTemps(file);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { data: format.defaults(), status: 'created' };
    throw new Error(`${file}: cannot be read: ${(e as Error).message}`);
  }
  try {
    const { data, migrated } = decode(text, format);
    return { data, status: migrated ? 'migrated' : 'loaded' };
  } catch (e) {
    if (!(e instanceof Unusable)) throw e;
    const keptAs = `${file}.${e.suffix}-${now().toISOString().replace(/[:.]/g, '-')}`;
    await fs.promises.rename(file, keptAs);
    await syncFolder(path.dirname(file));
    return { data: format.defaults(), status: 'kept-aside', keptAs, problem: e.message };
  }
}

function decode<T>(text: string, format: VersionedFormat<T>): { data: T; migrated: boolean } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Unusable(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Unusable('not a JSON object');
  const { format: name, version, data } = doc as Record<string, unknown>;
  if (name !== formatName(format.kind)) throw new Unusable(`not a ${formatName(format.kind)} file (format ${JSON.stringify(name)})`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new Unusable(`bad version ${JSON.stringify(version)}`);
  if (version > format.version) {
    throw new Unusable(`written by a newer Keymate (version ${version}; this one reads up to ${format.version})`, 'newer');
  }
  let current = data;
  for (let v = version; v < format.version; v++) {
    const step = format.migrations.find((m) => m.from === v);
    if (step === undefined) throw new Unusable(`no migration from version ${v}`);
    try {
      current = step.migrate(current);
    } catch (e) {
      throw new Unusable(`migration from version ${v} failed: ${(e as Error).message}`);
    }
  }
  const checked = format.schema.safeParse(current);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue !== undefined && issue.path.length > 0 ? issue.path.map(String).join('.') + ': ' : '';
    throw new Unusable(`does not match version ${format.version}: ${where}${issue?.message ?? 'invalid'}`);
  }
  return { data: checked.data, migrated: version !== format.version };
}

export async function saveVersioned<T>(file: string, format: VersionedFormat<T>, data: T): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, serialize(format, data));
}
